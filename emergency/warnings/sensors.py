"""Sensor readings (water level, rainfall) and the warnings they raise.

    check_thresholds(raw) -> normalised thresholds      (for the admin and saveSensor)
    record_readings(source, [{"sensor": "wl-01", "value": 3.2, "observedAt": "..."}])

Each reading is stored once per (sensor, observed time); a repeat is ignored. The newest
reading decides the sensor's level: the highest threshold at or below its value. When the
level rises, the sensor raises a warning the same way any other warning comes in — a CAP
1.2 message of Linli's own (a circle around the sensor and the sensor's area as a geocode),
validated and ingested by ingest_cap — an Alert the first time, an Update referencing the
previous one as it rises further or falls back to a lower level, and a Cancel once the
value is below every threshold.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from lxml import etree

from core.errors import ValidationError
from core.text import strip_unprintable

from ..cap import NS, cap_time
from ..error_codes import EmergencyErrorCode as Code
from ..models import CapSeverity, IncomingWarning, Sensor, SensorKind, SensorReading, WarningSource
from .ingest import Ingested, ingest_cap

MAX_READINGS = 500
MAX_THRESHOLDS = 5
DEFAULT_EVENTS = {SensorKind.WATER_LEVEL: "水位超警戒", SensorKind.RAINFALL: "强降雨", SensorKind.OTHER: "监测超限"}
CATEGORIES = {SensorKind.WATER_LEVEL: "Met", SensorKind.RAINFALL: "Met", SensorKind.OTHER: "Env"}


def check_thresholds(raw: object) -> list[dict[str, Any]]:
    """[{"value": number, "severity": CAP severity, "event": text?}], ascending by value."""
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_THRESHOLDS:
        raise ValidationError({"thresholds": f"Give 1 to {MAX_THRESHOLDS} thresholds."}, code=Code.INVALID)
    out: list[dict[str, Any]] = []
    for item in raw:
        value = item.get("value") if isinstance(item, dict) else None
        severity = item.get("severity") if isinstance(item, dict) else None
        event = item.get("event", "") if isinstance(item, dict) else ""
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValidationError({"thresholds": "Each threshold has a numeric value."}, code=Code.INVALID)
        if severity not in (CapSeverity.MINOR, CapSeverity.MODERATE, CapSeverity.SEVERE, CapSeverity.EXTREME):
            raise ValidationError({"thresholds": "Severity: Minor, Moderate, Severe or Extreme."}, code=Code.INVALID)
        if not isinstance(event, str) or len(event) > 100:
            raise ValidationError({"thresholds": "An event name of at most 100 characters."}, code=Code.INVALID)
        out.append({"value": float(value), "severity": severity, "event": event.strip()})
    values = [t["value"] for t in out]
    if values != sorted(values) or len(set(values)) != len(values):
        raise ValidationError({"thresholds": "Give thresholds in ascending order of value."}, code=Code.INVALID)
    return out


@dataclass(frozen=True)
class ReadingIn:
    sensor: Sensor
    value: float
    observed_at: dt.datetime


def _reading(source: WarningSource, raw: object, index: int, now: dt.datetime) -> ReadingIn:
    where = f"readings.{index}"
    if not isinstance(raw, dict):
        raise ValidationError({where: "Give {sensor, value, observedAt}."}, code=Code.INVALID_READING)
    sensor = Sensor.objects.select_related("area").filter(code=str(raw.get("sensor", ""))[:64], source=source,
                                                          is_active=True).first()
    if sensor is None:
        raise ValidationError({f"{where}.sensor": "No such sensor on this source."}, code=Code.UNKNOWN_SENSOR)
    value = raw.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError({f"{where}.value": "A finite number."}, code=Code.INVALID_READING)
    try:
        observed = dt.datetime.fromisoformat(str(raw.get("observedAt", "")))
    except ValueError:
        observed = None
    if observed is None or timezone.is_naive(observed) or observed > now + dt.timedelta(minutes=5):
        raise ValidationError({f"{where}.observedAt": "An ISO 8601 time with its offset, not in the future."},
                              code=Code.INVALID_READING)
    return ReadingIn(sensor, float(value), observed)


def record_readings(source: WarningSource, readings: object, *, now: dt.datetime | None = None) -> tuple[int, list[Ingested]]:
    """Store the readings (all or none) and raise what they call for. Returns (stored, the
    warnings raised)."""
    now = now or timezone.now()
    if not isinstance(readings, list) or not 1 <= len(readings) <= MAX_READINGS:
        raise ValidationError({"readings": f"Give 1 to {MAX_READINGS} readings."}, code=Code.INVALID_READING)
    parsed = [_reading(source, raw, i, now) for i, raw in enumerate(readings)]
    stored, raised = 0, []
    with transaction.atomic():
        for reading in sorted(parsed, key=lambda r: r.observed_at):
            row = _store(reading, now)
            if row is None:
                continue
            stored += 1
            ingested = _evaluate(reading.sensor, row, now)
            if ingested is not None:
                raised.append(ingested)
    return stored, raised


def level_of(sensor: Sensor, value: float) -> int:
    return max((i for i, t in enumerate(sensor.thresholds) if value >= t["value"]), default=-1)


def _store(reading: ReadingIn, now: dt.datetime) -> SensorReading | None:
    try:
        with transaction.atomic():
            return SensorReading.objects.create(sensor=reading.sensor, value=reading.value, observed_at=reading.observed_at,
                                                received_at=now, level=level_of(reading.sensor, reading.value))
    except IntegrityError:  # the same reading again (a retried request)
        return None


def _evaluate(sensor: Sensor, row: SensorReading, now: dt.datetime) -> Ingested | None:
    """Only the newest reading moves the sensor; a late older one is history."""
    locked = Sensor.objects.select_for_update(of=("self",)).select_related("area", "current_warning").get(pk=sensor.pk)
    if locked.last_reading_at is not None and row.observed_at <= locked.last_reading_at:
        return None
    Sensor.objects.filter(pk=locked.pk).update(last_value=row.value, last_reading_at=row.observed_at)
    if row.level == locked.level:
        return None
    previous = locked.current_warning
    msg_type = "Cancel" if row.level < 0 else ("Update" if previous is not None else "Alert")
    if msg_type == "Cancel" and previous is None:
        Sensor.objects.filter(pk=locked.pk).update(level=row.level)
        return None
    xml = sensor_cap(locked, row, msg_type, previous, now)
    ingested = ingest_cap(xml, source=locked.source, sensor=locked, now=now)
    current = None if msg_type == "Cancel" else ingested.warning
    Sensor.objects.filter(pk=locked.pk).update(level=row.level, current_warning=current)
    return ingested


def _el(parent: etree._Element, name: str, text: object = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{NS}}}{name}")
    if text is not None:
        element.text = strip_unprintable(str(text))
    return element


def sensor_cap(sensor: Sensor, row: SensorReading, msg_type: str, previous: IncomingWarning | None,
               now: dt.datetime) -> bytes:
    """The CAP message a sensor's change of level is: Linli is its sender."""
    root = etree.Element(f"{{{NS}}}alert", nsmap={None: NS})
    _el(root, "identifier", f"linli-sensor-{sensor.code}-{row.pk}")
    _el(root, "sender", settings.CAP_SENDER)
    _el(root, "sent", cap_time(now))
    _el(root, "status", "Actual")
    _el(root, "msgType", msg_type)
    _el(root, "source", f"Linli sensor {sensor.code}")
    _el(root, "scope", "Public")
    if previous is not None:
        _el(root, "references", f"{previous.sender},{previous.identifier},{cap_time(previous.sent)}")
    level = sensor.thresholds[row.level] if row.level >= 0 else (sensor.thresholds[0] if sensor.thresholds else {})
    info = _el(root, "info")
    _el(info, "language", "zh-CN")
    _el(info, "category", CATEGORIES[SensorKind(sensor.kind)])
    _el(info, "event", level.get("event") or DEFAULT_EVENTS[SensorKind(sensor.kind)])
    _el(info, "urgency", "Past" if msg_type == "Cancel" else "Immediate")
    _el(info, "severity", "Minor" if msg_type == "Cancel" else level["severity"])
    _el(info, "certainty", "Observed")
    _el(info, "senderName", settings.CAP_SENDER_NAME)
    _el(info, "headline", _headline(sensor, row, level, msg_type))
    area = _el(info, "area")
    _el(area, "areaDesc", sensor.area.name)
    if sensor.lat is not None and sensor.lng is not None:
        _el(area, "circle", f"{sensor.lat:.6f},{sensor.lng:.6f} {sensor.radius_m / 1000:g}")
    code = _el(area, "geocode")
    _el(code, "valueName", "LINLI_AREA")
    _el(code, "value", sensor.area.code)
    document: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return document


def _headline(sensor: Sensor, row: SensorReading, level: dict[str, Any], msg_type: str) -> str:
    kind = SensorKind(sensor.kind).label
    if msg_type == "Cancel":
        return f"{sensor.name}{kind}回落至{row.value:g}{sensor.unit}，低于警戒值"[:160]
    return f"{sensor.name}{kind}{row.value:g}{sensor.unit}，达到{level['value']:g}{sensor.unit}警戒值"[:160]
