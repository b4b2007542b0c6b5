"""People whose records a viewer may not see in their own right — a volunteer of another
community helping through mutual aid — show a masked phone and a rounded distance wherever
dispatch shows them: the task's offers, people and timeline, live pushes, node reads and the
nearby-volunteers search. Once they hold a place, the task's staff see their phone, for the
task's lifetime only (issue 13.1)."""

from __future__ import annotations

import pytest
from graphql_relay import to_global_id

from notifications import events
from notifications.models import Notification
from tests.graphql import token_for
from tests.volunteers.conftest import new_task
from tests.wsclient import GraphQLWSClient, group_size
from volunteers.models import Offer, Task
from volunteers.services import (
    close_task,
    offer_task_to,
    respond_to_offer,
    set_task_headcount,
    start_dispatch,
)

from .conftest import helper

PEOPLE = """query People($id: ID!) {
  task(id: $id) { offers { phone distanceM } people { phone }
    timeline(first: 50) { edges { node { kind data } } } }
}"""
LIVE = """subscription Live($taskId: ID!) {
  taskUpdated(taskId: $taskId) { change task { status offers { phone distanceM } people { phone } } }
}"""
NEARBY = """query Nearby($location: LocationInput!) {
  nearbyVolunteers(location: $location, radiusM: 2000, availableOnly: false) { edges { distanceM node { phone } } }
}"""


def mutual_aid_task(world):
    """The commander widens a task of 甲一 to the district; 乙's volunteer lives 333 m away."""
    helper_b = helper(world.grid_b1, 333, name="乙互助志愿者")
    task = new_task(world.grid_a1, title="转移物资", headcount=1, priority="URGENT", dispatch=False,
                    pool_area=world.district, created_by=world.commander)
    return task, helper_b


@pytest.mark.django_db
def test_a_grid_worker_sees_a_mutual_aid_volunteer_masked_until_they_take_the_place(world, gql, committed):
    task, helper_b = mutual_aid_task(world)
    with committed():
        start_dispatch(task, by=world.commander)
    phone = str(helper_b.user.phone)
    seen = gql.data(PEOPLE, {"id": to_global_id("Task", task.pk)}, user=world.worker_a1)["task"]
    assert seen["offers"][0]["phone"] != phone and seen["offers"][0]["phone"].endswith(phone[-4:])
    assert seen["offers"][0]["distanceM"] == 300.0  # 333 m, to the nearest 100
    offered = [e["node"]["data"] for e in seen["timeline"]["edges"] if e["node"]["kind"] == "OFFERED"]
    assert offered == [{"expiresAt": offered[0]["expiresAt"], "distanceM": 300.0}]
    own = gql.data(PEOPLE, {"id": to_global_id("Task", task.pk)}, user=world.commander)["task"]
    assert own["offers"][0]["distanceM"] == 300.0  # a commander has no personal-data right at all

    with committed():
        respond_to_offer(Offer.objects.get(task=task), accept=True)
    seen = gql.data(PEOPLE, {"id": to_global_id("Task", task.pk)}, user=world.worker_a1)["task"]
    assert seen["people"][0]["phone"] == phone and seen["offers"][0]["phone"] == phone
    assert seen["offers"][0]["distanceM"] == pytest.approx(333, abs=1)

    with committed():
        close_task(task, by=world.worker_a1)
    seen = gql.data(PEOPLE, {"id": to_global_id("Task", task.pk)}, user=world.worker_a1)["task"]
    assert seen["people"][0]["phone"] != phone and seen["offers"][0]["phone"] != phone


@pytest.mark.django_db
def test_their_own_staff_see_them_in_their_own_right_and_they_see_themselves(world, gql, committed):
    task, helper_b = mutual_aid_task(world)
    with committed():
        start_dispatch(task, by=world.commander)
    offer = Offer.objects.get(task=task)
    node = """query($id: ID!) { node(id: $id) { ... on Offer { phone distanceM } } }"""
    mine = gql.data(node, {"id": to_global_id("Offer", offer.pk)}, user=helper_b.user)["node"]
    assert mine == {"phone": str(helper_b.user.phone), "distanceM": pytest.approx(333, abs=1)}


@pytest.mark.django_db
def test_the_nearby_search_rounds_distances_for_those_who_may_not_see_homes(world, gql):
    near = helper(world.grid_a1, 333, name="甲一志愿者")
    location = {"latitude": world.grid_a1.center_lat, "longitude": world.grid_a1.center_lng}
    worker = gql.data(NEARBY, {"location": location}, user=world.worker_a1)["nearbyVolunteers"]["edges"]
    assert worker[0]["distanceM"] == pytest.approx(333, abs=1) and worker[0]["node"]["phone"] == str(near.user.phone)
    commander = gql.data(NEARBY, {"location": location}, user=world.commander)["nearbyVolunteers"]["edges"]
    assert commander[0]["distanceM"] == 300.0 and commander[0]["node"]["phone"] != str(near.user.phone)


@pytest.mark.django_db
def test_staff_alerts_from_dispatch_carry_no_ones_phone(world, committed):
    task, helper_b = mutual_aid_task(world)
    with committed():
        start_dispatch(task, by=world.commander)
    for n in Notification.objects.exclude(user=helper_b.user):
        assert str(helper_b.user.phone)[-8:] not in f"{n.title} {n.body} {n.data}"


@pytest.mark.django_db(transaction=True)
def test_live_task_pushes_mask_them_the_same_way(world, live_server_asgi):
    task, helper_b = mutual_aid_task(world)
    offer_task_to(task, helper_b, by=world.commander)  # before listening: no wave runs beside the server
    phone = str(helper_b.user.phone)
    with GraphQLWSClient(live_server_asgi.ws_url, token_for(world.worker_a1)) as ws:
        ws.subscribe("t", LIVE, {"taskId": to_global_id("Task", task.pk)})
        ws.wait_until_subscribed(lambda: group_size(events.task_group(task.pk)) > 0)
        set_task_headcount(Task.objects.get(pk=task.pk), 2, by=world.commander)
        pushed = _until(ws, lambda t: t["offers"])
        assert pushed["offers"][0]["phone"] != phone and pushed["offers"][0]["distanceM"] == 300.0
        respond_to_offer(Offer.objects.get(task=task), accept=True)
        pushed = _until(ws, lambda t: t["people"])
        assert pushed["people"][0]["phone"] == phone
        close_task(Task.objects.get(pk=task.pk), by=world.worker_a1)
        pushed = _until(ws, lambda t: t["status"] == "DONE")
        assert pushed["people"][0]["phone"] != phone


def _until(ws, wanted):
    for _ in range(10):
        task = ws.receive_for("t", timeout=10)["payload"]["data"]["taskUpdated"]["task"]
        if wanted(task):
            return task
    raise AssertionError("the push never came")
