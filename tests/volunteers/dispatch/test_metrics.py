"""Learning: per task the timeline and the figures (time to first acceptance, to fully
staffed, offers per filled place, acceptance and expiry rates); per area over a period,
drills apart; the dispatch parameters in force."""

import pytest
from django.utils import timezone

from tests.operations import operation
from tests.volunteers.conftest import gid
from volunteers.models import Offer
from volunteers.services import (
    TaskSpec,
    area_dispatch_metrics,
    create_task,
    respond_to_offer,
    set_area_dispatch_override,
)
from volunteers.tasks import sweep_dispatch

from .conftest import helper

pytestmark = pytest.mark.django_db

TASK = operation("tasks/Task")
METRICS = operation("tasks/DispatchMetrics")
PARAMETERS = operation("tasks/DispatchParameters")


def run_task(world, committed, clock, *, is_drill=False, area=None):
    """4 offers (2 places, URGENT): one declines at 1 min, one accepts at 2 min, two ignore
    and expire at 10 min; the second wave's first person accepts at 11 min: staffed."""
    area = area or world.grid_a1
    with committed():
        task = create_task(TaskSpec(title="巡查", headcount=2, priority="URGENT"), area=area, is_drill=is_drill)
    first = list(Offer.objects.filter(task=task).order_by("rank"))
    clock.advance(60)
    with committed():
        respond_to_offer(first[0], accept=False)
    clock.advance(60)
    with committed():
        respond_to_offer(first[1], accept=True)
    clock.advance(480)
    with committed():
        sweep_dispatch.delay()
    second = list(Offer.objects.filter(task=task, wave=2).order_by("rank"))
    clock.advance(60)
    with committed():
        respond_to_offer(second[0], accept=True)
    return task


def test_a_tasks_figures_and_timeline(world, gql, committed, clock):
    [helper(world.grid_a1, 100 * i) for i in range(1, 8)]
    task = run_task(world, committed, clock)
    data = gql.data(TASK, {"id": gid("Task", task.pk), "timelineFirst": 100}, user=world.worker_a1)["task"]
    assert data["status"] == "STAFFED"
    m = data["metrics"]
    assert (m["offers"], m["accepted"], m["declined"], m["expired"], m["withdrawn"], m["waves"]) == (6, 2, 1, 2, 1, 2)
    assert m["secondsToFirstAcceptance"] == 120 and m["secondsToStaffed"] == 660
    assert m["offersPerFilledPlace"] == 3.0
    assert m["acceptanceRate"] == 0.4 and m["expiryRate"] == 0.4  # of the 5 offers that ran their course
    kinds = [e["node"]["kind"] for e in data["timeline"]["edges"]]
    assert kinds[:2] == ["CREATED", "DISPATCH_STARTED"]
    assert kinds.count("WAVE_SENT") == 2 and kinds.count("EXPIRED") == 2 and kinds.count("DECLINED") == 1
    assert kinds[-3:] == ["ACCEPTED", "STAFFED", "OFFER_WITHDRAWN"]
    waves = [e["node"] for e in data["timeline"]["edges"] if e["node"]["kind"] == "WAVE_SENT"]
    assert [(w["wave"], w["data"]["offers"]) for w in waves] == [(1, 4), (2, 2)]


def test_area_figures_over_a_period_keep_drills_apart(world, gql, committed, clock):
    [helper(world.grid_a1, 100 * i) for i in range(1, 15)]
    run_task(world, committed, clock)
    run_task(world, committed, clock, is_drill=True)
    real = gql.data(METRICS, {"areaId": gid("Area", world.com_a.pk)}, user=world.admin_a)["dispatchMetrics"]
    assert (real["tasks"], real["offers"], real["everStaffed"], real["everUnstaffed"]) == (1, 6, 1, 0)
    assert real["medianSecondsToFirstAcceptance"] == 120 and real["medianSecondsToStaffed"] == 660
    assert real["byStatus"] == {"STAFFED": 1} and real["drills"] == "EXCLUDE"
    drills = gql.data(METRICS, {"areaId": gid("Area", world.com_a.pk), "drills": "ONLY"}, user=world.admin_a)["dispatchMetrics"]
    assert drills["tasks"] == 1
    both = area_dispatch_metrics(world.com_a, drills="INCLUDE")
    assert both.tasks == 2 and both.counts.offers == 12 and both.offers_per_filled_place == 3.0


def test_area_figures_count_unstaffed_tasks(world, committed):
    with committed():
        create_task(TaskSpec(title="没人", priority="URGENT"), area=world.grid_a1)
    m = area_dispatch_metrics(world.com_a)
    assert (m.tasks, m.ever_unstaffed, m.by_status) == (1, 1, {"UNSTAFFED": 1})
    assert m.median_seconds_to_first_acceptance is None and m.acceptance_rate is None


def test_a_period_is_bounded(world, gql):
    today = timezone.localdate()
    bad = gql(METRICS, {"areaId": gid("Area", world.com_a.pk), "from": str(today.replace(year=today.year - 2))}, user=world.admin_a)[1]
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_metrics_and_parameters_are_for_staff_of_the_area(world, gql):
    for document, variables in ((METRICS, {"areaId": gid("Area", world.com_a.pk)}),
                                (PARAMETERS, {"areaId": gid("Area", world.grid_a1.pk), "priority": "URGENT"})):
        status, body = gql(document, variables, user=world.worker_b1)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_the_parameters_in_force_are_queryable(world, gql):
    set_area_dispatch_override(world.com_a, radius_max_m=8000)
    p = gql.data(PARAMETERS, {"areaId": gid("Area", world.grid_a1.pk), "priority": "LIFE_SAFETY"}, user=world.worker_a1)["dispatchParameters"]
    assert p == {"priority": "LIFE_SAFETY", "mode": "NORMAL", "answerSeconds": 180, "waveFactor": 3.0, "radiusStartM": 500,
                 "radiusStepM": 500, "radiusMaxM": 8000, "rankingBandM": 150, "overridden": ["radius_max_m"]}
