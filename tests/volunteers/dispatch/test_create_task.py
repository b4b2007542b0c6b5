"""Creating tasks: by a grid worker over GraphQL, by other apps through create_task (with an
idempotency key), from a resident's report; every bad input gets a typed error and writes
nothing; dispatch starts after commit."""

import datetime as dt

import pytest
from django.utils import timezone

from community.geo import wgs84_to_gcj02
from community.models import ReportStatus
from community.reports import do_submit_report
from core.errors import ValidationError
from tests.operations import operation
from tests.volunteers.conftest import gid, new_task
from volunteers.models import Offer, Task, TaskEvent
from volunteers.services import TaskSpec, create_task, create_task_from_report

from .conftest import TASK_POINT, error_codes, helper, point_at

pytestmark = pytest.mark.django_db

CREATE = operation("tasks/CreateTask")
FROM_REPORT = operation("tasks/CreateTaskFromReport")


def codes(payload):
    return sorted(e["code"].lower() for e in payload["errors"])


def task_input(area, **overrides):
    values = {"areaId": gid("Area", area.pk), "title": "帮独居老人买药", "description": "3号楼2单元", "headcount": 2,
              "priority": "URGENT", "requiredSkills": [], "location": {"latitude": TASK_POINT[0], "longitude": TASK_POINT[1]}}
    values.update(overrides)
    return values


def test_a_grid_worker_creates_a_task_and_the_first_wave_goes_out(world, gql, committed):
    near = [helper(world.grid_a1, d) for d in (100, 200, 300, 400, 500)]
    with committed():
        result = gql.data(CREATE, {"input": task_input(world.grid_a1), "key": "k1"}, user=world.worker_a1)["createTask"]
    assert result["errors"] == [] and result["task"]["priority"] == "URGENT" and result["task"]["version"] == 1
    task = Task.objects.get()
    assert task.created_by == world.worker_a1 and task.source == "STAFF" and task.status == "DISPATCHING"
    # URGENT: 2 places x 2.0 = 4 offers, to the four nearest.
    assert sorted(Offer.objects.values_list("user_id", flat=True)) == sorted(v.user_id for v in near[:4])
    kinds = list(TaskEvent.objects.filter(task=task).values_list("kind", flat=True))
    assert kinds[:2] == ["CREATED", "DISPATCH_STARTED"] and kinds.count("OFFERED") == 4 and kinds[-1] == "WAVE_SENT"


def test_the_location_may_come_in_gcj02_and_is_stored_in_wgs84(world, gql):
    glat, glng = wgs84_to_gcj02(*TASK_POINT)
    gql.data(CREATE, {"input": task_input(world.grid_a1, location={"latitude": glat, "longitude": glng, "datum": "GCJ02"})},
             user=world.worker_a1)
    task = Task.objects.get()
    assert task.lat == pytest.approx(TASK_POINT[0], abs=1e-6) and task.lng == pytest.approx(TASK_POINT[1], abs=1e-6)


def test_without_a_location_the_task_is_at_the_grid_centre(world):
    task = create_task(TaskSpec(title="巡查"), area=world.grid_a2)
    assert task.point == (world.grid_a2.center_lat, world.grid_a2.center_lng) and task.h3_cell


def test_a_replayed_create_returns_the_first_task(world, gql):
    first = gql.data(CREATE, {"input": task_input(world.grid_a1), "key": "same"}, user=world.worker_a1)["createTask"]
    again = gql.data(CREATE, {"input": task_input(world.grid_a1), "key": "same"}, user=world.worker_a1)["createTask"]
    assert first == again and Task.objects.count() == 1


def test_system_callers_are_idempotent_on_their_key(world):
    first = create_task(TaskSpec(title="上门探访"), area=world.grid_a1, source="SAFETY_CHECK", idempotency_key="safety:7")
    again = create_task(TaskSpec(title="上门探访"), area=world.grid_a1, source="SAFETY_CHECK", idempotency_key="safety:7")
    assert first.pk == again.pk and Task.objects.count() == 1 and TaskEvent.objects.filter(kind="CREATED").count() == 1


def test_the_source_object_is_linked(world):
    report = do_submit_report(world.resident, kind="help", description="需要帮忙", location=TASK_POINT)
    task = create_task(TaskSpec(title="求助"), area=world.grid_a1, source="REPORT", source_object=report)
    assert task.source_object == report


def test_dispatch_false_leaves_the_task_open_for_offers_by_hand(world, committed):
    helper(world.grid_a1, 100)
    with committed():
        task = create_task(TaskSpec(title="整理物资"), area=world.grid_a1, dispatch=False)
    task.refresh_from_db()
    assert task.status == "OPEN" and not task.auto_dispatch and task.dispatch_due_at is None and not Offer.objects.exists()


def test_nothing_is_dispatched_if_the_transaction_rolls_back(world, committed):
    from django.db import transaction

    helper(world.grid_a1, 100)
    with committed(), pytest.raises(RuntimeError), transaction.atomic():
        create_task(TaskSpec(title="送水"), area=world.grid_a1)
        raise RuntimeError("the caller failed after creating")
    assert not Task.objects.exists() and not Offer.objects.exists()


