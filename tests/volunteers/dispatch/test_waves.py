"""Waves: ceil(free places x factor) - pending offers go to the best candidates; the next
wave only when a wave has run out; the radius widens step by step; nobody left means
UNSTAFFED and the grid's staff alerted. Deadlines live in the database and the sweep moves
them, so a lost message or a dead worker delays a task and never stalls it."""

import datetime as dt

import pytest

from notifications.models import Notification
from tests.volunteers.conftest import new_task
from volunteers.dispatch import offer_next_wave
from volunteers.models import Offer, OfferStatus, Task, TaskEvent
from volunteers.services import (
    TaskSpec,
    create_task,
    respond_to_offer,
    set_area_dispatch_override,
    set_task_headcount,
)
from volunteers.tasks import run_dispatch, sweep_dispatch

from .conftest import helper

pytestmark = pytest.mark.django_db


def offers(task, **filters):
    return list(Offer.objects.filter(task=task, **filters).order_by("wave", "rank"))


def urgent(world, committed, headcount=2, **kwargs):
    with committed():
        return new_task(world.grid_a1, title="转移物资", headcount=headcount, priority="URGENT", **kwargs)


def test_the_first_wave_is_ceil_places_times_factor_nearest_first(world, committed):
    people = [helper(world.grid_a1, 100 * i) for i in range(1, 11)]
    task = urgent(world, committed, headcount=3)  # 3 x 2.0 = 6
    wave = offers(task)
    assert [o.user_id for o in wave] == [p.user_id for p in people[:6]]
    assert {o.wave for o in wave} == {1} and [o.rank for o in wave] == [1, 2, 3, 4, 5, 6]
    assert all((o.expires_at - o.offered_at).total_seconds() == 600 for o in wave)  # URGENT: 10 minutes


def test_the_next_wave_waits_until_this_one_has_run_out(world, committed):
    people = [helper(world.grid_a1, 100 * i) for i in range(1, 9)]
    task = urgent(world, committed)
    first = offers(task)
    with committed():
        for o in first[:3]:
            respond_to_offer(o, accept=False)
    assert len(offers(task)) == 4  # one still pending: the wave is still out
    with committed():
        respond_to_offer(first[3], accept=False)
    second = offers(task, wave=2)
    assert [o.user_id for o in second] == [p.user_id for p in people[4:8]]
    assert Task.objects.get(pk=task.pk).wave_count == 2


def test_unanswered_offers_expire_at_the_sweep_and_the_next_wave_goes_out(world, committed, clock):
    people = [helper(world.grid_a1, 100 * i) for i in range(1, 7)]
    task = urgent(world, committed, headcount=1)  # 2 offers
    clock.advance(599)
    with committed():
        sweep_dispatch.delay()
    assert {o.status for o in offers(task)} == {OfferStatus.PENDING}
    clock.advance(1)
    with committed():
        sweep_dispatch.delay()
    assert [o.status for o in offers(task, wave=1)] == [OfferStatus.EXPIRED] * 2
    assert [o.user_id for o in offers(task, wave=2)] == [p.user_id for p in people[2:4]]
    people[0].refresh_from_db()
    assert (people[0].offered_count, people[0].expired_count) == (1, 1)
    assert TaskEvent.objects.filter(task=task, kind="EXPIRED").count() == 2


def test_the_radius_widens_step_by_step_when_too_few_are_near(world, committed):
    near = [helper(world.grid_a1, 300 + 100 * i) for i in range(2)]
    farther = [helper(world.grid_a1, 1500 + 100 * i) for i in range(2)]
    far = helper(world.grid_a1, 2600)
    task = urgent(world, committed)  # wants 4 within 1 km: only 2 -> 2 km: 4
    task.refresh_from_db()
    assert task.radius_m == 2000
    assert {o.user_id for o in offers(task)} == {v.user_id for v in near + farther}
    [widened] = TaskEvent.objects.filter(task=task, kind="RADIUS_WIDENED")
    assert widened.data == {"fromM": 1000, "toM": 2000, "found": 2, "wanted": 4} and widened.wave == 1
    assert far.user_id not in {o.user_id for o in offers(task)}


def test_a_second_wave_widens_the_radius_once_the_near_ones_said_no(world, committed):
    near = [helper(world.grid_a1, 200 * i) for i in range(1, 5)]
    farther = [helper(world.grid_a1, 1200 + 100 * i) for i in range(4)]
    task = urgent(world, committed)
    with committed():
        for o in offers(task, wave=1):
            respond_to_offer(o, accept=False)
    task.refresh_from_db()
    assert {o.user_id for o in offers(task, wave=1)} == {v.user_id for v in near}
    assert {o.user_id for o in offers(task, wave=2)} == {v.user_id for v in farther}
    assert task.radius_m == 2000 and task.wave_count == 2


