import datetime as dt

import pytest
from django.test import override_settings

from community.models import IdempotencyRecord
from tests.operations import operation

pytestmark = pytest.mark.django_db

LOGIN = operation("community/Login")
ME = operation("community/Me")
REFRESH = operation("community/Refresh")


def login(gql, username: str) -> dict:
    return gql.data(LOGIN, {"username": username, "password": "pw-for-tests-123"})["tokenAuth"]


def test_staff_logs_in_with_password_and_reads_own_profile(world, gql):
    token = login(gql, "worker_a1")["token"]
    status, body = gql(ME, headers={"HTTP_AUTHORIZATION": f"Bearer {token}"})
    assert status == 200
    me = body["data"]["me"]
    assert me["username"] == "worker_a1"
    assert me["phone"] == "+8613800000001"
    assert me["preferredLanguage"] == "ZH_HANS"
    assert [(r["role"], r["area"]["name"], r["area"]["kind"]) for r in me["roles"]] == [("GRID_WORKER", "甲一网格", "GRID")]


def test_wrong_password_is_refused_without_a_token(world, gql):
    status, body = gql(LOGIN, {"username": "worker_a1", "password": "wrong"})
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
    refresh = login(gql, "admin_a")["refreshToken"]
    data = gql.data(REFRESH, {"refreshToken": refresh})["refreshToken"]
    status, body = gql(ME, headers={"HTTP_AUTHORIZATION": f"Bearer {data['token']}"})
    assert body["data"]["me"]["username"] == "admin_a"
    assert data["refreshToken"] and data["refreshToken"] != refresh


def test_revoked_refresh_token_no_longer_works(world, gql):
    refresh = login(gql, "admin_a")["refreshToken"]
    assert gql.data(operation("community/Logout"), {"refreshToken": refresh})["revokeToken"]["revoked"]
    status, body = gql(REFRESH, {"refreshToken": refresh})
    assert body["errors"] and body["data"]["refreshToken"] is None


def test_session_cookie_alone_does_not_authenticate_graphql(world, client, gql):
    client.force_login(world.admin_a)
    assert gql.data(ME) == {"me": None}


def test_malformed_authorization_header_is_401(world, gql):
    status, body = gql(ME, headers={"HTTP_AUTHORIZATION": "Token abc def"})
    assert status == 401 and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_disabled_user_token_stops_working(world, gql):
    token = login(gql, "worker_a1")["token"]
    world.worker_a1.is_active = False
    world.worker_a1.save()
    status, body = gql(ME, headers={"HTTP_AUTHORIZATION": f"Bearer {token}"})
    assert status == 401


LOGOUT = operation("community/Logout")


def me_with(gql, token: str):
    status, body = gql(ME, headers={"HTTP_AUTHORIZATION": f"Bearer {token}"})
    return status, body


def test_password_guessing_is_rate_limited_per_username(world, gql, settings):
    settings.LOGIN_PASSWORD_PER_USER_PER_HOUR = 5
    for i in range(5):
        status, body = gql(LOGIN, {"username": "admin_a", "password": f"guess-{i}"})
        assert body["data"]["tokenAuth"] is None and "credentials" in body["errors"][0]["message"].lower()
    status, body = gql(LOGIN, {"username": "admin_a", "password": "pw-for-tests-123"})
    assert body["data"]["tokenAuth"] is None
    assert body["errors"][0]["extensions"]["code"] == "RATE_LIMITED" and body["errors"][0]["extensions"]["retryAfter"] >= 1
    assert login(gql, "admin_b")["token"]  # someone else logs in as usual


