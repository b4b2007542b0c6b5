"""Answering offers: first come, first served, decided in the database. Winners get a place,
the task is STAFFED when full and the other pending offers are withdrawn (their people
told); a "yes" after the last place went is LATE and thanked; an answer at the instant the
offer expires has exactly one outcome."""

import datetime as dt

import pytest

from core.errors import ValidationError
from notifications.models import Notification, SmsMessage
from tests.operations import operation
from tests.volunteers.conftest import gid, new_task
from volunteers.models import (
    ContactChannel,
    Offer,
    OfferStatus,
    Task,
    TaskAssignment,
    TaskEvent,
    Volunteer,
)
from volunteers.services import respond_to_offer

from .conftest import error_codes, helper

pytestmark = pytest.mark.django_db

RESPOND = operation("tasks/RespondToOffer")
MY_OFFERS = operation("tasks/MyOffers")


def make_task(world, committed, headcount=2, **kwargs):
    kwargs.setdefault("priority", "URGENT")
    with committed():
        return new_task(world.grid_a1, title="搬运物资", headcount=headcount, **kwargs)


def wave(task):
    return list(Offer.objects.filter(task=task).select_related("user").order_by("rank"))


def test_accepting_takes_a_place(world, committed, clock):
    v = helper(world.grid_a1, 100)
    task = make_task(world, committed, headcount=1)
    [offer] = wave(task)
    clock.advance(42)
    with committed():
        answer = respond_to_offer(offer, accept=True)
    assert answer.outcome == "ACCEPTED" and answer.assignment.user == v.user and answer.assignment.offer == offer
    task.refresh_from_db()
    assert (task.status, task.filled_count) == ("STAFFED", 1)
    assert task.first_accepted_at == task.staffed_at == clock.now
    v.refresh_from_db()
    assert (v.offered_count, v.accepted_count) == (1, 1)
    assert list(TaskEvent.objects.filter(task=task, kind__in=["ACCEPTED", "STAFFED"]).values_list("kind", flat=True)) == ["ACCEPTED", "STAFFED"]


def test_when_the_task_is_full_pending_offers_are_withdrawn_and_their_people_told(world, committed):
    app_only = helper(world.grid_a1, 100)
    texted = helper(world.grid_a1, 200, channel=ContactChannel.BOTH)
    winner = helper(world.grid_a1, 300)
    task = make_task(world, committed, headcount=1, priority="LIFE_SAFETY")  # 1 x 3.0 = 3 offers
    with committed():
        respond_to_offer(Offer.objects.get(task=task, user=winner.user), accept=True)
    withdrawn = {o.user_id: o for o in Offer.objects.filter(task=task, status=OfferStatus.WITHDRAWN)}
    assert set(withdrawn) == {app_only.user_id, texted.user_id}
    assert {o.withdrawn_reason for o in withdrawn.values()} == {"STAFFED"}
    for person in (app_only, texted):
        told = Notification.objects.get(user=person.user, kind="task.offer.withdrawn")
        assert told.body == "任务“搬运物资”已满员，无需再答复。谢谢您！"
    # SMS only to the one who was texted the offer.
    assert list(SmsMessage.objects.filter(purpose="task_offer_withdrawn").values_list("user_id", flat=True)) == [texted.user_id]
    assert TaskEvent.objects.filter(task=task, kind="OFFER_WITHDRAWN").count() == 2


def test_a_yes_after_the_last_place_went_is_late_and_thanked(world, committed):
    first, second = helper(world.grid_a1, 100), helper(world.grid_a1, 200)
    task = make_task(world, committed, headcount=1)
    with committed():
        respond_to_offer(Offer.objects.get(task=task, user=first.user), accept=True)
        answer = respond_to_offer(Offer.objects.get(task=task, user=second.user), accept=True)
    assert answer.outcome == "LATE" and answer.assignment is None
    offer = Offer.objects.get(task=task, user=second.user)
    assert offer.status == "LATE" and offer.answered_at is not None
    assert TaskAssignment.objects.filter(task=task).count() == 1
    second.refresh_from_db()
    assert (second.offered_count, second.accepted_count) == (1, 1)  # they did answer yes
    assert TaskEvent.objects.filter(task=task, kind="LATE", subject=second.user).exists()