def test_when_nobody_is_left_the_task_is_unstaffed_and_its_staff_alerted(world, committed, clock):
    [only] = [helper(world.grid_a1, 100)]
    task = urgent(world, committed, headcount=2)
    assert [o.user_id for o in offers(task)] == [only.user_id]  # searched all the way to 5 km
    clock.advance(601)
    with committed():
        sweep_dispatch.delay()
    task.refresh_from_db()
    assert task.status == "UNSTAFFED" and task.radius_m == 5000
    assert (task.dispatch_due_at - clock()).total_seconds() == 600  # searched again quietly later
    [event] = TaskEvent.objects.filter(task=task, kind="UNSTAFFED")
    assert event.data == {"offers": 1, "missing": 2, "radiusM": 5000}
    alerted = set(Notification.objects.filter(kind="task.unstaffed").values_list("user__username", flat=True))
    assert alerted == {"worker_a1", "admin_a"}  # the grid's worker and its community's admin, nobody else
    alert = Notification.objects.filter(kind="task.unstaffed", user=world.worker_a1).get()
    assert "转移物资" in alert.title and "仍缺2人" in alert.body


def test_with_nobody_in_reach_at_all_the_task_is_unstaffed_at_once(world, committed):
    task = urgent(world, committed)
    task.refresh_from_db()
    assert task.status == "UNSTAFFED" and not offers(task)


def test_an_unstaffed_task_is_searched_again_quietly_and_offered_to_whoever_came_on_duty(world, committed, clock):
    task = urgent(world, committed, headcount=1)
    task.refresh_from_db()
    assert task.status == "UNSTAFFED" and (task.dispatch_due_at - clock()).total_seconds() == 600
    alerts = Notification.objects.filter(kind="task.unstaffed").count()

    clock.advance(600)  # still nobody: no new alert, no new event, looked at again later
    with committed():
        sweep_dispatch.delay()
    task.refresh_from_db()
    assert task.status == "UNSTAFFED" and (task.dispatch_due_at - clock()).total_seconds() == 600
    assert Notification.objects.filter(kind="task.unstaffed").count() == alerts
    assert TaskEvent.objects.filter(task=task, kind="UNSTAFFED").count() == 1

    late_riser = helper(world.grid_a1, 800)  # comes on duty
    clock.advance(600)
    with committed():
        sweep_dispatch.delay()
    task.refresh_from_db()
    assert task.status == "DISPATCHING"
    assert [o.user_id for o in offers(task, status=OfferStatus.PENDING)] == [late_riser.user_id]
    with committed():
        respond_to_offer(offers(task)[0], accept=True)
    assert Task.objects.get(pk=task.pk).status == "STAFFED"


def test_retries_stop_at_the_deadline_after_the_set_hours_or_when_turned_off(world, committed, clock, settings):
    soon = urgent(world, committed, headcount=1, deadline=clock() + dt.timedelta(minutes=15))
    soon.refresh_from_db()
    assert soon.status == "UNSTAFFED" and soon.dispatch_due_at is not None
    clock.advance(600)
    offer_next_wave(soon.pk)  # the next look would be after the deadline: none
    assert Task.objects.get(pk=soon.pk).dispatch_due_at is None

    settings.DISPATCH_UNSTAFFED_RETRY_HOURS = 1
    lasting = urgent(world, committed, headcount=1)
    for _ in range(5):
        clock.advance(600)
        offer_next_wave(lasting.pk)
    assert Task.objects.get(pk=lasting.pk).dispatch_due_at is not None  # 50 minutes: still looking
    clock.advance(600)
    offer_next_wave(lasting.pk)
    assert Task.objects.get(pk=lasting.pk).dispatch_due_at is None  # an hour: staff decide now

    settings.DISPATCH_UNSTAFFED_RETRY_SECONDS = 0
    off = urgent(world, committed, headcount=1)
    assert Task.objects.get(pk=off.pk).dispatch_due_at is None


def test_a_re_run_wave_never_offers_anyone_twice(world, committed):
    [helper(world.grid_a1, 100 * i) for i in range(1, 10)]
    task = urgent(world, committed)
    for _ in range(3):
        with committed():
            assert run_dispatch.delay(task.pk).get() == "waiting"
    assert len(offers(task)) == 4 and Offer.objects.values("user_id").distinct().count() == 4


def test_a_lost_message_delays_the_first_wave_until_the_sweep(world, committed, clock, monkeypatch):
    [helper(world.grid_a1, 100 * i) for i in range(1, 5)]
    real = run_dispatch.apply_async
    monkeypatch.setattr(run_dispatch, "apply_async", lambda *args, **options: None)  # the broker lost it
    task = urgent(world, committed)
    assert not offers(task)
    monkeypatch.setattr(run_dispatch, "apply_async", real)
    with committed():
        sweep_dispatch.delay()  # not due yet: the worker may still be on it
    assert not offers(task)
    clock.advance(31)
    with committed():
        sweep_dispatch.delay()
    assert len(offers(task)) == 4


