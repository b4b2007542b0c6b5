import datetime as dt

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db

LOGIN = """mutation($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) { token refreshToken } }"""
ME = "{ me { username phone roles { role area { name } } } }"


def test_staff_logs_in_with_password_and_reads_own_profile(world, gql):
    data = gql.data(LOGIN, {"u": "worker_a1", "p": "pw-for-tests-123"})
    token = data["tokenAuth"]["token"]
    status, body = gql(ME, headers={"HTTP_AUTHORIZATION": f"Bearer {token}"})
    assert status == 200
    me = body["data"]["me"]
    assert me["username"] == "worker_a1"
    assert me["phone"] == "+8613800000001"
    assert me["roles"] == [{"role": "GRID_WORKER", "area": {"name": "甲一网格"}}]


def test_wrong_password_is_refused_without_a_token(world, gql):
    status, body = gql(LOGIN, {"u": "worker_a1", "p": "wrong"})
    assert body["data"]["tokenAuth"] is None
    assert "credentials" in body["errors"][0]["message"].lower()


def test_anonymous_me_is_null(gql):
    assert gql.data(ME) == {"me": None}


def test_bad_token_is_401_with_code(world, gql):
    status, body = gql(ME, headers={"HTTP_AUTHORIZATION": "Bearer not-a-token"})
    assert status == 401
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_expired_token_is_401_token_expired(world, gql):
    from graphql_jwt.shortcuts import get_token

    with override_settings(GRAPHQL_JWT={"JWT_EXPIRATION_DELTA": dt.timedelta(seconds=-10), "JWT_AUTH_HEADER_PREFIX": "Bearer"}):
        from graphql_jwt.settings import jwt_settings

        jwt_settings.reload() if hasattr(jwt_settings, "reload") else None
        token = get_token(world.worker_a1)
    status, body = gql(ME, headers={"HTTP_AUTHORIZATION": f"Bearer {token}"})
    assert status == 401
    assert body["errors"][0]["extensions"]["code"] == "TOKEN_EXPIRED"


def test_refresh_token_gives_new_access_token(world, gql):
    refresh = gql.data(LOGIN, {"u": "admin_a", "p": "pw-for-tests-123"})["tokenAuth"]["refreshToken"]
    data = gql.data("mutation($r: String!) { refreshToken(refreshToken: $r) { token refreshToken } }", {"r": refresh})
    assert data["refreshToken"]["token"]


def test_revoked_refresh_token_no_longer_works(world, gql):
    refresh = gql.data(LOGIN, {"u": "admin_a", "p": "pw-for-tests-123"})["tokenAuth"]["refreshToken"]
    gql.data("mutation($r: String!) { revokeToken(refreshToken: $r) { revoked } }", {"r": refresh})
    status, body = gql("mutation($r: String!) { refreshToken(refreshToken: $r) { token } }", {"r": refresh})
    assert body["errors"]


def test_session_cookie_alone_does_not_authenticate_graphql(world, client, gql):
    client.force_login(world.admin_a)
    assert gql.data(ME) == {"me": None}