def test_a_yes_to_an_offer_withdrawn_as_staffed_takes_a_place_that_came_free(world, committed):
    first, second = helper(world.grid_a1, 100), helper(world.grid_a1, 200)
    task = make_task(world, committed, headcount=1)
    with committed():
        taken = respond_to_offer(Offer.objects.get(task=task, user=first.user), accept=True)
    assert Offer.objects.get(task=task, user=second.user).status == "WITHDRAWN"
    from volunteers.services import withdraw_from_task

    with committed():
        withdraw_from_task(taken.assignment, reason="临时有事")
    with committed():
        answer = respond_to_offer(Offer.objects.get(task=task, user=second.user), accept=True)
    assert answer.outcome == "ACCEPTED" and answer.offer.withdrawn_reason == ""
    task.refresh_from_db()
    assert (task.status, task.filled_count) == ("STAFFED", 1)


def test_a_yes_racing_the_last_place_while_still_pending_is_late(world, committed):
    a, b = helper(world.grid_a1, 100), helper(world.grid_a1, 200)
    task = make_task(world, committed, headcount=1)
    Task.objects.filter(pk=task.pk).update(filled_count=1)  # the last place went a moment ago (its withdrawal skipped b)
    answer = respond_to_offer(Offer.objects.get(task=task, user=b.user), accept=True)
    assert answer.outcome == "LATE" and a.pk


def test_declining_is_recorded_and_not_held_against_anyone(world, committed):
    v = helper(world.grid_a1, 100)
    task = make_task(world, committed, headcount=1)
    with committed():
        answer = respond_to_offer(wave(task)[0], accept=False)
    assert answer.outcome == "DECLINED" and answer.offer.status == "DECLINED"
    v.refresh_from_db()
    assert (v.offered_count, v.declined_count, v.reliability) == (1, 1, 0.75)


def test_an_offer_cannot_be_answered_twice(world, committed):
    helper(world.grid_a1, 100)
    task = make_task(world, committed, headcount=1)
    offer = wave(task)[0]
    respond_to_offer(offer, accept=False)
    with pytest.raises(ValidationError) as refused:
        respond_to_offer(offer, accept=True)
    assert error_codes(refused.value) == ["offer_already_answered"]


def test_a_withdrawn_offer_can_be_declined_no_more(world, committed):
    a, b = helper(world.grid_a1, 100), helper(world.grid_a1, 200)
    task = make_task(world, committed, headcount=1)
    respond_to_offer(Offer.objects.get(task=task, user=a.user), accept=True)
    with pytest.raises(ValidationError) as refused:
        respond_to_offer(Offer.objects.get(task=task, user=b.user), accept=False)
    assert error_codes(refused.value) == ["offer_withdrawn"]


# --- the instant of expiry ----------------------------------------------------------------
def test_an_answer_at_the_instant_of_expiry_is_too_late_and_the_sweep_expires_it(world, committed):
    v = helper(world.grid_a1, 100)
    task = make_task(world, committed, headcount=1)
    offer = wave(task)[0]
    with pytest.raises(ValidationError) as refused:
        respond_to_offer(offer, accept=True, now=offer.expires_at)
    assert error_codes(refused.value) == ["offer_expired"]
    from volunteers.dispatch.sweep import sweep_dispatch as sweep

    with committed():
        sweep(now=offer.expires_at)
    offer.refresh_from_db()
    assert offer.status == "EXPIRED" and not TaskAssignment.objects.exists()
    v.refresh_from_db()
    assert (v.accepted_count, v.expired_count) == (0, 1)


def test_the_sweep_first_then_the_answer_one_outcome(world, committed):
    helper(world.grid_a1, 100)
    task = make_task(world, committed, headcount=1)
    offer = wave(task)[0]
    from volunteers.dispatch.sweep import sweep_dispatch as sweep

    with committed():
        sweep(now=offer.expires_at)
    with pytest.raises(ValidationError) as refused:
        respond_to_offer(offer, accept=True, now=offer.expires_at - dt.timedelta(seconds=1))  # a clock a second behind
    assert error_codes(refused.value) == ["offer_expired"]
    offer.refresh_from_db()
    assert offer.status == "EXPIRED" and not TaskAssignment.objects.exists()


def test_the_answer_first_then_the_sweep_one_outcome(world, committed):
    helper(world.grid_a1, 100)
    task = make_task(world, committed, headcount=1)
    offer = wave(task)[0]
    respond_to_offer(offer, accept=True, now=offer.expires_at - dt.timedelta(microseconds=1))
    from volunteers.dispatch.sweep import sweep_dispatch as sweep

    with committed():
        report = sweep(now=offer.expires_at)
    offer.refresh_from_db()
    assert offer.status == "ACCEPTED" and report.expired == 0 and TaskAssignment.objects.count() == 1


