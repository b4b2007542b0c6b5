"""APNs through aioapns against the HTTP/2 fake: one TLS connection, many streams; the
provider token verified; Apple's reasons mapped to what the outbox must do."""

from __future__ import annotations

import socket
import time
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.exceptions import ImproperlyConfigured

from notifications.push import PushError, PushResult, get_push_transport
from tests.fake_apns import _pem_private
from tests.notifications.push.conftest import IOS_TOKEN, IOS_TOKEN_2, push


def test_a_batch_travels_as_many_streams_over_one_tls_connection(fake_apns):
    transport = get_push_transport("apns")
    outcomes = transport.send_batch([push(i, f"{i:064x}") for i in range(1, 201)])
    assert all(isinstance(o, PushResult) for o in outcomes)
    assert outcomes[0].provider_id == str(uuid.UUID(int=1))  # the apns-id names our row
    assert fake_apns.connections == 1 and fake_apns.streams == 200 and fake_apns.alpn == ["h2"]

    transport.send_batch([push(201, IOS_TOKEN)])  # the next batch reuses the connection
    assert fake_apns.connections == 1 and transport.connections_made == 1


def test_headers_and_payload_carry_collapse_key_priority_ttl_and_data(fake_apns):
    get_push_transport("apns").send_batch([
        push(7, IOS_TOKEN, collapse_key="alert-7", ttl_seconds=600, badge=3),
        push(8, IOS_TOKEN_2, priority="normal", collapse_key="k" * 100, sound=""),
    ])
    first, second = fake_apns.pushes
    assert first.token == IOS_TOKEN
    assert first.headers["apns-topic"] == fake_apns.topic and first.headers["apns-push-type"] == "alert"
    assert first.headers["apns-priority"] == "10" and first.headers["apns-collapse-id"] == "alert-7"
    assert first.headers["apns-id"] == str(uuid.UUID(int=7))
    assert abs(int(first.headers["apns-expiration"]) - (time.time() + 600)) < 5
    assert first.payload == {"aps": {"alert": {"title": "安全确认", "body": "台风来临，请报平安"}, "sound": "default",
                                     "badge": 3},
                             "checkId": "Q2hlY2s6MQ==", "kind": "SAFETY_CHECK"}
    assert second.headers["apns-priority"] == "5" and "sound" not in second.payload["aps"]
    assert len(second.headers["apns-collapse-id"]) == 64  # a long key is digested, not refused


def test_life_safety_uses_critical_alerts_only_with_the_entitlement(fake_apns, settings):
    get_push_transport("apns").send_batch([push(1, critical=True)])
    settings.APNS_CRITICAL_ALERTS = True
    get_push_transport("apns").send_batch([push(2, critical=True)])
    without, entitled = (p.payload["aps"] for p in fake_apns.pushes)
    assert without["interruption-level"] == "time-sensitive" and without["sound"] == "default"
    assert entitled["interruption-level"] == "critical"
    assert entitled["sound"] == {"critical": 1, "name": "default", "volume": 1.0}


@pytest.mark.parametrize("reason", ["Unregistered", "BadDeviceToken", "DeviceTokenNotForTopic"])
def test_dead_tokens_are_flagged_for_pruning(fake_apns, reason):
    fake_apns.fail_token(IOS_TOKEN_2, reason)
    ok, dead = get_push_transport("apns").send_batch([push(1, IOS_TOKEN), push(2, IOS_TOKEN_2)])
    assert isinstance(ok, PushResult)
    assert isinstance(dead, PushError) and dead.invalid_token and dead.permanent and dead.code == reason
    if reason == "Unregistered":
        assert "invalid since" in dead.message  # APNs' timestamp: a newer registration wins


@pytest.mark.parametrize("reason", ["TooManyRequests", "ServiceUnavailable", "InternalServerError", "Shutdown"])
def test_throttling_and_server_trouble_are_retried_later(fake_apns, reason):
    fake_apns.script(reason)
    [error] = get_push_transport("apns").send_batch([push()])
    assert isinstance(error, PushError) and error.transient and not error.invalid_token and error.code == reason


def test_a_refused_payload_is_permanent_but_keeps_the_device(fake_apns):
    fake_apns.script("PayloadTooLarge")
    [error] = get_push_transport("apns").send_batch([push()])
    assert error.permanent and not error.invalid_token and not error.operator


def test_a_wrong_signing_key_is_an_operator_error_not_retried(fake_apns, settings):
    settings.APNS_KEY = _pem_private(ec.generate_private_key(ec.SECP256R1()))
    outcomes = get_push_transport("apns").send_batch([push(1, IOS_TOKEN), push(2, IOS_TOKEN_2)])
    assert all(o.operator and o.permanent and not o.invalid_token for o in outcomes)
    assert {o.code for o in outcomes} == {"InvalidProviderToken"}
    assert fake_apns.pushes == [] and len(fake_apns.requests) == 2


def test_a_wrong_team_is_refused_as_well(fake_apns, settings):
    settings.APNS_TEAM_ID = "ZZZ999ZZZZ"
    [error] = get_push_transport("apns").send_batch([push()])
    assert error.operator and error.code == "InvalidProviderToken"


def test_a_connection_that_stops_answering_times_out_and_is_replaced(fake_apns, settings):
    settings.PUSH_HTTP_TIMEOUT = 0.5
    fake_apns.script("no_answer")
    transport = get_push_transport("apns")
    [error] = transport.send_batch([push(1)])
    assert error.transient and error.code == "timeout"
    [ok] = transport.send_batch([push(2)])
    assert isinstance(ok, PushResult) and fake_apns.connections == 2
    assert len(fake_apns.provider_tokens) == 1  # the new connection reuses the provider token


def test_unreachable_apns_fails_the_batch_quickly_and_transiently(fake_apns, settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    settings.APNS_API_BASE_URL = f"https://127.0.0.1:{closed_port}"
    started = time.monotonic()
    outcomes = get_push_transport("apns").send_batch([push(i, f"{i:064x}") for i in range(1, 51)])
    assert all(o.transient and o.code == "network" for o in outcomes)
    assert time.monotonic() - started < 4  # one connection attempt, not fifty


def test_a_key_that_is_not_es256_refuses_to_start(fake_apns, settings):
    settings.APNS_KEY = "not a key"
    with pytest.raises(ImproperlyConfigured):
        get_push_transport("apns")
