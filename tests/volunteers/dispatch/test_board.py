"""The grid worker's task board: tasks of my areas with their offers, people and area, in a
constant number of SQL queries whatever the number of tasks; most urgent first."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.operations import operation
from tests.volunteers.conftest import gid, make_volunteer, new_user
from volunteers.models import Offer, Task, TaskAssignment
from volunteers.services import TaskSpec, create_task

pytestmark = pytest.mark.django_db

BOARD = operation("tasks/TaskBoard")


def fill(world, n: int, people: list) -> None:
    for i in range(n):
        task = create_task(TaskSpec(title=f"任务{i}", headcount=2, priority=["ROUTINE", "URGENT", "LIFE_SAFETY"][i % 3], required_skills=["first_aid"] if i % 4 == 0 else []), area=world.grid_a1 if i % 2 else world.grid_a2, dispatch=False)
        for j, volunteer in enumerate(people[:3]):
            offer = Offer.objects.create(task=task, user=volunteer.user, volunteer=volunteer, expires_at=task.created_at,
                                         status="ACCEPTED" if j == 0 else "PENDING", rank=j + 1)
            if j == 0:
                TaskAssignment.objects.create(task=task, user=volunteer.user, volunteer=volunteer, offer=offer)


def board_queries(gql, user, first: int) -> tuple[int, dict]:
    gql.data(BOARD, {"first": 1}, user=user)  # warm up: the token's user, content types
    with CaptureQueriesContext(connection) as queries:
        data = gql.data(BOARD, {"first": first}, user=user)["tasks"]
    return len(queries), data


def test_the_board_costs_the_same_queries_for_10_and_100_tasks(world, gql):
    people = [make_volunteer(new_user(f"志愿者{i}"), world.grid_a1) for i in range(3)]
    fill(world, 10, people)
    small, data = board_queries(gql, world.admin_a, 100)
    assert data["totalCount"] == 10 and len(data["edges"]) == 10
    fill(world, 90, people)
    large, data = board_queries(gql, world.admin_a, 100)
    assert data["totalCount"] == 100 and len(data["edges"]) == 100
    assert large == small <= 12, f"{small} queries for 10 tasks, {large} for 100"
    node = data["edges"][0]["node"]
    assert len(node["offers"]) == 3 and len(node["people"]) == 1 and node["area"]["name"] in ("甲一网格", "甲二网格")
    assert node["people"][0]["phone"] == str(people[0].user.phone)  # the community admin may see personal data


def test_the_board_shows_only_my_areas_most_urgent_first(world, gql):
    create_task(TaskSpec(title="常规", priority="ROUTINE"), area=world.grid_a1, dispatch=False)
    create_task(TaskSpec(title="生命", priority="LIFE_SAFETY"), area=world.grid_a1, dispatch=False)
    create_task(TaskSpec(title="邻格", priority="URGENT"), area=world.grid_a2, dispatch=False)
    create_task(TaskSpec(title="乙格", priority="LIFE_SAFETY"), area=world.grid_b1, dispatch=False)
    titles = [e["node"]["title"] for e in gql.data(BOARD, {}, user=world.worker_a1)["tasks"]["edges"]]
    assert titles == ["生命", "常规"]
    titles = [e["node"]["title"] for e in gql.data(BOARD, {}, user=world.admin_a)["tasks"]["edges"]]
    assert titles == ["生命", "邻格", "常规"]
    area_only = gql.data(BOARD, {"areaId": gid("Area", world.grid_a2.pk)}, user=world.admin_a)["tasks"]
    assert [e["node"]["title"] for e in area_only["edges"]] == ["邻格"]


def test_volunteers_and_residents_have_no_board(world, gql):
    status, body = gql(BOARD, {}, user=world.resident)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_another_areas_board_is_refused(world, gql):
    status, body = gql(BOARD, {"areaId": gid("Area", world.grid_b1.pk)}, user=world.worker_a1)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_closed_tasks_leave_the_active_board(world, gql):
    task = create_task(TaskSpec(title="完成了"), area=world.grid_a1, dispatch=False)
    Task.objects.filter(pk=task.pk).update(status="DONE")
    assert gql.data(BOARD, {}, user=world.worker_a1)["tasks"]["totalCount"] == 0
    assert gql.data(BOARD, {"activeOnly": False}, user=world.worker_a1)["tasks"]["totalCount"] == 1
