"""What becomes of an offer's SMS: it goes in the lane of the task's urgency; it is dropped,
never sent, once the offer is filled, expired, withdrawn or answered in the app; nobody is told
"no longer needed" about an offer they never got; and an offer whose SMS cannot reach an
SMS-only volunteer moves dispatch on to the next person at once."""

import datetime as dt

import pytest
from django.utils import timezone

from notifications.lanes import Lane
from notifications.models import SmsMessage, SmsStatus
from notifications.tasks import send_sms
from tests.volunteers.conftest import new_task
from volunteers.dispatch import offer_next_wave
from volunteers.dispatch.sweep import sweep_dispatch
from volunteers.models import ContactChannel, Offer, TaskEvent
from volunteers.services import respond_to_offer

from .conftest import helper
from .test_sms_offers import text_in

pytestmark = pytest.mark.django_db


def make_task(world, committed, *, send=True, **kwargs):
    """A task whose wave is written; with send=False its offer SMS stay in the outbox."""
    kwargs.setdefault("headcount", 1)
    kwargs.setdefault("priority", "URGENT")
    if send:
        with committed():
            return new_task(world.grid_a1, title="送药上门", **kwargs)
    task = new_task(world.grid_a1, title="送药上门", **kwargs)
    offer_next_wave(task.pk)  # what the worker would do after commit; the SMS are not sent
    return task


def offer_sms(offer) -> SmsMessage:
    return SmsMessage.objects.get(idempotency_key=f"task-offer:{offer.pk}")


@pytest.mark.parametrize(("priority", "source", "lane"), [
    ("LIFE_SAFETY", "STAFF", Lane.LIFE_SAFETY), ("URGENT", "SAFETY_CHECK", Lane.LIFE_SAFETY),
    ("URGENT", "STAFF", Lane.STANDARD), ("ROUTINE", "STAFF", Lane.STANDARD)])
def test_an_offer_sms_takes_the_lane_of_its_task(world, committed, priority, source, lane):
    v = helper(world.grid_a1, 100, channel=ContactChannel.SMS)
    make_task(world, committed, send=False, priority=priority, source=source)
    assert offer_sms(Offer.objects.get(user=v.user)).lane == lane


def test_a_filled_task_drops_the_offers_not_yet_sent_and_tells_only_those_texted(world, committed, fake_twilio):
    first = helper(world.grid_a1, 100, channel=ContactChannel.SMS)
    second = helper(world.grid_a1, 200, channel=ContactChannel.SMS)
    make_task(world, committed, send=False)
    send_sms(offer_sms(Offer.objects.get(user=first.user)).pk)  # only the first one's SMS has left
    with committed():
        respond_to_offer(Offer.objects.get(user=first.user), accept=True)
    unsent = offer_sms(Offer.objects.get(user=second.user))
    assert (unsent.status, unsent.error_message) == (SmsStatus.SUPERSEDED, "offer withdrawn: staffed")
    assert Offer.objects.get(user=second.user).status == "WITHDRAWN"
    assert not SmsMessage.objects.filter(purpose="task_offer_withdrawn").exists()  # second never heard of it
    assert [m["to"] for m in fake_twilio.messages] == [str(first.user.phone)]


def test_an_offer_answered_in_the_app_drops_its_sms(world, committed):
    v = helper(world.grid_a1, 100, channel=ContactChannel.BOTH)
    make_task(world, committed, send=False)
    respond_to_offer(Offer.objects.get(user=v.user), accept=False)
    assert offer_sms(Offer.objects.get(user=v.user)).status == SmsStatus.SUPERSEDED


def test_an_expired_offer_drops_its_sms(world, committed):
    v = helper(world.grid_a1, 100, channel=ContactChannel.SMS)
    make_task(world, committed, send=False)
    sweep_dispatch(now=timezone.now() + dt.timedelta(hours=1))
    offer = Offer.objects.get(user=v.user)
    assert offer.status == "EXPIRED" and offer_sms(offer).status == SmsStatus.SUPERSEDED


def test_a_cancelled_task_drops_the_offers_not_yet_sent(world, committed):
    from volunteers.services import cancel_task

    v = helper(world.grid_a1, 100, channel=ContactChannel.SMS)
    task = make_task(world, committed, send=False)
    cancel_task(task, by=world.worker_a1, reason="误报")
    assert offer_sms(Offer.objects.get(user=v.user)).status == SmsStatus.SUPERSEDED


def test_an_offer_that_cannot_be_delivered_moves_dispatch_on_at_once(world, committed, fake_twilio):
    dead = helper(world.grid_a1, 100, channel=ContactChannel.SMS)
    nearest_next = helper(world.grid_a1, 300, channel=ContactChannel.SMS)
    fake_twilio.fail_to(str(dead.user.phone), 21211)
    task = make_task(world, committed, priority="LIFE_SAFETY")  # one wave offers both (wave factor 3)
    first = Offer.objects.get(user=dead.user)
    assert first.status == "EXPIRED"  # closed at once, not after its deadline
    event = TaskEvent.objects.get(task=task, kind="UNDELIVERABLE")
    assert event.offer_id == first.pk and event.data["code"] == "21211"
    assert Offer.objects.get(user=nearest_next.user).status == "PENDING"
    dead.refresh_from_db()
    assert dead.expired_count == 0  # not held against them


def test_the_next_person_is_offered_when_an_undeliverable_offer_closes(world, committed, fake_twilio, settings):
    settings.DISPATCH_DEFAULTS = {**settings.DISPATCH_DEFAULTS,
                                  "URGENT": {**settings.DISPATCH_DEFAULTS["URGENT"], "wave_factor": 1.0}}
    dead = helper(world.grid_a1, 100, channel=ContactChannel.SMS)
    backup = helper(world.grid_a1, 300, channel=ContactChannel.SMS)
    fake_twilio.fail_to(str(dead.user.phone), 21211)
    make_task(world, committed)
    assert Offer.objects.get(user=dead.user).status == "EXPIRED"
    offer = Offer.objects.get(user=backup.user)  # offered at once, not after the first offer's 10 minutes
    assert offer.status == "PENDING" and offer.wave == 2


def test_a_volunteer_who_also_uses_the_app_keeps_the_offer(world, committed, fake_twilio):
    v = helper(world.grid_a1, 100, channel=ContactChannel.BOTH)
    fake_twilio.fail_to(str(v.user.phone), 21211)
    make_task(world, committed)
    assert Offer.objects.get(user=v.user).status == "PENDING"


def test_cancel_in_chinese_declines_an_offer(world, committed, client, fake_twilio):
    v = helper(world.grid_a1, 100, channel=ContactChannel.SMS)
    make_task(world, committed)
    assert text_in(client, committed, v.user.phone, "取消").outcome == "answered"
    assert Offer.objects.get(user=v.user).status == "DECLINED"
