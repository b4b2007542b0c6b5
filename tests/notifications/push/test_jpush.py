"""JPush through the official SDK against the fake: identical pushes grouped up to 1,000
registration ids per call; what JPush can and cannot say about dead ids in a group."""

from __future__ import annotations

import pytest

from notifications.push import PushError, PushResult, get_push_transport
from tests.notifications.push.conftest import push


def android(push_id: int = 1, token: str = "rid-1", **fields):
    return push(push_id, token, platform="android", **fields)


def test_identical_pushes_travel_together_up_to_1000_ids(fake_jpush):
    prompts = [android(i, f"rid-{i}") for i in range(1, 2501)]
    other = android(9001, "rid-x", body="另一条通知")
    outcomes = get_push_transport("jpush").send_batch([*prompts, other])
    assert all(isinstance(o, PushResult) for o in outcomes)
    assert sorted(len(c.registration_ids) for c in fake_jpush.calls) == [1, 500, 1000, 1000]
    first_call = next(c for c in fake_jpush.calls if "rid-1" in c.registration_ids)
    assert outcomes[0].provider_id == first_call.msg_id  # every id of a call shares its msg_id


def test_android_payload_rides_vendor_channels_when_urgent(fake_jpush, settings):
    settings.JPUSH_SYSTEM_CLASSIFICATION = True
    get_push_transport("jpush").send_batch([android(77, ttl_seconds=600, collapse_key="alert-7")])
    [call] = fake_jpush.pushes
    assert call.payload["platform"] == ["android"] and call.payload["audience"] == {"registration_id": ["rid-1"]}
    assert call.payload["notification"] == {"android": {
        "alert": "台风来临，请报平安", "title": "安全确认", "priority": 1,
        "extras": {"checkId": "Q2hlY2s6MQ==", "kind": "SAFETY_CHECK"}}}
    options = call.payload["options"]
    assert options["sendno"] == 77 and options["time_to_live"] == 600 and options["classification"] == 1
    assert options["third_party_channel"]["huawei"] == {"distribution": "secondary_push"}
    assert set(options["third_party_channel"]) == {"xiaomi", "huawei", "honor", "oppo", "vivo", "meizu"}


def test_ios_payload_collapses_through_apns_collapse_id(fake_jpush):
    get_push_transport("jpush").send_batch([push(5, "rid-ios", collapse_key="alert-7", critical=True, priority="normal")])
    [call] = fake_jpush.pushes
    ios = call.payload["notification"]["ios"]
    assert ios["alert"] == {"title": "安全确认", "body": "台风来临，请报平安"} and ios["sound"] == "default"
    assert ios["interruption-level"] == "time-sensitive" and "badge" not in ios
    assert call.payload["options"]["apns_collapse_id"] == "alert-7"
    assert call.payload["options"]["apns_production"] is False and "third_party_channel" not in call.payload["options"]


def test_a_dead_id_inside_a_group_goes_unnoticed(fake_jpush):
    """JPush drops unknown ids silently when others match: the transport cannot flag them."""
    fake_jpush.unregister("rid-2")
    outcomes = get_push_transport("jpush").send_batch([android(i, f"rid-{i}") for i in (1, 2, 3)])
    assert all(isinstance(o, PushResult) for o in outcomes)
    assert fake_jpush.pushes[0].delivered == ["rid-1", "rid-3"]


def test_a_group_with_no_live_id_is_all_dead(fake_jpush):
    fake_jpush.unregister("rid-1", "rid-2")
    outcomes = get_push_transport("jpush").send_batch([android(1, "rid-1"), android(2, "rid-2")])
    assert all(o.invalid_token and o.code == "1011" for o in outcomes)
    assert len(fake_jpush.calls) == 1


def test_a_malformed_id_is_found_by_halving_the_group(fake_jpush):
    fake_jpush.malformed("rid-6")
    outcomes = get_push_transport("jpush").send_batch([android(i, f"rid-{i}") for i in range(1, 9)])
    bad = outcomes[5]
    assert bad.invalid_token and bad.code == "1003"
    assert all(isinstance(o, PushResult) for i, o in enumerate(outcomes) if i != 5)
    assert len(fake_jpush.calls) <= 1 + 2 * 3  # log2(8) levels of halving


def test_a_payload_refused_everywhere_is_permanent_not_a_dead_device(fake_jpush):
    fake_jpush.malformed("rid-1", "rid-2")
    outcomes = get_push_transport("jpush").send_batch([android(1, "rid-1"), android(2, "rid-2")])
    assert all(o.permanent and not o.invalid_token for o in outcomes)


def test_rate_limit_waits_as_long_as_jpush_says(fake_jpush):
    fake_jpush.script(2002)
    [error] = get_push_transport("jpush").send_batch([android()])
    assert error.transient and error.code == "2002" and error.retry_after == 42.0


@pytest.mark.parametrize("code", [1000, 1030])
def test_server_trouble_is_transient(fake_jpush, code):
    fake_jpush.script(code)
    [error] = get_push_transport("jpush").send_batch([android()])
    assert error.transient and error.code == str(code)


def test_a_wrong_master_secret_is_an_operator_error(fake_jpush, settings):
    settings.JPUSH_MASTER_SECRET = "wrong"
    outcomes = get_push_transport("jpush").send_batch([android(1), android(2, "rid-2", body="x")])
    assert all(isinstance(o, PushError) and o.operator and o.code == "1004" for o in outcomes)


def test_the_fake_paces_calls_at_its_acceptance_rate(fake_jpush):
    import time

    from tests.fake_pacing import Pacer

    fake_jpush.pacer = Pacer(rate=40)  # calls per second, like a provider's QPS limit
    started = time.monotonic()
    get_push_transport("jpush").send_batch([android(i, f"rid-{i}", body=f"第{i}条") for i in range(10)])
    assert len(fake_jpush.pushes) == 10 and time.monotonic() - started >= 9 / 40


def test_the_beijing_zone_is_redirected_to_the_base_url_too(fake_jpush, settings):
    settings.JPUSH_ZONE = "bj"  # the SDK's https://bjapi.push.jiguang.cn/v3/push
    [ok] = get_push_transport("jpush").send_batch([android()])
    assert isinstance(ok, PushResult) and len(fake_jpush.pushes) == 1


def test_refused_for_volume_is_permanent_but_no_operator_alarm(fake_jpush):
    fake_jpush.script(2005)
    [error] = get_push_transport("jpush").send_batch([android()])
    assert error.permanent and not error.operator and not error.invalid_token
