"""Live occupancy over a real WebSocket (graphql-transport-ws): whoever watches a shelter sees
people check in and out as it happens; a closed shelter of another area is not theirs to watch."""

import pytest

from notifications import events
from resources.facilities import check_in, check_out
from tests.graphql import token_for
from tests.operations import operation
from tests.wsclient import GraphQLWSClient, group_size

from .conftest import gid, household, shelter

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_resident_watches_a_shelter_fill_and_empty(world, live_server_asgi):
    school = shelter(world.com_a, capacity=3)
    wang = household(world.grid_a1, "1幢101", ("王奶奶", {"elderly_living_alone": True}), ("王小明", {}))
    with GraphQLWSClient(live_server_asgi.ws_url, token_for(world.resident)) as ws:
        ws.subscribe("o", operation("resources/OnFacilityUpdated"), {"facilityId": gid("Facility", school)})
        now = ws.receive_for("o", timeout=10)["payload"]["data"]["facilityUpdated"]
        assert (now["status"], now["occupancy"], now["room"]) == ("OPEN", 0, 3)
        ws.wait_until_subscribed(lambda: group_size(events.facility_group(school.pk)) > 0)
        check_in(school, household=wang, walk_ins=["过路人"], by=world.admin_a)
        full = ws.receive_for("o", timeout=10)["payload"]["data"]["facilityUpdated"]
        check_out(school, household=wang, by=world.admin_a)
        emptied = ws.receive_for("o", timeout=10)["payload"]["data"]["facilityUpdated"]
    assert (full["status"], full["occupancy"], full["room"]) == ("FULL", 3, 0)
    assert (emptied["status"], emptied["occupancy"]) == ("OPEN", 0)


def test_a_closed_shelter_is_not_for_residents_to_watch(world, live_server_asgi):
    school = shelter(world.com_a, open_=False)
    with GraphQLWSClient(live_server_asgi.ws_url, token_for(world.resident)) as ws:
        ws.subscribe("o", operation("resources/OnFacilityUpdated"), {"facilityId": gid("Facility", school)})
        message = ws.receive_for("o", timeout=10)
    assert message["type"] == "error" and message["payload"][0]["extensions"]["code"] == "NOT_FOUND"


def test_staff_watch_every_facility_of_their_area(world, live_server_asgi):
    school = shelter(world.com_a, capacity=10)
    with GraphQLWSClient(live_server_asgi.ws_url, token_for(world.admin_a)) as ws:
        ws.subscribe("a", operation("resources/OnFacilitiesInArea"), {"areaId": gid("Area", world.com_a)})
        ws.wait_until_subscribed(lambda: group_size(events.area_group(world.com_a.pk)) > 0)
        check_in(school, walk_ins=["过路人"], by=world.admin_a)
        changed = ws.receive_for("a", timeout=10)["payload"]["data"]["facilitiesInArea"]
    assert (changed["name"], changed["occupancy"], changed["room"]) == (school.name, 1, 9)
