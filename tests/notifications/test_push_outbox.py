"""The push outbox (issue 15): rows written with the notification, sent after commit through
the real transports (the APNs one against the fake APNs server), claimed once, dead tokens
pruned, transient errors retried, a device that changed hands never woken, superseding, and
acknowledgeNotification as what counts as reached."""

import datetime as dt

import pytest
from django.utils import timezone
from graphql_relay import to_global_id

from notifications import push_outbox
from notifications.devices import register_device
from notifications.lanes import Lane
from notifications.models import Device, DevicePush, Notification, PushStatus, SmsMessage
from notifications.outbox import queue_sms, supersede_messages
from notifications.push import PushError, locmem
from notifications.services import notify, notify_many
from tests.operations import operation

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("push_isolation")]
ACK = operation("notifications/AcknowledgeNotification")
IOS = "a1" * 32
IOS_2 = "b2" * 32


def device(user, token=IOS, provider="apns", platform="ios"):
    return register_device(user, platform=platform, provider=provider, token=token)


def drain(provider="apns"):
    return push_outbox.drain(provider, max_seconds=10)


def test_a_push_row_per_live_device_is_sent_after_commit_with_global_ids(world, django_capture_on_commit_callbacks):
    device(world.resident)
    device(world.resident, token="1a0018970a2b3c4d5e6", provider="jpush", platform="android")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        n = notify(world.resident, kind="offer", title="新任务", body="送药", data={"offerId": to_global_id("Offer", 7)},
                   related=world.grid_a1)
        assert DevicePush.objects.filter(notification=n).count() == 2 and locmem.outbox == []
    assert callbacks  # the drainers start only after commit
    assert drain("apns").sent == 1 and drain("jpush").sent == 1
    sent = {p.provider: p.message for p in locmem.outbox}
    assert sent["apns"].token == IOS and sent["jpush"].token == "1a0018970a2b3c4d5e6"
    assert sent["apns"].data == {"offerId": to_global_id("Offer", 7), "notificationId": to_global_id("Notification", n.pk),
                                 "kind": "offer", "isDrill": "false"}
    assert set(DevicePush.objects.values_list("status", flat=True)) == {PushStatus.SENT}
    assert drain("apns").attempted == 0  # claimed once: nothing is sent twice


def test_no_live_device_no_push_row(world, settings):
    settings.PUSH_DEVICE_TTL_DAYS = 30
    old = device(world.resident)
    Device.objects.filter(pk=old.pk).update(last_seen_at=timezone.now() - dt.timedelta(days=40))
    notify(world.resident, kind="offer", title="t", body="b")
    notify(world.other_resident, kind="offer", title="t", body="b")
    assert not DevicePush.objects.exists()


def test_life_safety_pushes_go_first_vulnerable_first(world):
    device(world.resident)
    device(world.other_resident, token=IOS_2)
    notify(world.resident, kind="task.news", title="courtesy", body="b", lane=Lane.COURTESY)
    notify_many([world.resident, world.other_resident], kind="safety_check", title="报平安", body="您是否平安？",
                vulnerable_users={world.other_resident.pk}, collapse_key="safety-check-1")
    drain()
    order = [(p.message.token, p.message.title) for p in locmem.outbox]
    assert order == [(IOS_2, "报平安"), (IOS, "报平安"), (IOS, "courtesy")]
    life_safety = locmem.outbox[0].message
    assert life_safety.critical and life_safety.priority == "high" and life_safety.collapse_key == "safety-check-1"
    assert locmem.outbox[2].message.priority == "normal"


def test_a_dead_token_prunes_the_device_and_counts_as_failed(world):
    device(world.resident)
    locmem.fail_token(IOS, PushError("Unregistered", "Unregistered", invalid_token=True))
    notify(world.resident, kind="offer", title="t", body="b")
    report = drain()
    assert report.failed == 1 and not Device.objects.exists()
    push = DevicePush.objects.get()
    assert push.status == PushStatus.FAILED and push.error_code == "Unregistered"


def test_transient_errors_are_retried_then_given_up(world, settings):
    settings.PUSH_MAX_ATTEMPTS = 2
    device(world.resident)
    locmem.fail_token(IOS, PushError("busy", "TooManyRequests", retry_after=30))
    notify(world.resident, kind="offer", title="t", body="b")
    report = drain()
    push = DevicePush.objects.get()
    assert push.status == PushStatus.QUEUED and push.attempts == 1 and push.error_code == "TooManyRequests"
    assert 29 <= (push.next_attempt_at - timezone.now()).total_seconds() <= 30 and 29 <= report.retry_in <= 30
    assert drain().attempted == 0  # not due yet
    DevicePush.objects.update(next_attempt_at=timezone.now())
    drain()
    push.refresh_from_db()
    assert push.status == PushStatus.FAILED and push.error_code == "retries_exhausted" and push.attempts == 2
    assert Device.objects.exists()  # a busy provider is no reason to forget the phone