# --- limits -------------------------------------------------------------------------------
def test_the_limit_of_tasks_at_once_is_checked_again_at_yes(world, committed):
    v = helper(world.grid_a1, 100)
    first = make_task(world, committed, headcount=1)
    second = make_task(world, committed, headcount=1)  # offered before the first was accepted
    respond_to_offer(Offer.objects.get(task=first), accept=True)
    with pytest.raises(ValidationError) as refused:
        respond_to_offer(Offer.objects.get(task=second), accept=True)
    assert error_codes(refused.value) == ["too_many_tasks"]
    assert Offer.objects.get(task=second).status == "PENDING" and Task.objects.get(pk=second.pk).filled_count == 0
    assert v.pk


# --- over GraphQL -------------------------------------------------------------------------
def test_a_volunteer_answers_from_the_app_and_a_replay_returns_the_same_result(world, gql, committed):
    v = helper(world.grid_a1, 100)
    task = make_task(world, committed, headcount=1)
    offer = wave(task)[0]
    variables = {"offerId": gid("Offer", offer.pk), "accept": True, "key": "answer-1"}
    with committed():
        first = gql.data(RESPOND, variables, user=v.user)["respondToOffer"]
    assert first["errors"] == [] and first["outcome"] == "ACCEPTED" and first["offer"]["status"] == "ACCEPTED"
    assert first["assignment"]["task"]["location"] == {"latitude": task.lat, "longitude": task.lng}
    again = gql.data(RESPOND, variables, user=v.user)["respondToOffer"]
    assert again == first and TaskAssignment.objects.count() == 1


def test_a_late_yes_in_the_app_is_a_result_not_an_error(world, gql, committed):
    a, b = helper(world.grid_a1, 100), helper(world.grid_a1, 200)
    task = make_task(world, committed, headcount=1)
    respond_to_offer(Offer.objects.get(task=task, user=a.user), accept=True)
    result = gql.data(RESPOND, {"offerId": gid("Offer", Offer.objects.get(task=task, user=b.user).pk), "accept": True},
                      user=b.user)["respondToOffer"]
    assert result["errors"] == [] and result["outcome"] == "LATE" and result["assignment"] is None


@pytest.mark.parametrize("who", ["other_volunteer", "worker_a1", "resident"])
def test_nobody_can_answer_someone_elses_offer(world, gql, committed, who):
    v, other = helper(world.grid_a1, 100), helper(world.grid_a1, 5000)
    task = make_task(world, committed, headcount=1)
    offer = Offer.objects.get(task=task, user=v.user)
    user = other.user if who == "other_volunteer" else getattr(world, who)
    status, body = gql(RESPOND, {"offerId": gid("Offer", offer.pk), "accept": True}, user=user)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    offer.refresh_from_db()
    assert offer.status == "PENDING" and not TaskAssignment.objects.exists()


def test_an_expired_offer_answered_in_the_app_gets_a_typed_error(world, gql, committed, clock):
    v = helper(world.grid_a1, 100)
    task = make_task(world, committed, headcount=1)
    clock.advance(601)
    result = gql.data(RESPOND, {"offerId": gid("Offer", wave(task)[0].pk), "accept": True}, user=v.user)["respondToOffer"]
    assert [e["code"] for e in result["errors"]] == ["OFFER_EXPIRED"] and result["offer"] is None


def test_my_offers_lists_only_mine_with_the_place_hidden_until_accepted(world, gql, committed):
    v, other = helper(world.grid_a1, 100, channel=ContactChannel.BOTH), helper(world.grid_a1, 200)
    task = make_task(world, committed, headcount=1, priority="ROUTINE", is_drill=True)
    data = gql.data(MY_OFFERS, {"pendingOnly": True}, user=v.user)["myOffers"]
    assert data["totalCount"] == 1
    node = data["edges"][0]["node"]
    offer = Offer.objects.get(user=v.user)
    assert node["id"] == gid("Offer", offer.pk) and node["smsCode"] == offer.sms_code and len(offer.sms_code) >= 2
    assert node["isDrill"] is True and 1700 < node["secondsLeft"] <= 1800
    assert node["task"]["title"] == "搬运物资" and node["task"]["area"]["name"] == "甲一网格"
    assert node["distanceM"] == pytest.approx(100, rel=0.02)
    assert gql.data(MY_OFFERS, {}, user=other.user)["myOffers"]["totalCount"] == 1
    assert Volunteer.objects.count() == 2 and task.pk
