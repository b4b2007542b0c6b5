"""Live over a real WebSocket (graphql-transport-ws): staff watch a safety check's counts,
residents receive the alerts of their area."""

import pytest
from graphql_relay import to_global_id

from emergency.alerts import issue_alert
from emergency.models import SafetyStatus
from emergency.safety import start_safety_check
from emergency.safety_answers import answer_safety_check
from emergency.tasks import run_pending_emergency_jobs
from notifications import events
from tests.graphql import token_for
from tests.operations import operation
from tests.wsclient import GraphQLWSClient, group_size

from .emergency_support import ALERT_PARAMS, _emergency_isolation, resident  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_see_safety_check_counts_change_live(world, live_server_asgi, settings):
    settings.SAFETY_PUSH_INTERVAL_SECONDS = 0.05
    person = resident(world.grid_a1, "王", app=True)
    resident(world.grid_a1, "李")
    check = start_safety_check(world.com_a, by=world.admin_a)
    run_pending_emergency_jobs()
    with GraphQLWSClient(live_server_asgi.ws_url, token_for(world.admin_a)) as ws:
        ws.subscribe("c", operation("emergency/OnSafetyCheckCounts"), {"safetyCheckId": to_global_id("SafetyCheck", check.pk)})
        first = ws.receive_for("c", timeout=10)["payload"]["data"]["safetyCheckCounts"]
        assert (first["total"], first["accountedFor"]) == (2, 0)
        ws.wait_until_subscribed(lambda: group_size(events.safety_check_group(check.pk)) > 0)
        row = SafetyStatus.objects.select_related("resident", "grid", "safety_check").get(resident=person)
        answer_safety_check(row, "SAFE", by=person.user, channel="APP")
        update = ws.receive_for("c", timeout=10)["payload"]["data"]["safetyCheckCounts"]
    assert (update["safe"], update["unanswered"]) == (1, 1)


def test_another_communitys_staff_cannot_watch_a_check(world, live_server_asgi):
    check = start_safety_check(world.com_a, by=world.admin_a)
    with GraphQLWSClient(live_server_asgi.ws_url, token_for(world.admin_b)) as ws:
        ws.subscribe("c", operation("emergency/OnSafetyCheckCounts"), {"safetyCheckId": to_global_id("SafetyCheck", check.pk)})
        message = ws.receive_for("c", timeout=10)
    assert message["type"] == "error" and message["payload"][0]["extensions"]["code"] == "NOT_FOUND"


def test_a_resident_receives_alerts_for_their_area_and_the_areas_above(world, live_server_asgi):
    person = resident(world.grid_a1, "王", app=True)
    with GraphQLWSClient(live_server_asgi.ws_url, token_for(person.user)) as ws:
        ws.subscribe("a", operation("emergency/OnAreaAlert"), {"areaId": to_global_id("Area", world.grid_a1.pk)})
        ws.wait_until_subscribed(lambda: group_size(events.area_group(world.district.pk)) > 0)
        issue_alert(world.district, ALERT_PARAMS, by=world.commander, is_drill=True)
        alert = ws.receive_for("a", timeout=10)["payload"]["data"]["areaAlerts"]
    assert alert["isDrill"] and alert["headline"] == ALERT_PARAMS["headline"] and alert["area"]["name"] == "东区"


def test_counts_follow_the_fan_out_as_its_chunks_land(world, live_server_asgi, settings):
    """Issue 17.2: the first event is the snapshot at subscription (nothing fanned out yet);
    then fresh counts arrive as the fan-out's chunks commit, with nobody answering, until the
    board shows every resident and the vulnerable ones."""
    settings.SAFETY_PUSH_INTERVAL_SECONDS = 0.05
    settings.EMERGENCY_FANOUT_CHUNK = settings.EMERGENCY_SAFETY_CHECK_CHUNK = 1
    resident(world.grid_a1, "独居老人", elderly_living_alone=True)
    resident(world.grid_a1, "王")
    resident(world.grid_a2, "李")
    check = start_safety_check(world.com_a, by=world.admin_a)
    with GraphQLWSClient(live_server_asgi.ws_url, token_for(world.admin_a)) as ws:
        ws.subscribe("c", operation("emergency/OnSafetyCheckCounts"), {"safetyCheckId": to_global_id("SafetyCheck", check.pk)})
        first = ws.receive_for("c", timeout=10)["payload"]["data"]["safetyCheckCounts"]
        # The snapshot while the fan-out is pending: no status rows yet, so no vulnerable count
        # and no grid (the total is the residents counted at the start).
        assert (first["total"], first["vulnerable"], first["byGrid"]) == (3, 0, [])
        ws.wait_until_subscribed(lambda: group_size(events.safety_check_group(check.pk)) > 0)
        run_pending_emergency_jobs()  # chunk by chunk, one resident each; nobody answers
        latest, updates = first, 0
        while latest["vulnerable"] < 1 or sum(g["unanswered"] for g in latest["byGrid"]) < 3:
            latest = ws.receive_for("c", timeout=10)["payload"]["data"]["safetyCheckCounts"]
            updates += 1
    assert (latest["total"], latest["vulnerable"], latest["unanswered"], latest["accountedFor"]) == (3, 1, 3, 0)
    assert {g["area"]["name"]: g["unanswered"] for g in latest["byGrid"]} == {"甲一网格": 2, "甲二网格": 1}
    assert updates >= 1
