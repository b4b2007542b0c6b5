"""Warnings that come in through the signed webhook: validated against the OASIS schema,
matched to areas by circle, polygon and geocode, de-duplicated, followed by their updates and
cancellations, and turned into proposals that commanders decide (timed) — or into a switch
where the area's plan says so. Unsigned, stale, forged or replayed requests and invalid
documents are refused and change nothing."""

import datetime as dt

import pytest
from django.utils import timezone

from community.models import Area, ModeSwitch
from emergency.models import (
    IncomingWarning,
    PlanRun,
    ProposalStatus,
    WarningProposal,
    WarningSource,
    WebhookNonce,
)
from emergency.plans import save_plan_version
from emergency.switching import switch_mode
from emergency.warnings.cap_in import read_cap
from emergency.warnings.matching import covers
from emergency.warnings.proposals import expire_proposals
from emergency.warnings.signing import signed_headers
from notifications.models import Notification
from tests.operations import operation

from .cap_documents import cap, post_signed, reference
from .emergency_support import _emergency_isolation, gid  # noqa: F401

pytestmark = pytest.mark.django_db

KEY = "shared-secret-of-the-weather-bureau"
URL = "/warnings/cap/weather/"
AROUND_A = "30.270000,120.150000 2"  # a 2 km circle around community A's centre
AROUND_B = "30.285,120.165 30.285,120.175 30.295,120.175 30.295,120.165 30.285,120.165"  # community B's centre inside

PROPOSALS = operation("emergency/WarningProposals")
DECIDE = operation("emergency/DecideWarningProposal")
WARNINGS = operation("emergency/IncomingWarnings")


@pytest.fixture
def source(db) -> WarningSource:
    return WarningSource.objects.create(code="weather", name="市气象台", kind="CAP_WEBHOOK", secret=KEY)


def send(client, body: bytes, **kwargs):
    return post_signed(client, URL, body, KEY, **kwargs)


def test_a_warning_covering_a_community_becomes_a_proposal_its_commanders_decide(world, client, gql, source):
    response = send(client, cap("bj-001", circle=AROUND_A))
    assert response.status_code == 200 and response.json() == {"outcome": "created", "identifier": "bj-001", "proposals": 1}
    proposal = WarningProposal.objects.get()
    assert (proposal.area, proposal.mode, proposal.status) == (world.com_a, "STANDBY", "PENDING")
    told = Notification.objects.filter(kind="warning.proposal")
    assert {n.user.username for n in told} == {"admin_a", "commander"}
    assert "暴雨（严重）覆盖甲社区。是否将甲社区切换为预警状态" in told.get(user=world.admin_a).body

    pending = gql.data(PROPOSALS, {"status": "PENDING"}, user=world.admin_a)["warningProposals"]["edges"]
    assert [(e["node"]["area"]["name"], e["node"]["canDecide"]) for e in pending] == [("甲社区", True)]
    decided = gql.data(DECIDE, {"proposalId": pending[0]["node"]["id"], "accept": True, "note": "同意", "key": "d1"},
                       user=world.admin_a)["decideWarningProposal"]["proposal"]
    assert decided["status"] == "ACCEPTED" and decided["switchedTo"] == "STANDBY" and decided["secondsToDecide"] >= 0
    assert decided["modeSwitch"]["toMode"] == "STANDBY" and Area.objects.get(pk=world.com_a.pk).mode == "STANDBY"
    again = gql.data(DECIDE, {"proposalId": pending[0]["node"]["id"], "accept": False}, user=world.commander)
    assert again["decideWarningProposal"]["errors"][0]["code"] == "PROPOSAL_NOT_PENDING"


def test_a_commander_may_accept_into_emergency_or_decline(world, gql, client, source):
    send(client, cap("bj-002", circle=AROUND_A))
    proposal = WarningProposal.objects.get()
    gql.data(DECIDE, {"proposalId": gid("WarningProposal", proposal), "accept": True, "mode": "EMERGENCY"}, user=world.commander)
    assert Area.objects.get(pk=world.com_a.pk).mode == "EMERGENCY"
    send(client, cap("bj-003", circle="30.29,120.17 1"))
    other = WarningProposal.objects.get(area=world.com_b)
    declined = gql.data(DECIDE, {"proposalId": gid("WarningProposal", other), "accept": False, "note": "雨势已减弱"},
                        user=world.admin_b)["decideWarningProposal"]["proposal"]
    assert declined["status"] == "DECLINED" and declined["modeSwitch"] is None
    assert Area.objects.get(pk=world.com_b.pk).mode == "NORMAL"


