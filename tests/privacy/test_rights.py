"""Correction and erasure requests, tracked to an answer by staff of the person's grid."""

import pytest
from graphql_relay import to_global_id

from community.models import EmergencyContact, Resident, RightsRequest, User
from notifications.models import Notification
from notifications.services import notify
from tests.graphql import token_for
from tests.operations import operation

pytestmark = pytest.mark.django_db


def test_a_correction_is_tracked_to_the_answer(world, gql, people):
    asked = gql.data(operation("privacy/RequestCorrection"), {"field": "ADDRESS", "value": "甲社区1幢102", "reason": "门牌写错"},
                     user=world.resident)["requestCorrection"]
    assert asked["errors"] == [] and (asked["request"]["status"], asked["request"]["field"]) == ("OPEN", "address")
    listed = gql.data(operation("privacy/RightsRequests"), {"status": "OPEN"}, user=world.worker_a1)["rightsRequests"]
    assert [(e["node"]["kind"], e["node"]["requestedValue"]) for e in listed["edges"]] == [("CORRECTION", "甲社区1幢102")]
    assert gql.data(operation("privacy/RightsRequests"), {}, user=world.worker_b1)["rightsRequests"]["totalCount"] == 0
    answer = {"id": asked["request"]["id"], "done": True, "answer": "已改为1幢102"}
    status, body = gql(operation("privacy/AnswerRightsRequest"), answer, user=world.worker_b1)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    done = gql.data(operation("privacy/AnswerRightsRequest"), answer, user=world.worker_a1)["answerRightsRequest"]
    assert done["request"]["status"] == "DONE" and done["request"]["answeredAt"]
    again = gql.data(operation("privacy/AnswerRightsRequest"), answer, user=world.admin_a)["answerRightsRequest"]
    assert [e["code"] for e in again["errors"]] == ["ALREADY_ANSWERED"]
    mine = gql.data(operation("privacy/MyRightsRequests"), user=world.resident)["myRightsRequests"]
    assert [(r["status"], r["answer"]) for r in mine] == [("DONE", "已改为1幢102")]
    assert gql.data(operation("privacy/MyRightsRequests"), user=world.other_resident)["myRightsRequests"] == []


def test_a_correction_of_an_unknown_field_or_without_a_value_changes_nothing(world, gql, people):
    body = gql.data(operation("privacy/RequestCorrection"), {"field": "ADDRESS", "value": "  "}, user=world.resident)
    assert [e["code"] for e in body["requestCorrection"]["errors"]] == ["REQUIRED"]
    assert not RightsRequest.objects.exists()


def test_an_erasure_approved_by_staff_closes_the_account_and_strips_the_record(world, gql, client, people):
    notify(world.resident, kind="test.private", title="私人通知", body="x")
    asked = gql.data(operation("privacy/RequestErasure"), {"reason": "搬走了"}, user=world.resident)["requestErasure"]
    twice = gql.data(operation("privacy/RequestErasure"), {}, user=world.resident)["requestErasure"]
    assert [e["code"] for e in twice["errors"]] == ["ALREADY_REQUESTED"]
    token = token_for(world.resident)
    done = gql.data(operation("privacy/AnswerRightsRequest"),
                    {"id": asked["request"]["id"], "done": True, "answer": "已注销；服务时长记录依法保留"},
                    user=world.admin_a)["answerRightsRequest"]
    assert done["request"]["status"] == "DONE"
    me = Resident.objects.get(pk=people["me"].pk)
    assert (me.display_name, me.phone, me.address, me.lat, me.care_notes, me.is_vulnerable, me.user_id) == (
        "已注销居民", None, "", None, "", False, None)
    assert not EmergencyContact.objects.filter(resident=me).exists()
    account = User.objects.get(pk=world.resident.pk)
    assert (account.is_active, account.phone, account.username, account.has_usable_password()) == (
        False, None, f"erased-{account.pk}", False)
    assert not Notification.objects.filter(user=account).exists()
    # The old access token no longer works.
    response = client.post("/graphql/", data='{"query": "{ me { id } }"}', content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.json().get("data", {}).get("me") is None


def test_an_erasure_refused_for_a_legal_duty_keeps_the_record_and_says_why(world, gql, people):
    asked = gql.data(operation("privacy/RequestErasure"), {}, user=world.other_resident)["requestErasure"]
    gql.data(operation("privacy/AnswerRightsRequest"), {"id": asked["request"]["id"], "done": False,
                                                        "answer": "应急期间依法保留，结束后再办理"}, user=world.worker_b1)
    assert Resident.objects.get(pk=people["other"].pk).display_name == "赵桂兰"
    mine = gql.data(operation("privacy/MyRightsRequests"), user=world.other_resident)["myRightsRequests"]
    assert (mine[0]["status"], mine[0]["answer"]) == ("REFUSED", "应急期间依法保留，结束后再办理")


def test_residents_may_not_list_or_answer_requests(world, gql, people):
    asked = gql.data(operation("privacy/RequestErasure"), {}, user=world.resident)["requestErasure"]
    status, body = gql(operation("privacy/RightsRequests"), {}, user=world.resident)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    status, body = gql(operation("privacy/AnswerRightsRequest"), {"id": asked["request"]["id"], "done": True, "answer": "x"},
                       user=world.other_resident)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert gql.data("query($id: ID!) { node(id: $id) { id } }", {"id": asked["request"]["id"]},
                    user=world.other_resident)["node"] is None
    assert to_global_id("RightsRequest", RightsRequest.objects.get().pk) == asked["request"]["id"]