def test_a_worker_killed_mid_wave_leaves_nothing_and_the_sweep_finishes(world, committed, clock, monkeypatch):
    people = [helper(world.grid_a1, 100 * i) for i in range(1, 7)]
    from volunteers.dispatch import waves

    real = waves.deliver_offers

    def die(*args, **kwargs):
        raise SystemExit("worker killed")  # after the offers' INSERT, before commit

    monkeypatch.setattr(waves, "deliver_offers", die)
    with pytest.raises(SystemExit), committed():
        create_task(TaskSpec(title="转移物资", headcount=2, priority="URGENT"), area=world.grid_a1)
    task = Task.objects.get()
    assert not offers(task) and not TaskEvent.objects.filter(kind="OFFERED").exists()  # rolled back whole
    monkeypatch.setattr(waves, "deliver_offers", real)
    clock.advance(31)
    with committed():
        sweep_dispatch.delay()
    assert [o.user_id for o in offers(task)] == [p.user_id for p in people[:4]]
    with committed():
        for o in offers(task)[:2]:
            respond_to_offer(o, accept=True)
    task.refresh_from_db()
    assert task.status == "STAFFED" and Offer.objects.values("user_id").distinct().count() == Offer.objects.count()


def test_raising_the_headcount_sends_more_offers(world, committed):
    [helper(world.grid_a1, 100 * i) for i in range(1, 10)]
    task = urgent(world, committed, headcount=1)
    assert len(offers(task)) == 2
    with committed():
        set_task_headcount(task, 3, by=world.worker_a1)
    assert len(offers(task)) == 6  # ceil(3 x 2) - 2 pending = 4 more
    assert len(offers(task, wave=2)) == 4


def test_an_override_set_during_dispatch_applies_from_the_next_wave(world, committed):
    [helper(world.grid_a1, 100 * i) for i in range(1, 12)]
    task = urgent(world, committed, headcount=1)
    set_area_dispatch_override(world.com_a, wave_factor=4, answer_seconds=120)
    with committed():
        for o in offers(task):
            respond_to_offer(o, accept=False)
    second = offers(task, wave=2)
    assert len(second) == 4 and all((o.expires_at - o.offered_at).total_seconds() == 120 for o in second)


def test_a_task_created_without_dispatch_gets_no_wave(world, committed):
    helper(world.grid_a1, 100)
    with committed():
        task = create_task(TaskSpec(title="x"), area=world.grid_a1, dispatch=False)
    assert offer_next_wave(task.pk).outcome == "nothing_to_do" and not offers(task)


def test_the_sweep_withdraws_offers_left_pending_on_a_full_or_closed_task(world, committed):
    """An answer in flight was skipped when the task filled up, then rolled back: its offer
    is still PENDING on a full task. The sweep tidies it (and one on a cancelled task)."""
    a, b, c = helper(world.grid_a1, 100), helper(world.grid_a1, 200), helper(world.grid_a1, 300)
    full = urgent(world, committed, headcount=1)
    Task.objects.filter(pk=full.pk).update(filled_count=1, status="STAFFED")
    Offer.objects.filter(task=full, user=b.user).update(status="DECLINED")
    with committed():
        gone = create_task(TaskSpec(title="已取消"), area=world.grid_a2, dispatch=False)
    from volunteers.services import offer_task_to

    offer_task_to(gone, c, by=world.worker_a1)
    Task.objects.filter(pk=gone.pk).update(status="CANCELLED")
    with committed():
        result = sweep_dispatch.delay().get()
    assert result["tidied"] == 2
    assert Offer.objects.get(task=full, user=a.user).withdrawn_reason == "STAFFED"
    assert Offer.objects.get(task=gone).withdrawn_reason == "CANCELLED"
    assert Notification.objects.filter(kind="task.offer.withdrawn").count() == 2


def test_one_sweep_clears_a_burst_of_deadlines_batch_by_batch(world, committed, clock):
    [helper(world.grid_a1, 100 * i) for i in range(1, 12)]
    task = urgent(world, committed, headcount=3)  # 6 offers, one deadline
    clock.advance(601)
    from volunteers.dispatch.sweep import sweep_dispatch as sweep

    with committed():
        report = sweep(batch=4)
    assert report.expired == 6 and Offer.objects.filter(task=task, status="PENDING", wave=1).count() == 0
    assert Offer.objects.filter(task=task, wave=2).count() == 5  # 3 places x 2 = 6 wanted, 5 people left
