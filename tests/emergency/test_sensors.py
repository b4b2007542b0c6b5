"""Sensor readings by the HMAC-signed webhook: thresholds per sensor raise warnings the same
way any warning comes in (a CAP message of ours, proposals to commanders) — an Alert when the
water first crosses a line, an Update as it rises, a Cancel once it falls below them all.
Bad readings and unsigned or replayed requests are refused and change nothing."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from emergency.models import IncomingWarning, Sensor, SensorReading, WarningProposal, WarningSource
from tests.operations import operation

from .cap_documents import post_signed
from .emergency_support import _emergency_isolation, gid  # noqa: F401

pytestmark = pytest.mark.django_db

KEY = "key-of-the-water-authority-gauges"
URL = "/warnings/sensors/gauges/"
SAVE = operation("emergency/SaveSensor")
SENSORS = operation("emergency/Sensors")
THRESHOLDS = [{"value": 3.0, "severity": "Moderate", "event": "河道水位超警戒"}, {"value": 4.0, "severity": "Severe"}]


@pytest.fixture
def source(db) -> WarningSource:
    return WarningSource.objects.create(code="gauges", name="水务局水位站", kind="SENSOR_WEBHOOK", secret=KEY)


@pytest.fixture
def gauge(world, gql, source) -> Sensor:
    saved = gql.data(SAVE, {"input": {"areaId": gid("Area", world.com_a), "sourceCode": "gauges", "code": "wl-01",
                                      "name": "西河一号水位站", "kind": "WATER_LEVEL", "unit": "m", "radiusM": 1500,
                                      "location": {"latitude": 30.2705, "longitude": 120.1505}, "thresholds": THRESHOLDS}},
                     user=world.admin_a)["saveSensor"]
    assert saved["errors"] == [], saved
    return Sensor.objects.get(code="wl-01")


def readings(*values: float, start: dt.datetime | None = None, code: str = "wl-01") -> bytes:
    start = start or timezone.now() - dt.timedelta(minutes=len(values))
    return json.dumps({"readings": [{"sensor": code, "value": v, "observedAt": (start + dt.timedelta(minutes=i)).isoformat()}
                                    for i, v in enumerate(values)]}).encode()


def send(client, body: bytes, **kwargs):
    return post_signed(client, URL, body, KEY, content_type="application/json", **kwargs)


def test_rising_water_raises_a_warning_then_updates_it_and_cancels_it_when_it_falls(world, client, gql, gauge):
    start = timezone.now() - dt.timedelta(minutes=10)
    calm = send(client, readings(2.1, 2.5, start=start))
    assert calm.json() == {"stored": 2, "warnings": []}
    rising = send(client, readings(3.2, start=start + dt.timedelta(minutes=3))).json()
    assert len(rising["warnings"]) == 1
    alert = IncomingWarning.objects.get(identifier=rising["warnings"][0])
    assert (alert.msg_type, alert.severity, alert.sender, alert.event, alert.sensor) == (
        "Alert", "Moderate", "linli@linli.example", "河道水位超警戒", gauge)
    assert "西河一号水位站水位3.2m，达到3m警戒值" == alert.headline
    assert list(alert.matched_areas.all()) == [world.com_a]
    assert WarningProposal.objects.get(warning=alert).area == world.com_a

    higher = send(client, readings(4.3, start=start + dt.timedelta(minutes=4))).json()
    update = IncomingWarning.objects.get(identifier=higher["warnings"][0])
    assert (update.msg_type, update.severity, update.references) == ("Update", "Severe", alert)
    assert WarningProposal.objects.get(warning=alert).status == "SUPERSEDED"

    send(client, readings(4.1, start=start + dt.timedelta(minutes=5)))  # still above 4: nothing new
    fallen = send(client, readings(2.0, start=start + dt.timedelta(minutes=6))).json()
    cancel = IncomingWarning.objects.get(identifier=fallen["warnings"][0])
    assert (cancel.msg_type, cancel.references) == ("Cancel", update)
    assert WarningProposal.objects.get(warning=update).status == "CANCELLED"
    listed = gql.data(SENSORS, {"areaId": gid("Area", world.com_a)}, user=world.admin_a)["sensors"]["edges"][0]["node"]
    assert (listed["level"], listed["lastValue"], listed["currentWarning"]) == (-1, 2.0, None)
    assert [r["value"] for r in listed["readings"]] == [2.0, 4.1, 4.3, 3.2, 2.5]


def test_a_reading_sent_twice_or_late_changes_nothing(world, client, gauge):
    start = timezone.now() - dt.timedelta(minutes=5)
    send(client, readings(3.5, start=start + dt.timedelta(minutes=2)))
    again = send(client, readings(3.5, start=start + dt.timedelta(minutes=2))).json()
    late = send(client, readings(1.0, start=start)).json()  # older than the newest: history only
    assert again == {"stored": 0, "warnings": []} and late == {"stored": 1, "warnings": []}
    assert Sensor.objects.get().level == 0 and IncomingWarning.objects.count() == 1


def test_bad_readings_are_refused_whole(world, client, gauge):
    good_and_bad = json.dumps({"readings": [{"sensor": "wl-01", "value": 3.5, "observedAt": timezone.now().isoformat()},
                                            {"sensor": "wl-01", "value": "high", "observedAt": timezone.now().isoformat()}]})
    refused = send(client, good_and_bad.encode())
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_reading"
    unknown = send(client, readings(3.5, code="nope"))
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "unknown_sensor"
    naive = send(client, json.dumps({"readings": [{"sensor": "wl-01", "value": 1, "observedAt": "2026-07-01T08:00:00"}]}).encode())
    assert naive.status_code == 400 and "observedAt" in naive.json()["error"]["message"]
    assert send(client, b"not json").status_code == 400
    assert not SensorReading.objects.exists() and not IncomingWarning.objects.exists()


def test_unsigned_and_replayed_readings_are_refused(world, client, gauge):
    body = readings(3.5)
    assert post_signed(client, URL, body, KEY, content_type="application/json", headers={}).status_code == 401
    assert post_signed(client, URL, body, "wrong", content_type="application/json").status_code == 401
    assert send(client, body, nonce="gauge-nonce-000000001").status_code == 200
    replay = send(client, body, nonce="gauge-nonce-000000001")
    assert replay.status_code == 409 and SensorReading.objects.count() == 1


def test_thresholds_are_checked_and_only_planners_of_the_area_place_sensors(world, gql, source):
    variables = {"input": {"areaId": gid("Area", world.com_a), "sourceCode": "gauges", "code": "rf-01", "name": "雨量站",
                           "kind": "RAINFALL", "unit": "mm/h", "location": {"latitude": 30.27, "longitude": 120.15},
                           "thresholds": [{"value": 50, "severity": "Severe"}, {"value": 30, "severity": "Moderate"}]}}
    unordered = gql.data(SAVE, variables, user=world.admin_a)["saveSensor"]
    assert unordered["errors"][0]["field"] == "thresholds"
    status, body = gql(SAVE, variables, user=world.worker_a1)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN" and not Sensor.objects.exists()