def test_a_device_that_changed_hands_is_never_woken_for_its_old_owner(world):
    device(world.resident)
    notify(world.resident, kind="offer", title="给王秀英", body="私人")
    device(world.other_resident)  # the same token, now someone else's phone
    drain()
    assert locmem.outbox == []
    push = DevicePush.objects.get()
    assert push.status == PushStatus.REFUSED and push.error_code == "device_gone"


def test_superseding_drops_queued_pushes_with_the_sms(world):
    device(world.resident)
    notify(world.resident, kind="alert", title="台风", body="请留在室内", related=world.grid_a1)
    queue_sms(template="login.code", context={"code": "1", "minutes": 5}, purpose="alert", idempotency_key="k1",
              phone="+8613500000001", related=world.grid_a1)
    supersede_messages(world.grid_a1, reason="alert cancelled")
    assert DevicePush.objects.get().status == PushStatus.SUPERSEDED
    assert SmsMessage.objects.get().status == "superseded"
    drain()
    assert locmem.outbox == []


def test_a_stuck_sending_row_goes_back_to_the_queue(world, settings):
    device(world.resident)
    notify(world.resident, kind="offer", title="t", body="b")
    [row] = push_outbox.claim_batch("apns", max_lane=None, size=10)
    DevicePush.objects.filter(pk=row.pk).update(claimed_at=timezone.now() - dt.timedelta(seconds=600))
    assert push_outbox.recover_stuck() == 1
    assert drain().sent == 1


def test_acknowledging_is_what_counts_and_only_your_own(world, gql):
    device(world.resident)
    n = notify(world.resident, kind="offer", title="t", body="b")
    gid = to_global_id("Notification", n.pk)
    _, body = gql(ACK, {"notificationId": gid, "opened": False}, user=world.resident)
    shown = body["data"]["acknowledgeNotification"]
    assert shown["errors"] == [] and shown["notification"]["receivedAt"] and shown["notification"]["acknowledgedAt"] is None
    _, body = gql(ACK, {"notificationId": gid}, user=world.other_resident)
    refused = body["data"]["acknowledgeNotification"]
    assert refused["notification"] is None and refused["errors"][0]["code"] == "NOT_FOUND"
    assert Notification.objects.get().acknowledged_at is None
    _, body = gql(ACK, {"notificationId": gid}, user=world.resident)
    opened = body["data"]["acknowledgeNotification"]["notification"]
    assert opened["acknowledgedAt"] and opened["isRead"]
    first = Notification.objects.get().acknowledged_at
    gql(ACK, {"notificationId": gid}, user=world.resident)
    assert Notification.objects.get().acknowledged_at == first  # idempotent


def test_the_real_apns_transport_carries_the_push_to_the_fake_apple_server(world, fake_apns):
    device(world.resident)
    device(world.other_resident, token=IOS_2)
    fake_apns.fail_token(IOS_2, "BadDeviceToken")
    n = notify_many([world.resident, world.other_resident], kind="alert", title="台风预警", body="请留在室内",
                    data={"alertId": to_global_id("Alert", 3)}, collapse_key="alert-3", lane=Lane.LIFE_SAFETY)
    assert n == 2
    report = drain()
    assert report.sent == 1 and report.failed == 1
    [push] = fake_apns.pushes
    assert push.token == IOS and push.headers["apns-collapse-id"] == "alert-3"
    assert push.payload["aps"]["alert"] == {"title": "台风预警", "body": "请留在室内"}
    assert push.payload["alertId"] == to_global_id("Alert", 3) and push.payload["kind"] == "alert"
    assert push.payload["ref"] == "alert-3" and "notificationId" not in push.payload  # one payload for all
    assert list(Device.objects.values_list("token", flat=True)) == [IOS]  # the bad token was pruned


def test_a_push_sent_alike_is_acknowledged_by_its_ref(world, gql):
    device(world.resident)
    notify_many([world.resident, world.other_resident], kind="alert", title="台风", body="b", collapse_key="alert-9")
    drain()
    assert locmem.outbox[0].message.data["ref"] == "alert-9"
    _, body = gql(ACK, {"ref": "alert-9"}, user=world.resident)
    acked = body["data"]["acknowledgeNotification"]
    assert acked["errors"] == [] and acked["notification"]["acknowledgedAt"]
    _, body = gql(ACK, {"ref": "alert-9"}, user=world.other_resident)  # no push of theirs has it
    assert body["data"]["acknowledgeNotification"]["errors"][0]["code"] == "NOT_FOUND"
    _, body = gql(ACK, {}, user=world.resident)
    assert body["data"]["acknowledgeNotification"]["errors"][0]["code"] == "INVALID"
    assert Notification.objects.filter(acknowledged_at__isnull=False).count() == 1
