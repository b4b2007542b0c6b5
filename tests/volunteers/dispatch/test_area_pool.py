"""Dispatch offers a task to its area's people, never to whoever happens to live nearest: a
grid worker's task in their grid could otherwise reach (and show) volunteers of another
community (issue 13.1). Mutual aid across areas happens only through staff whose scope covers
both areas (they widen the task's pool), or by a plan's explicit pool_scope."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from emergency.plan_actions import check_actions
from tests.operations import operation
from tests.volunteers.conftest import gid, make_member, new_task, new_user
from volunteers.dispatch.parameters import dispatch_parameters, set_area_dispatch_override
from volunteers.models import Offer, Task, TaskStatus

from .conftest import TASK_POINT, error_codes, helper, point_at

pytestmark = pytest.mark.django_db

CREATE = operation("tasks/CreateTask")
UPDATE = operation("tasks/UpdateTask")


def offered(task) -> set[int]:
    return set(Offer.objects.filter(task=task).values_list("user_id", flat=True))


def task_input(area, **more) -> dict:
    values = {"areaId": gid("Area", area.pk), "title": "搬运沙袋", "headcount": 3,
              "location": {"latitude": TASK_POINT[0], "longitude": TASK_POINT[1]}}
    values.update(more)
    return values


@pytest.fixture
def neighbours(world):
    """Two volunteers of community 乙 living 150 m and 250 m from a task in 甲一, one of
    甲二 at 200 m, and 甲一's own volunteer 900 m away."""
    return {
        "b_near": helper(world.grid_b1, 150, name="乙志愿者近"),
        "b_far": helper(world.grid_b1, 250, 90, name="乙志愿者"),
        "a2": helper(world.grid_a2, 200, 180, name="甲二志愿者"),
        "a1": helper(world.grid_a1, 900, 270, name="甲一志愿者"),
    }


def test_a_grid_workers_task_is_offered_only_to_volunteers_of_that_grid(world, gql, committed, neighbours):
    with committed():
        result = gql.data(CREATE, {"input": task_input(world.grid_a1)}, user=world.worker_a1)["createTask"]
    assert result["errors"] == []
    assert offered(Task.objects.get()) == {neighbours["a1"].user_id}  # the nearest three serve elsewhere


def test_a_volunteer_who_serves_the_whole_community_serves_each_of_its_grids(world, committed, neighbours):
    whole = helper(world.com_a, 400, name="甲社区志愿者")
    with committed():
        task = new_task(world.grid_a1, title="搬运沙袋", headcount=3)
    assert offered(task) == {neighbours["a1"].user_id, whole.user_id}


def test_a_volunteer_who_also_serves_this_grid_is_offered(world, committed, neighbours):
    both = helper(world.grid_b1, 300, name="两地志愿者", service_areas=[world.grid_b1, world.grid_a1])
    with committed():
        task = new_task(world.grid_a1, title="搬运沙袋", headcount=3)
    assert both.user_id in offered(task) and neighbours["b_near"].user_id not in offered(task)


def test_a_community_admin_may_widen_the_pool_to_the_community(world, gql, committed, neighbours):
    with committed():
        result = gql.data(CREATE, {"input": task_input(world.grid_a1, poolAreaId=gid("Area", world.com_a.pk))},
                          user=world.admin_a)["createTask"]
    assert result["errors"] == []
    assert offered(Task.objects.get()) == {neighbours["a1"].user_id, neighbours["a2"].user_id}


def test_a_grid_worker_may_not_widen_the_pool_beyond_their_grid(world, gql, neighbours):
    status, body = gql(CREATE, {"input": task_input(world.grid_a1, poolAreaId=gid("Area", world.com_a.pk))},
                       user=world.worker_a1)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert not Task.objects.exists() and not Offer.objects.exists()


def test_a_commander_over_both_communities_may_pool_them(world, gql, committed, neighbours):
    with committed():
        result = gql.data(CREATE, {"input": task_input(world.grid_a1, poolAreaId=gid("Area", world.district.pk))},
                          user=world.commander)["createTask"]
    assert result["errors"] == []
    task = Task.objects.get()
    assert task.pool_area == world.district
    assert {neighbours["b_near"].user_id, neighbours["a2"].user_id, neighbours["b_far"].user_id} <= offered(task)