def test_staff_who_may_not_switch_the_area_cannot_decide_and_nothing_changes(world, gql, client, source):
    send(client, cap("bj-004", circle=AROUND_A))
    proposal = WarningProposal.objects.get()
    for user in (world.admin_b, world.worker_a1):
        status, body = gql(DECIDE, {"proposalId": gid("WarningProposal", proposal), "accept": True}, user=user)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert WarningProposal.objects.get().status == "PENDING" and not ModeSwitch.objects.exists()
    assert gql.data(PROPOSALS, {}, user=world.admin_b)["warningProposals"]["totalCount"] == 0


def test_the_same_message_twice_is_taken_once(world, client, source):
    body = cap("bj-005", circle=AROUND_A)
    send(client, body)
    again = send(client, body)
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    assert (IncomingWarning.objects.count(), WarningProposal.objects.count()) == (1, 1)


def test_an_update_supersedes_its_original_and_a_cancel_closes_what_is_pending(world, client, gql, source):
    sent = timezone.now() - dt.timedelta(minutes=5)
    send(client, cap("bj-006", circle=AROUND_A, severity="Moderate", sent=sent))
    original = IncomingWarning.objects.get()
    update = cap("bj-006-u1", msg_type="Update", circle=AROUND_A, references=reference("bj-006", sent))
    assert send(client, update).json()["proposals"] == 1
    assert WarningProposal.objects.get(warning=original).status == ProposalStatus.SUPERSEDED
    updated = IncomingWarning.objects.get(identifier="bj-006-u1")
    assert updated.references == original and IncomingWarning.objects.get(pk=original.pk).superseded_at is not None
    cancel = cap("bj-006-c", msg_type="Cancel", circle=AROUND_A, references=f"{reference('bj-006', sent)} "
                 f"{reference('bj-006-u1', updated.sent)}")
    assert send(client, cancel).json()["proposals"] == 0
    assert WarningProposal.objects.get(warning=updated).status == ProposalStatus.CANCELLED
    listed = gql.data(WARNINGS, {"areaId": gid("Area", world.grid_a1), "activeOnly": True}, user=world.admin_a)
    assert listed["incomingWarnings"]["totalCount"] == 0
    everything = gql.data(WARNINGS, {"areaId": gid("Area", world.grid_a1)}, user=world.admin_a)["incomingWarnings"]["edges"]
    assert [e["node"]["msgType"] for e in everything] == ["Cancel", "Update", "Alert"]
    assert everything[0]["node"]["references"]["identifier"] == "bj-006-u1"


def test_a_plan_that_says_so_switches_the_area_by_itself(world, client, source):
    save_plan_version(world.com_a, "STANDBY", name="暴雨预警预案", actions=[], by=world.admin_a, auto_switch_severity="Severe")
    send(client, cap("bj-007", circle=AROUND_A, severity="Moderate"))
    assert WarningProposal.objects.get().status == "PENDING" and Area.objects.get(pk=world.com_a.pk).mode == "NORMAL"
    WarningProposal.objects.all().delete()
    send(client, cap("bj-008", circle=AROUND_A, severity="Extreme"))
    proposal = WarningProposal.objects.get()
    assert (proposal.status, proposal.switched_to, proposal.plan_version) == ("AUTO_SWITCHED", "STANDBY", 1)
    assert proposal.mode_switch.switched_by is None and PlanRun.objects.get(mode_switch=proposal.mode_switch).plan_version == 1
    assert Area.objects.get(pk=world.com_a.pk).mode == "STANDBY"
    assert Notification.objects.filter(kind="warning.proposal", body__contains="已按预案自动切换").count() == 2


def test_areas_already_on_alert_and_exercises_get_no_proposal(world, client, source):
    switch_mode(world.com_a, "STANDBY", by=world.admin_a)
    send(client, cap("bj-009", circle=AROUND_A))
    send(client, cap("bj-010", circle="30.29,120.17 1", status="Exercise"))
    assert not WarningProposal.objects.exists()
    assert set(IncomingWarning.objects.get(identifier="bj-010").matched_areas.all()) == {world.com_b}
    send(client, cap("bj-015", circle=AROUND_A, severity="Extreme"))  # more than STANDBY: escalate
    assert WarningProposal.objects.get(warning__identifier="bj-015").mode == "EMERGENCY"


def test_polygons_and_geocodes_match_the_highest_area_covered(world, client, source):
    send(client, cap("bj-011", polygon=AROUND_B))
    assert list(IncomingWarning.objects.get().matched_areas.all()) == [world.com_b]
    send(client, cap("bj-012", geocode=("LINLI_AREA", "t-d-a")))  # subdistrict A: its community is covered with it
    assert list(IncomingWarning.objects.get(identifier="bj-012").matched_areas.all()) == [world.sub_a]
    assert WarningProposal.objects.get(warning__identifier="bj-012").area == world.sub_a
    send(client, cap("bj-013", geocode=("GB2260", "330106")))
    assert not IncomingWarning.objects.get(identifier="bj-013").matched_areas.exists()


