"""Live over a real WebSocket: a commander watching the district sees the proposal an incoming
warning makes for a community below it as it is made."""

import pytest

from emergency.models import WarningSource
from emergency.warnings.ingest import ingest_cap
from notifications import events
from tests.graphql import token_for
from tests.operations import operation
from tests.wsclient import GraphQLWSClient, group_size

from .cap_documents import cap
from .emergency_support import _emergency_isolation, gid  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_commander_sees_proposals_for_the_areas_below_live(world, live_server_asgi):
    source = WarningSource.objects.create(code="cma", name="气象台", kind="CAP_WEBHOOK", secret="k")
    with GraphQLWSClient(live_server_asgi.ws_url, token_for(world.commander)) as ws:
        ws.subscribe("w", operation("emergency/OnWarningProposed"), {"areaId": gid("Area", world.district)})
        ws.wait_until_subscribed(lambda: group_size(events.area_group(world.district.pk)) > 0)
        ingest_cap(cap("live-1", circle="30.27,120.15 1"), source=source)
        proposal = ws.receive_for("w", timeout=10)["payload"]["data"]["warningProposed"]
    assert (proposal["status"], proposal["mode"], proposal["area"]["name"]) == ("PENDING", "STANDBY", "甲社区")
    assert proposal["warning"]["headline"] == "暴雨红色预警"


def test_a_resident_cannot_watch_proposals(world, live_server_asgi):
    with GraphQLWSClient(live_server_asgi.ws_url, token_for(world.resident)) as ws:
        ws.subscribe("w", operation("emergency/OnWarningProposed"), {"areaId": gid("Area", world.com_a)})
        message = ws.receive_for("w", timeout=10)
    assert message["type"] == "error" and message["payload"][0]["extensions"]["code"] == "NOT_FOUND"
