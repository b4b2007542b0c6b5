"""Staff (and everyone) list their live sessions and end one; another person's is not theirs."""

import pytest

from tests.operations import operation

pytestmark = pytest.mark.django_db
LOGIN = operation("community/Login")
REFRESH = operation("community/Refresh")


def login(gql, username):
    return gql.data(LOGIN, {"username": username, "password": "pw-for-tests-123"})["tokenAuth"]


def test_each_login_is_a_session_and_revoking_one_stops_its_refresh(world, gql):
    laptop, phone = login(gql, "worker_a1"), login(gql, "worker_a1")
    sessions = gql.data(operation("privacy/MySessions"), user=world.worker_a1)["mySessions"]
    assert len(sessions) == 2 and all(s["expiresAt"] > s["lastRefreshedAt"] for s in sessions)
    newest = sessions[0]["id"]
    done = gql.data(operation("privacy/RevokeSession"), {"id": newest}, user=world.worker_a1)["revokeSession"]
    assert done == {"errors": [], "revoked": True}
    assert [s["id"] for s in gql.data(operation("privacy/MySessions"), user=world.worker_a1)["mySessions"]] == [sessions[1]["id"]]
    assert gql.data(REFRESH, {"refreshToken": laptop["refreshToken"]})["refreshToken"]["token"]  # the other goes on
    status, body = gql(REFRESH, {"refreshToken": phone["refreshToken"]})
    assert body["data"]["refreshToken"] is None  # the revoked session cannot renew (and, as a reused token,
    assert gql.data(operation("privacy/MySessions"), user=world.worker_a1)["mySessions"] == []  # ends them all)


def test_someone_else_s_session_cannot_be_revoked(world, gql):
    login(gql, "worker_a1")
    theirs = gql.data(operation("privacy/MySessions"), user=world.worker_a1)["mySessions"][0]["id"]
    refused = gql.data(operation("privacy/RevokeSession"), {"id": theirs}, user=world.worker_b1)["revokeSession"]
    assert [e["code"] for e in refused["errors"]] == ["NOT_FOUND"] and refused["revoked"] is None
    assert len(gql.data(operation("privacy/MySessions"), user=world.worker_a1)["mySessions"]) == 1
    assert gql.data(operation("privacy/MySessions"), user=world.worker_b1)["mySessions"] == []
