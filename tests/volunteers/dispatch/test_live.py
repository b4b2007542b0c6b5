"""Live over a real WebSocket (graphql-transport-ws against the ASGI app): a volunteer's
myOffers, a task's taskUpdated, a grid worker's tasksInArea; and nothing for strangers."""

import pytest
from graphql_relay import to_global_id

from notifications import events
from tests.graphql import token_for
from tests.operations import operation
from tests.wsclient import GraphQLWSClient, group_size
from volunteers.models import Offer
from volunteers.services import TaskSpec, create_task, respond_to_offer

from .conftest import helper

pytestmark = pytest.mark.django_db(transaction=True)




def test_a_volunteer_receives_the_offer_and_its_change(world, live_server_asgi):
    v = helper(world.grid_a1, 250)
    with GraphQLWSClient(live_server_asgi.ws_url, token_for(v.user)) as ws:
        ws.subscribe("o", operation("tasks/OnMyOffers"))
        ws.wait_until_subscribed(lambda: group_size(events.user_group(v.user_id)) > 0)
        task = create_task(TaskSpec(title="送餐", priority="URGENT"), area=world.grid_a1)
        offered = ws.receive_for("o", timeout=10)["payload"]["data"]["myOffers"]
        assert offered["status"] == "PENDING" and offered["task"]["title"] == "送餐" and offered["task"]["area"]["name"] == "甲一网格"
        assert offered["distanceM"] == pytest.approx(250, rel=0.01) and 590 < offered["secondsLeft"] <= 600
        respond_to_offer(Offer.objects.get(task=task), accept=True)
        changed = ws.receive_for("o", timeout=10)["payload"]["data"]["myOffers"]
        assert changed["id"] == offered["id"] and changed["status"] == "ACCEPTED"


def test_staff_watch_a_task_and_their_board(world, live_server_asgi):
    v = helper(world.grid_a1, 100)
    task = create_task(TaskSpec(title="清障", priority="URGENT", headcount=1), area=world.grid_a1)
    with GraphQLWSClient(live_server_asgi.ws_url, token_for(world.admin_a)) as ws:
        ws.subscribe("t", operation("tasks/OnTaskUpdated"), {"taskId": to_global_id("Task", task.pk)})
        ws.subscribe("b", operation("tasks/OnTasksInArea"), {"areaId": to_global_id("Area", world.com_a.pk)})
        ws.wait_until_subscribed(lambda: group_size(events.task_group(task.pk)) > 0 and group_size(events.area_group(world.com_a.pk)) > 0)
        respond_to_offer(Offer.objects.get(task=task, user=v.user), accept=True)
        update = ws.receive_for("t", timeout=10)["payload"]["data"]["taskUpdated"]
        assert update["change"] == "ACCEPTED" and update["task"]["status"] == "STAFFED" and update["task"]["filledCount"] == 1
        board = ws.receive_for("b", timeout=10)["payload"]["data"]["tasksInArea"]
        assert board["change"] == "ACCEPTED" and board["task"]["area"]["name"] == "甲一网格"
        create_task(TaskSpec(title="新任务"), area=world.grid_a2, dispatch=False)
        created = ws.receive_for("b", timeout=10)["payload"]["data"]["tasksInArea"]
        assert created["created"] is True and created["task"]["title"] == "新任务"


@pytest.mark.parametrize("subscription, variables", [
    ("tasks/OnTaskUpdated", "task"),
    ("tasks/OnTasksInArea", "area"),
])
def test_strangers_cannot_subscribe(world, live_server_asgi, subscription, variables):
    task = create_task(TaskSpec(title="清障"), area=world.grid_a1, dispatch=False)
    ids = {"task": {"taskId": to_global_id("Task", task.pk)}, "area": {"areaId": to_global_id("Area", world.grid_a1.pk)}}
    with GraphQLWSClient(live_server_asgi.ws_url, token_for(world.worker_b1)) as ws:
        ws.subscribe("x", operation(subscription), ids[variables])
        message = ws.receive_for("x", timeout=10)
    assert message["type"] == "error" and message["payload"][0]["extensions"]["code"] == "NOT_FOUND"
