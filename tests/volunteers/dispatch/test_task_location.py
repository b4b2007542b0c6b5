"""A task's place lies inside its area — on creation, on edit, from a report, from a plan —
or the task is refused with LOCATION_OUTSIDE_AREA (issue 13.1: a grid worker's task of their
own grid, pinned in another community, was dispatched there)."""

from __future__ import annotations

import pytest

from community.models import Resident, ResidentReport
from core.errors import ValidationError
from emergency.plans import save_plan_version
from emergency.switching import switch_mode
from emergency.tasks import run_pending_emergency_jobs
from tests.operations import operation
from tests.shapes import draw_world
from tests.volunteers.conftest import B_POINT, gid, new_task
from volunteers.models import Offer, Task, TaskEvent
from volunteers.services import create_task_from_report, place_system_task

from .conftest import TASK_POINT, error_codes, helper

pytestmark = pytest.mark.django_db

CREATE = operation("tasks/CreateTask")
UPDATE = operation("tasks/UpdateTask")


def where(lat: float, lng: float) -> dict:
    return {"latitude": lat, "longitude": lng}


def create(gql, user, area, location) -> dict:
    return gql.data(CREATE, {"input": {"areaId": gid("Area", area.pk), "title": "清理积水", "location": where(*location)}},
                    user=user)["createTask"]


def test_a_grid_worker_cannot_place_their_grids_task_in_another_community(world, gql, committed):
    helper(world.grid_b1, 100)
    with committed():
        payload = create(gql, world.worker_a1, world.grid_a1, B_POINT)
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("location", "LOCATION_OUTSIDE_AREA")]
    assert payload["task"] is None and not Task.objects.exists() and not Offer.objects.exists()


def test_inside_the_grid_the_task_is_created(world, gql):
    assert create(gql, world.worker_a1, world.grid_a1, TASK_POINT)["errors"] == []


def test_with_boundaries_a_place_just_outside_the_grid_is_refused_and_drawing_noise_is_not(world, gql):
    draw_world(world)  # 甲一: latitudes 30.269-30.273
    assert create(gql, world.worker_a1, world.grid_a1, (30.2732, 120.152))["errors"][0]["code"] == "LOCATION_OUTSIDE_AREA"
    assert create(gql, world.worker_a1, world.grid_a1, (30.27302, 120.152))["errors"] == []  # 2 m out: tolerated
    assert create(gql, world.worker_a1, world.grid_a1, (30.2729, 120.152))["errors"] == []


def test_a_community_task_may_be_anywhere_in_the_community(world):
    assert new_task(world.com_a, title="物资清点", location=(30.275, 120.155), dispatch=False).area == world.com_a
    with pytest.raises(ValidationError) as refused:
        new_task(world.com_a, title="物资清点", location=B_POINT, dispatch=False)
    assert error_codes(refused.value) == ["location_outside_area"]


def test_moving_a_task_out_of_its_area_is_refused_and_nothing_changes(world, gql):
    task = new_task(world.grid_a1, title="清理积水", location=TASK_POINT, dispatch=False)
    payload = gql.data(UPDATE, {"taskId": gid("Task", task.pk), "expectedVersion": 1,
                                "changes": {"location": where(*B_POINT)}}, user=world.worker_a1)["updateTask"]
    assert [e["code"] for e in payload["errors"]] == ["LOCATION_OUTSIDE_AREA"]
    task.refresh_from_db()
    assert task.point == TASK_POINT and task.version == 1
    assert not TaskEvent.objects.filter(task=task, kind="EDITED").exists()


def test_a_report_placed_outside_its_grid_does_not_become_a_task_there(world):
    """A report filed before the grids had boundaries may sit in one grid and lie in
    another; turning it into a task must not carry the task out of the grid."""
    report = ResidentReport(kind="help", description="求助", reporter=world.resident, grid=world.grid_a1)
    report.set_location(*B_POINT)
    report.save()
    with pytest.raises(ValidationError) as refused:
        create_task_from_report(report, by=world.worker_a1)
    assert error_codes(refused.value) == ["location_outside_area"]
    report.refresh_from_db()
    assert report.status == "submitted" and not Task.objects.exists()


# --- tasks the system makes at someone's place --------------------------------------------------
def test_a_system_task_at_a_place_inside_its_grid_stays_there(world):
    assert place_system_task(world.grid_a1, TASK_POINT) == (world.grid_a1, TASK_POINT)


def test_a_system_task_lying_in_a_sibling_grid_goes_to_that_grid(world):
    draw_world(world)
    place = (30.275, 120.155)  # 甲二
    assert place_system_task(world.grid_a1, place) == (world.grid_a2, place)


def test_a_system_task_lying_in_another_community_stays_home_at_the_grid_centre(world):
    assert place_system_task(world.grid_a1, B_POINT) == (world.grid_a1, None)


def test_a_plan_makes_its_welfare_visits_inside_the_areas(world):
    """A resident whose grid staff fixed by hand before the boundaries were drawn, living in
    the neighbouring grid, and one registered in 甲一 whose home lies in community 乙."""
    draw_world(world)
    moved = Resident(grid=world.grid_a1, grid_overridden=True, display_name="孙大娘", elderly_living_alone=True,
                     address="甲社区二区3幢")
    moved.set_location(30.275, 120.155)
    moved.save()
    away = Resident(grid=world.grid_a1, grid_overridden=True, display_name="周大爷", elderly_living_alone=True,
                    address="乙社区7幢")
    away.set_location(*B_POINT)
    away.save()
    save_plan_version(world.com_a, "EMERGENCY", name="内涝预案", by=world.admin_a, actions=[
        {"type": "CREATE_TASKS", "params": {"target": "VULNERABLE_RESIDENTS", "title": "探访独居老人"}}])
    switch_mode(world.com_a, "EMERGENCY", by=world.admin_a, reason="内涝")
    run_pending_emergency_jobs()
    tasks = {t.address: t for t in Task.objects.filter(source="PLAN")}
    assert tasks["甲社区二区3幢"].area == world.grid_a2 and tasks["甲社区二区3幢"].point == (30.275, 120.155)
    assert tasks["乙社区7幢"].area == world.grid_a1 and tasks["乙社区7幢"].point == (30.271, 120.151)
