"""An offer wakes the volunteer's phone (issue 15): its pushes ride the lane of its task's
urgency — a life-safety task's, and a welfare visit's, in the life-safety lane, sent by the
life-safety drainer ahead of everything else; every push about one offer shares the collapse
key `offer-<id>` (the payload's `ref`), so "no longer needed" replaces the offer on the phone;
and a push still queued when its offer closes (answered, expired, withdrawn, taken by staff,
undeliverable) is dropped, never handed to the provider."""

import datetime as dt

import pytest
from django.utils import timezone
from graphql_relay import to_global_id

from notifications import push_outbox
from notifications.devices import register_device
from notifications.lanes import Lane
from notifications.models import DevicePush, PushStatus, SmsMessage
from notifications.push import locmem
from notifications.tasks import drain_life_safety_pushes, drain_pushes, send_sms
from tests.volunteers.conftest import new_task
from volunteers.dispatch import offer_next_wave
from volunteers.dispatch.sweep import sweep_dispatch
from volunteers.models import ContactChannel, Offer
from volunteers.services import (
    TeamSpec,
    add_person,
    cancel_task,
    offer_task_to_team,
    respond_to_offer,
    save_team,
)

from .conftest import helper

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("push_isolation")]


_tokens = iter(range(10**6))


def with_phone(volunteer):
    """The volunteer's app registered a live iPhone."""
    register_device(volunteer.user, platform="ios", provider="apns", token=f"{next(_tokens):064x}")
    return volunteer


def make_task(world, **kwargs):
    """A task whose first wave is written and not yet committed: its pushes wait in the outbox
    (no drainer has run), as they do behind a provider's pace."""
    kwargs.setdefault("headcount", 1)
    kwargs.setdefault("priority", "URGENT")
    task = new_task(world.grid_a1, title="送药上门", **kwargs)
    offer_next_wave(task.pk)
    return task


def offer_push(volunteer) -> DevicePush:
    return DevicePush.objects.get(user=volunteer.user, purpose="task.offer")


def sent_kinds() -> list[str]:
    return [p.message.data["kind"] for p in locmem.outbox]


@pytest.mark.parametrize(("priority", "source", "lane"), [
    ("LIFE_SAFETY", "STAFF", Lane.LIFE_SAFETY), ("URGENT", "SAFETY_CHECK", Lane.LIFE_SAFETY),
    ("URGENT", "STAFF", Lane.STANDARD), ("ROUTINE", "STAFF", Lane.STANDARD)])
def test_an_offer_push_takes_the_lane_of_its_task(world, priority, source, lane):
    v = with_phone(helper(world.grid_a1, 100))
    make_task(world, priority=priority, source=source)
    assert offer_push(v).lane == lane


def test_a_life_safety_offer_is_sent_first_by_the_life_safety_drainer(world):
    v = with_phone(helper(world.grid_a1, 100))
    make_task(world, priority="LIFE_SAFETY")
    assert drain_life_safety_pushes("apns") == 1  # the life_safety queue's worker, lanes 0-1 only
    [sent] = locmem.outbox
    assert sent.message.data["kind"] == "task.offer" and sent.message.priority == "high" and sent.message.critical
    assert offer_push(v).status == PushStatus.SENT


def test_an_ordinary_offer_is_left_to_the_ordinary_drainer(world):
    v = with_phone(helper(world.grid_a1, 100))
    make_task(world, priority="URGENT")
    assert drain_life_safety_pushes("apns") == 0 and locmem.outbox == []
    assert offer_push(v).status == PushStatus.QUEUED
    assert drain_pushes("apns") == 1
    [sent] = locmem.outbox
    assert sent.message.data["kind"] == "task.offer" and not sent.message.critical


def test_an_offer_sms_and_push_of_a_life_safety_task_share_the_lane(world):
    v = with_phone(helper(world.grid_a1, 100, channel=ContactChannel.BOTH))
    make_task(world, priority="LIFE_SAFETY")
    offer = Offer.objects.get(user=v.user)
    assert SmsMessage.objects.get(pk=offer.sms_message_id).lane == offer_push(v).lane == Lane.LIFE_SAFETY


