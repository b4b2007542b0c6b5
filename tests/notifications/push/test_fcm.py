"""FCM HTTP v1 through google-auth against the fake: the OAuth2 token fetched once and
refreshed on expiry; the v1 message shape; FCM's error codes mapped."""

from __future__ import annotations

import datetime
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from notifications.push import PushError, PushResult, get_push_transport
from tests.notifications.push.conftest import push


def android(push_id: int = 1, token: str = "fcm-token-1", **fields):
    return push(push_id, token, platform="android", **fields)


def test_many_sends_share_one_oauth_token(fake_fcm):
    outcomes = get_push_transport("fcm").send_batch([android(i, f"fcm-token-{i}") for i in range(40)])
    assert all(isinstance(o, PushResult) and o.provider_id.startswith("projects/linli-test/messages/") for o in outcomes)
    assert fake_fcm.token_requests == 1 and len(fake_fcm.messages) == 40
    assert len({r.authorization for r in fake_fcm.requests}) == 1


def test_the_token_is_refreshed_when_it_expires_or_is_revoked(fake_fcm):
    transport = get_push_transport("fcm")
    transport.send_batch([android(1)])
    transport.credentials.expiry = datetime.datetime.utcnow() - datetime.timedelta(seconds=1)
    transport.send_batch([android(2), android(3)])
    assert fake_fcm.token_requests == 2

    fake_fcm.revoke_tokens()  # FCM answers 401: google-auth refreshes and sends again
    [ok] = transport.send_batch([android(4)])
    assert isinstance(ok, PushResult) and fake_fcm.token_requests == 3


def test_android_message_carries_priority_ttl_collapse_key_and_data(fake_fcm, settings):
    settings.FCM_ANDROID_CHANNEL_ID = "alerts"
    get_push_transport("fcm").send_batch([android(1, collapse_key="alert-7", ttl_seconds=600, critical=True),
                                          android(2, "fcm-token-2", priority="normal")])
    urgent, normal = sorted(fake_fcm.messages, key=lambda m: m["token"])  # sent concurrently
    assert urgent == {
        "token": "fcm-token-1",
        "notification": {"title": "安全确认", "body": "台风来临，请报平安"},
        "data": {"checkId": "Q2hlY2s6MQ==", "kind": "SAFETY_CHECK"},
        "android": {"priority": "HIGH", "ttl": "600s", "collapse_key": "alert-7",
                    "notification": {"sound": "default", "channel_id": "alerts", "notification_priority": "PRIORITY_MAX",
                                     "tag": "alert-7"}},
    }
    assert normal["android"]["priority"] == "NORMAL" and "collapse_key" not in normal["android"]


def test_ios_devices_through_fcm_get_apns_headers(fake_fcm):
    get_push_transport("fcm").send_batch([push(1, "fcm-ios-token", collapse_key="alert-7", priority="normal")])
    [sent] = fake_fcm.messages
    assert sent["apns"]["headers"]["apns-priority"] == "5" and sent["apns"]["headers"]["apns-collapse-id"] == "alert-7"
    assert sent["apns"]["payload"]["aps"]["sound"] == "default" and "android" not in sent


@pytest.mark.parametrize("answer", ["UNREGISTERED", "INVALID_ARGUMENT"])
def test_dead_tokens_are_flagged_for_pruning(fake_fcm, answer):
    fake_fcm.fail_token("dead", answer)
    ok, dead = get_push_transport("fcm").send_batch([android(1), android(2, "dead")])
    assert isinstance(ok, PushResult)
    assert dead.invalid_token and dead.permanent and dead.code == answer


def test_a_refused_payload_is_permanent_but_keeps_the_device(fake_fcm):
    fake_fcm.script("INVALID_PAYLOAD")
    [error] = get_push_transport("fcm").send_batch([android()])
    assert error.permanent and not error.invalid_token and error.code == "INVALID_ARGUMENT"


@pytest.mark.parametrize("answer,retry_after", [("QUOTA_EXCEEDED", 30.0), ("UNAVAILABLE", 30.0), ("INTERNAL", None)])
def test_quota_and_outages_are_retried_after_what_fcm_asks(fake_fcm, answer, retry_after):
    fake_fcm.script(answer)
    [error] = get_push_transport("fcm").send_batch([android()])
    assert error.transient and error.code == answer and error.retry_after == retry_after


def test_another_projects_token_is_permanent_but_not_pruned(fake_fcm):
    fake_fcm.fail_token("elsewhere", "SENDER_ID_MISMATCH")
    [error] = get_push_transport("fcm").send_batch([android(1, "elsewhere")])
    assert error.permanent and not error.invalid_token


def test_a_wrong_service_account_key_is_an_operator_error(fake_fcm, settings):
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    settings.FCM_CREDENTIALS_JSON = json.dumps(fake_fcm.service_account_info(private_key=other_key))
    outcomes = get_push_transport("fcm").send_batch([android(1), android(2)])
    assert all(isinstance(o, PushError) and o.operator and o.permanent for o in outcomes)
    assert fake_fcm.refused_assertions == 1 and fake_fcm.sends == 0


def test_batches_reuse_a_bounded_pool_of_keep_alive_connections(fake_fcm):
    transport = get_push_transport("fcm")
    for batch in range(3):
        transport.send_batch([android(i, f"fcm-token-{batch}-{i}") for i in range(30)])
    assert fake_fcm.accepted == 90 and transport.connections_opened <= 8  # FCM_CONCURRENCY
    assert fake_fcm.connections == transport.connections_opened + 1  # and one to the token endpoint


def test_a_send_fcm_does_not_answer_in_time_is_transient(fake_fcm, settings):
    settings.PUSH_HTTP_TIMEOUT = 0.3
    fake_fcm.script(("delay", 1.0))
    [error] = get_push_transport("fcm").send_batch([android()])
    assert error.transient and error.code == "timeout"