def test_area_boundaries_plug_in_where_the_area_model_has_them(world):
    """With a boundary, a shape that overlaps the area counts even if it misses its centre."""
    shape = read_cap(cap("x", polygon="30.260,120.158 30.260,120.170 30.280,120.170 30.280,120.158 30.260,120.158")).areas[0]
    area = Area.objects.get(pk=world.com_a.pk)
    assert not covers(shape, area)  # the centre (30.27, 120.15) is outside the polygon
    area.boundary = {"type": "Polygon", "coordinates": [[[120.14, 30.26], [120.16, 30.26], [120.16, 30.28], [120.14, 30.28],
                                                          [120.14, 30.26]]]}
    assert covers(shape, area)
    near = read_cap(cap("y", circle="30.270000,120.162000 0.3")).areas[0]  # 1.1 km east of the centre, 200 m off the edge
    assert covers(near, area)
    del area.boundary
    assert not covers(near, area)


def test_pending_proposals_expire_with_their_warning(world, client, source):
    send(client, cap("bj-014", circle=AROUND_A, expires=timezone.now() + dt.timedelta(minutes=30)))
    assert expire_proposals(now=timezone.now() + dt.timedelta(hours=1)) == 1
    assert WarningProposal.objects.get().status == "EXPIRED"


# --- refused -------------------------------------------------------------------------------------
def nothing_stored():
    return not IncomingWarning.objects.exists() and not WarningProposal.objects.exists() and not WebhookNonce.objects.exists()


def test_an_invalid_cap_document_is_refused_with_the_schema_s_reasons(world, client, source):
    bad = cap("bj-020", circle=AROUND_A, severity="Apocalyptic")
    response = send(client, bad)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_cap"
    assert any("severity" in p for p in response.json()["error"]["problems"])
    not_xml = send(client, b"<alert>")
    assert not_xml.status_code == 400 and "Not well-formed" in not_xml.json()["error"]["problems"][0]
    bad_polygon = send(client, cap("bj-021", polygon="30.1,120.1 30.2,120.2 95,120.3 30.1,120.1"))
    assert bad_polygon.status_code == 400 and "out of range" in bad_polygon.json()["error"]["problems"][0]
    orphan_update = send(client, cap("bj-022", msg_type="Update", circle=AROUND_A))
    assert orphan_update.status_code == 400 and "references" in orphan_update.json()["error"]["problems"][0]
    assert nothing_stored()


def test_entities_are_never_expanded(world, client, source):
    evil = (b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&x;</identifier></alert>')
    response = send(client, evil)
    assert response.status_code == 400 and "root:" not in response.content.decode() and nothing_stored()


def test_unsigned_forged_stale_and_replayed_requests_are_refused(world, client, source):
    body = cap("bj-030", circle=AROUND_A)
    unsigned = post_signed(client, URL, body, KEY, headers={})
    assert (unsigned.status_code, unsigned.json()["error"]["code"]) == (401, "unsigned")
    forged = post_signed(client, URL, body, "not-the-key")
    assert (forged.status_code, forged.json()["error"]["code"]) == (401, "bad_signature")
    stale = send(client, body, timestamp=int(timezone.now().timestamp()) - 3600)
    assert (stale.status_code, stale.json()["error"]["code"]) == (401, "stale_timestamp")
    assert nothing_stored()
    first = send(client, body, nonce="nonce-0123456789abcdef")
    assert first.status_code == 200
    replayed = send(client, body, nonce="nonce-0123456789abcdef")
    assert (replayed.status_code, replayed.json()["error"]["code"]) == (409, "replayed")
    tampered = post_signed(client, URL, cap("bj-031", circle=AROUND_A), KEY,
                           headers={**_headers_for(body, "nonce-fedcba9876543210")})
    assert tampered.status_code == 401
    assert (IncomingWarning.objects.count(), WarningProposal.objects.count()) == (1, 1)


def _headers_for(body: bytes, nonce: str) -> dict:
    return signed_headers(KEY, body, nonce=nonce)


def test_an_unknown_or_disabled_source_is_not_found(world, client, source):
    assert post_signed(client, "/warnings/cap/nobody/", cap("x"), KEY).status_code == 404
    WarningSource.objects.update(is_enabled=False)
    assert send(client, cap("bj-040", circle=AROUND_A)).status_code == 404 and nothing_stored()