def test_an_offer_push_carries_the_offer_as_its_collapse_key_and_ref(world):
    v = with_phone(helper(world.grid_a1, 100))
    task = make_task(world)
    offer = Offer.objects.get(user=v.user)
    assert offer_push(v).collapse_key == f"offer-{offer.pk}"
    drain_pushes("apns")
    [sent] = locmem.outbox
    assert sent.message.collapse_key == f"offer-{offer.pk}"
    assert sent.message.data == {
        "offerId": to_global_id("Offer", offer.pk), "taskId": to_global_id("Task", task.pk),
        "expiresAt": offer.expires_at.isoformat(), "kind": "task.offer", "isDrill": "false", "ref": f"offer-{offer.pk}",
    }
    # The app acknowledges with the ref: the person's offer notification is found.
    notification = v.user.notifications.get(kind="task.offer")
    assert push_outbox.notification_for_ref(v.user, f"offer-{offer.pk}") == notification.pk


def test_a_withdrawn_offer_drops_its_queued_push_and_the_withdrawal_replaces_it(world):
    v = with_phone(helper(world.grid_a1, 100))
    task = make_task(world)
    offer = Offer.objects.get(user=v.user)
    cancel_task(task, by=world.worker_a1, reason="误报")
    push = offer_push(v)
    assert (push.status, push.error_message) == (PushStatus.SUPERSEDED, "offer withdrawn: cancelled")
    drain_pushes("apns")
    assert sent_kinds() == ["task.offer.withdrawn"]  # the offer itself never reached the provider
    assert locmem.outbox[0].message.collapse_key == f"offer-{offer.pk}"  # replaces it if it had


def test_an_expired_offer_drops_its_queued_push(world):
    v = with_phone(helper(world.grid_a1, 100))
    make_task(world)
    sweep_dispatch(now=timezone.now() + dt.timedelta(hours=1))
    assert Offer.objects.get(user=v.user).status == "EXPIRED"
    assert offer_push(v).status == PushStatus.SUPERSEDED
    drain_pushes("apns")
    assert "task.offer" not in sent_kinds()


@pytest.mark.parametrize("accept", [True, False])
def test_an_answered_offer_drops_its_queued_push(world, accept):
    v = with_phone(helper(world.grid_a1, 100))
    make_task(world)
    respond_to_offer(Offer.objects.get(user=v.user), accept=accept)
    assert offer_push(v).status == PushStatus.SUPERSEDED
    drain_pushes("apns")
    assert "task.offer" not in sent_kinds()


def test_an_offer_taken_by_staff_adding_the_person_drops_its_queued_push(world):
    v = with_phone(helper(world.grid_a1, 100))
    task = make_task(world, headcount=2)
    add_person(task, v, by=world.worker_a1)
    assert Offer.objects.get(user=v.user).status == "ACCEPTED"
    assert (offer_push(v).status, offer_push(v).error_message) == (PushStatus.SUPERSEDED, "offer answered: added by staff")
    drain_pushes("apns")
    assert "task.offer" not in sent_kinds()


def test_an_undeliverable_offer_drops_its_queued_push(world, fake_twilio):
    v = with_phone(helper(world.grid_a1, 100, channel=ContactChannel.SMS))
    fake_twilio.fail_to(str(v.user.phone), 21211)
    make_task(world, priority="LIFE_SAFETY")
    offer = Offer.objects.get(user=v.user)
    send_sms(offer.sms_message_id)  # the carrier refuses the number: the offer closes at once
    assert Offer.objects.get(pk=offer.pk).status == "EXPIRED"
    assert (offer_push(v).status, offer_push(v).error_message) == (PushStatus.SUPERSEDED, "offer undeliverable")
    drain_life_safety_pushes("apns")
    assert "task.offer" not in sent_kinds()


def test_a_push_already_sent_is_not_touched_when_the_offer_closes(world):
    v = with_phone(helper(world.grid_a1, 100))
    task = make_task(world)
    drain_pushes("apns")
    cancel_task(task, by=world.worker_a1, reason="误报")
    assert offer_push(v).status == PushStatus.SENT
    drain_pushes("apns")
    assert sent_kinds() == ["task.offer", "task.offer.withdrawn"]


def test_a_team_offer_of_a_life_safety_task_wakes_the_leader_in_the_life_safety_lane(world):
    leader = with_phone(helper(world.grid_a1, 100, name="张队长"))
    team = save_team(TeamSpec(name="蓝天救援队", kind="RESCUE", leader=leader.user, skills=[]), area=world.com_a, by=None)
    task = new_task(world.grid_a1, title="转移低洼住户", headcount=6, priority="LIFE_SAFETY", dispatch=False)
    offer = offer_task_to_team(task, team, by=world.admin_a)
    push = DevicePush.objects.get(user=leader.user, purpose="task.team_offer")
    assert (push.lane, push.collapse_key) == (Lane.LIFE_SAFETY, f"offer-{offer.pk}")