@pytest.mark.parametrize("overrides, field, code", [
    ({"title": ""}, "title", "required"),
    ({"title": "x" * 101}, "title", "too_long"),
    ({"description": "x" * 2001}, "description", "too_long"),
    ({"headcount": 0}, "headcount", "invalid_headcount"),
    ({"headcount": 101}, "headcount", "invalid_headcount"),
    ({"requiredSkills": ["juggling"]}, "requiredSkills", "unknown_skill"),
    ({"location": {"latitude": 95, "longitude": 120}}, "location", "invalid_location"),
    ({"deadline": "2001-01-01T00:00:00+08:00"}, "deadline", "invalid_time"),
    ({"checkinRadiusM": 5}, "checkinRadiusM", "invalid_radius"),
    ({"areaId": "QXJlYTo5OTk5OTk="}, "areaId", "not_found"),
    ({"areaId": "nonsense"}, "areaId", "invalid"),
])
def test_bad_input_gets_a_typed_error_and_creates_nothing(world, gql, overrides, field, code):
    result = gql.data(CREATE, {"input": task_input(world.grid_a1, **overrides)}, user=world.worker_a1)["createTask"]
    assert [(e["field"], e["code"].lower()) for e in result["errors"]] == [(field, code)] and result["task"] is None
    assert not Task.objects.exists() and not TaskEvent.objects.exists()


def test_a_deadline_before_the_start_is_refused(world):
    start = timezone.now() + dt.timedelta(hours=2)
    with pytest.raises(ValidationError) as refused:
        create_task(TaskSpec(title="x", starts_at=start, deadline=start - dt.timedelta(minutes=1)), area=world.grid_a1)
    assert error_codes(refused.value) == ["invalid_time_range"]


@pytest.mark.parametrize("kwargs, code", [
    ({"priority": "SOMETIME"}, "invalid_priority"),
    ({"source": "RUMOUR"}, "invalid_source"),
    ({"headcount": "3"}, "invalid_headcount"),
    ({"starts_at": dt.datetime(2030, 1, 1)}, "invalid_time"),
    ({"idempotency_key": "k" * 256}, "invalid"),
    ({"title": None}, "required"),
    ({"source_object": "not a record"}, "invalid"),
])
def test_system_callers_get_the_same_validation(world, kwargs, code):
    with pytest.raises(ValidationError) as refused:
        new_task(world.grid_a1, **{"title": "x", **kwargs})
    assert error_codes(refused.value) == [code] and not Task.objects.exists()


def test_tasks_belong_to_a_grid_or_a_community(world):
    with pytest.raises(ValidationError) as refused:
        create_task(TaskSpec(title="全区巡查", location=TASK_POINT), area=world.district)
    assert error_codes(refused.value) == ["invalid_area"]
    assert create_task(TaskSpec(title="社区物资清点"), area=world.com_a).area == world.com_a


@pytest.mark.parametrize("who", ["worker_b1", "admin_b", "resident", "volunteer"])
def test_the_wrong_person_cannot_create_a_task_in_grid_a1(world, gql, who, volunteer):
    user = volunteer.user if who == "volunteer" else getattr(world, who)
    status, body = gql(CREATE, {"input": task_input(world.grid_a1)}, user=user)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN" and not Task.objects.exists()


@pytest.mark.parametrize("who", ["worker_a1", "admin_a", "commander"])
def test_staff_above_the_grid_may_create(world, gql, who):
    result = gql.data(CREATE, {"input": task_input(world.grid_a1)}, user=getattr(world, who))["createTask"]
    assert result["errors"] == []


# --- from a report ------------------------------------------------------------------------
def test_a_report_becomes_a_task_in_one_step(world, gql, committed):
    helper(world.grid_a1, 150)
    report = do_submit_report(world.resident, kind="help", description="老人摔倒需要搀扶", location=point_at(50))
    with committed():
        result = gql.data(FROM_REPORT, {"reportId": gid("ResidentReport", report.pk), "key": "r1"}, user=world.worker_a1)
    task = result["createTaskFromReport"]["task"]
    assert task["source"] == "REPORT" and task["priority"] == "URGENT" and task["title"] == "居民求助（甲一网格）"
    report.refresh_from_db()
    assert report.status == ReportStatus.CONVERTED_TO_TASK and report.handled_by == world.worker_a1
    made = Task.objects.get()
    assert made.source_object == report and made.point == report.point and made.description == "老人摔倒需要搀扶"
    assert Offer.objects.filter(task=made).count() == 1


def test_a_report_cannot_become_two_tasks(world, gql):
    report = do_submit_report(world.resident, kind="hazard", description="井盖缺失", location=TASK_POINT)
    create_task_from_report(report, by=world.worker_a1)
    again = gql.data(FROM_REPORT, {"reportId": gid("ResidentReport", report.pk)}, user=world.admin_a)["createTaskFromReport"]
    assert codes(again) == ["already_converted"] and Task.objects.count() == 1


def test_another_grids_worker_cannot_convert_the_report(world, gql):
    report = do_submit_report(world.resident, kind="help", description="求助", location=TASK_POINT)
    status, body = gql(FROM_REPORT, {"reportId": gid("ResidentReport", report.pk)}, user=world.worker_b1)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED and not Task.objects.exists()


def test_every_problem_is_reported_at_once_even_with_a_location_out_of_range(world):
    with pytest.raises(ValidationError) as refused:
        create_task(TaskSpec(title="", location=(95.0, 10.0)), area=world.grid_a1)
    assert error_codes(refused.value) == ["invalid_location", "required"]
