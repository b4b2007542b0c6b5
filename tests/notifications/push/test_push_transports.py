"""The push transport registry, the message contract, and the locmem/console transports."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from notifications.push import PushError, PushMessage, PushResult, get_push_transport, locmem
from notifications.push.apns import APNsTransport
from notifications.push.base import mask_token, short_collapse_key
from notifications.push.console import ConsolePushTransport
from tests.notifications.push.conftest import IOS_TOKEN, push


def test_tests_keep_pushes_in_memory_per_provider():
    apns, jpush = get_push_transport("apns"), get_push_transport("jpush")
    assert get_push_transport("apns") is apns
    [ok] = apns.send_batch([push(1)])
    jpush.send_batch([push(2, "rid-1", platform="android")])
    assert isinstance(ok, PushResult)
    assert [(p.provider, p.message.push_id) for p in locmem.outbox] == [("apns", 1), ("jpush", 2)]


def test_locmem_answers_scripted_failures_per_token():
    dead = PushError("Unregistered", "Unregistered", invalid_token=True)
    locmem.fail_token("dead", dead)
    ok, failed = get_push_transport("fcm").send_batch([push(1), push(2, "dead")])
    assert isinstance(ok, PushResult) and failed is dead and len(locmem.outbox) == 1


def test_an_unknown_provider_is_a_configuration_error():
    with pytest.raises(ImproperlyConfigured):
        get_push_transport("carrier-pigeon")


def test_changing_push_settings_replaces_the_transport(settings):
    before = get_push_transport("apns")
    settings.PUSH_BACKENDS = {**settings.PUSH_BACKENDS, "apns": "notifications.push.console.ConsolePushTransport"}
    assert isinstance(get_push_transport("apns"), ConsolePushTransport) and get_push_transport("apns") is not before


def test_the_apns_fixture_points_the_real_transport_at_the_fake(fake_apns):
    assert isinstance(get_push_transport("apns"), APNsTransport)


def test_console_prints_pushes_with_masked_tokens(capsys):
    ConsolePushTransport(provider="apns").send_batch([push(3, IOS_TOKEN, collapse_key="alert-7")])
    out = capsys.readouterr().out
    assert "a1a1…a1a1" in out and IOS_TOKEN not in out and "台风来临，请报平安" in out and "collapse=alert-7" in out


def test_push_data_must_be_strings_as_fcm_requires():
    with pytest.raises(ValueError):
        PushMessage(push_id=1, token="t", platform="ios", title="t", body="b", data={"n": 1})  # type: ignore[dict-item]
    with pytest.raises(ValueError):
        PushMessage(push_id=1, token="t", platform="windows", title="t", body="b")


def test_a_dead_token_is_always_permanent_and_operator_errors_too():
    assert PushError("x", invalid_token=True).permanent and PushError("x", operator=True).permanent
    assert PushError("x", retry_after=3).transient


def test_masking_and_collapse_keys():
    assert mask_token("abcdef0123456789") == "abcd…6789" and mask_token("short") == "*****"
    assert short_collapse_key("alert-7") == "alert-7"
    assert short_collapse_key("键" * 30) == short_collapse_key("键" * 30) and len(short_collapse_key("键" * 30)) == 64