def test_the_pool_is_the_tasks_area_or_one_that_holds_it(world, gql):
    payload = gql.data(CREATE, {"input": task_input(world.grid_a1, poolAreaId=gid("Area", world.grid_b1.pk))},
                       user=world.commander)["createTask"]
    assert [e["code"] for e in payload["errors"]] == ["INVALID_POOL_AREA"] and not Task.objects.exists()


def test_widening_an_unstaffed_tasks_pool_looks_again_at_once(world, gql, committed, neighbours):
    with committed():
        task = new_task(world.grid_a2, title="清理积水", location=(30.275, 120.155), headcount=1)
    Offer.objects.filter(task=task).delete()
    Task.objects.filter(pk=task.pk).update(status=TaskStatus.UNSTAFFED)
    task.refresh_from_db()
    with committed():
        payload = gql.data(UPDATE, {"taskId": gid("Task", task.pk), "expectedVersion": task.version,
                                    "changes": {"poolAreaId": gid("Area", world.district.pk)}}, user=world.commander)
    assert payload["updateTask"]["errors"] == []
    task.refresh_from_db()
    assert task.pool_area == world.district and offered(task) and task.status == TaskStatus.DISPATCHING


def test_staff_of_the_task_alone_may_not_widen_it_to_another_community(world, gql, committed):
    with committed():
        task = new_task(world.grid_a1, title="清理积水", dispatch=False)
    status, body = gql(UPDATE, {"taskId": gid("Task", task.pk), "expectedVersion": task.version,
                                "changes": {"poolAreaId": gid("Area", world.district.pk)}}, user=world.admin_a)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    task.refresh_from_db()
    assert task.pool_area is None and task.version == 1


# --- plans decide mutual aid in advance ---------------------------------------------------------
def test_a_plan_override_with_pool_scope_plan_area_pools_its_area(world, committed, neighbours):
    set_area_dispatch_override(world.district, pool_scope="PLAN_AREA", reason="台风：全区互助")
    assert dispatch_parameters(world.grid_a1).pool_area_id == world.district.pk
    with committed():
        task = new_task(world.grid_a1, title="搬运沙袋", headcount=3)
    assert {neighbours["b_near"].user_id, neighbours["a2"].user_id, neighbours["b_far"].user_id} <= offered(task)


def test_a_nearer_override_can_narrow_the_pool_back(world, committed, neighbours):
    set_area_dispatch_override(world.district, pool_scope="PLAN_AREA")
    set_area_dispatch_override(world.com_a, pool_scope="TASK_AREA")
    assert dispatch_parameters(world.grid_a1).pool_area_id is None
    with committed():
        task = new_task(world.grid_a1, title="搬运沙袋", headcount=3)
    assert offered(task) == {neighbours["a1"].user_id}


def test_pool_scope_takes_only_its_two_values(world):
    with pytest.raises(ValidationError) as refused:
        set_area_dispatch_override(world.district, pool_scope="EVERYWHERE")
    assert error_codes(refused.value) == ["invalid_dispatch_parameter"]
    with pytest.raises(ValidationError) as refused:
        check_actions([{"type": "SET_DISPATCH", "params": {"pool_scope": "ANCESTOR"}}])
    assert "actions.0.params.pool_scope" in refused.value.error_dict
    assert check_actions([{"type": "SET_DISPATCH", "params": {"pool_scope": "PLAN_AREA", "answer_seconds": 60}}]) == [
        {"type": "SET_DISPATCH", "params": {"pool_scope": "PLAN_AREA", "answer_seconds": 60}}]


def test_party_members_of_another_community_are_not_called_in(world, committed):
    from emergency.switching import switch_mode

    here = make_member(new_user("甲党员"), world.com_a)
    here.set_location(*point_at(500))
    here.save()
    there = make_member(new_user("乙党员"), world.com_b)
    there.set_location(*point_at(100))
    there.save()
    switch_mode(world.com_a, "EMERGENCY", by=world.admin_a, reason="内涝")
    with committed():
        task = new_task(world.grid_a1, title="转移群众", headcount=2)
    assert offered(task) == {here.user_id}