def test_password_guessing_is_rate_limited_per_address(world, gql, settings):
    settings.LOGIN_PASSWORD_PER_ADDRESS_PER_HOUR = 3
    for name in ("admin_a", "admin_b", "worker_a1"):
        gql(LOGIN, {"username": name, "password": "nope"}, REMOTE_ADDR="10.9.9.9")
    status, body = gql(LOGIN, {"username": "commander", "password": "pw-for-tests-123"}, REMOTE_ADDR="10.9.9.9")
    assert body["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


def test_a_rotated_refresh_token_stops_working_and_its_reuse_ends_every_session(world, gql, settings):
    settings.TOKEN_RETRY_GRACE_SECONDS = 0  # past the window in which a lost answer may be retried
    first = login(gql, "admin_a")["refreshToken"]
    other_device = login(gql, "admin_a")["refreshToken"]
    second = gql.data(REFRESH, {"refreshToken": first})["refreshToken"]["refreshToken"]
    # The old one was rotated away: presented again it is refused ...
    status, body = gql(REFRESH, {"refreshToken": first})
    assert body["data"]["refreshToken"] is None and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # ... and, being the sign of a stolen copy, every live refresh token of the person is revoked.
    for token in (second, other_device):
        status, body = gql(REFRESH, {"refreshToken": token})
        assert body["data"]["refreshToken"] is None


def test_after_logout_neither_the_token_nor_its_predecessor_refreshes(world, gql):
    first = login(gql, "admin_a")["refreshToken"]
    second = gql.data(REFRESH, {"refreshToken": first})["refreshToken"]["refreshToken"]
    assert gql.data(LOGOUT, {"refreshToken": second})["revokeToken"]["revoked"]
    for token in (first, second):
        status, body = gql(REFRESH, {"refreshToken": token})
        assert body["data"]["refreshToken"] is None


def test_a_deactivated_account_cannot_refresh(world, gql):
    refresh = login(gql, "admin_a")["refreshToken"]
    world.admin_a.is_active = False
    world.admin_a.save(update_fields=["is_active"])
    status, body = gql(REFRESH, {"refreshToken": refresh})
    assert body["data"]["refreshToken"] is None and body["errors"]


def test_a_refresh_retried_within_the_grace_window_gets_the_same_pair(world, gql):
    """The answer to a refresh was lost: the app sends the same refresh token again and gets the
    very pair the first call issued, and nobody is logged out."""
    other_device = login(gql, "admin_a")["refreshToken"]
    first = login(gql, "admin_a")["refreshToken"]
    lost = gql.data(REFRESH, {"refreshToken": first})["refreshToken"]
    retried = gql.data(REFRESH, {"refreshToken": first})["refreshToken"]
    assert retried == lost and retried["refreshToken"] != first
    status, body = me_with(gql, retried["token"])
    assert body["data"]["me"]["username"] == "admin_a"
    # The pair works on, and so does the person's other device.
    third = gql.data(REFRESH, {"refreshToken": retried["refreshToken"]})["refreshToken"]["refreshToken"]
    assert gql.data(REFRESH, {"refreshToken": other_device})["refreshToken"]["refreshToken"]
    # Once the new refresh token has been used, the old one is a stolen copy again: refused,
    # and every session of the person ends.
    status, body = gql(REFRESH, {"refreshToken": first})
    assert body["data"]["refreshToken"] is None and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    status, body = gql(REFRESH, {"refreshToken": third})
    assert body["data"]["refreshToken"] is None


def test_a_refresh_retried_after_the_grace_window_is_theft(world, gql, settings):
    first = login(gql, "admin_a")["refreshToken"]
    second = gql.data(REFRESH, {"refreshToken": first})["refreshToken"]["refreshToken"]
    IdempotencyRecord.objects.filter(operation="RefreshToken").update(
        created_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=settings.TOKEN_RETRY_GRACE_SECONDS + 1))
    status, body = gql(REFRESH, {"refreshToken": first})
    assert body["data"]["refreshToken"] is None
    status, body = gql(REFRESH, {"refreshToken": second})
    assert body["data"]["refreshToken"] is None


def test_a_refresh_retried_after_logout_is_refused(world, gql):
    first = login(gql, "admin_a")["refreshToken"]
    second = gql.data(REFRESH, {"refreshToken": first})["refreshToken"]["refreshToken"]
    assert gql.data(LOGOUT, {"refreshToken": second})["revokeToken"]["revoked"]
    status, body = gql(REFRESH, {"refreshToken": first})
    assert body["data"]["refreshToken"] is None and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
