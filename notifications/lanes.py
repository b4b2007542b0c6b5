"""Urgency lanes for outbound SMS: who waits least when the provider's pace makes messages queue.

    lane_for("alert", severity="Extreme")          -> Lane.LIFE_SAFETY
    lane_for("task_offer", priority="ROUTINE")     -> Lane.STANDARD
    lane_for("task_offer", welfare_visit=True)     -> Lane.LIFE_SAFETY
    lane_for("sms_reply")                          -> Lane.COURTESY

Workers claim queued messages by lane (lower first), then vulnerable recipients first, then
the oldest (notifications/delivery.py), so a courtesy reply never delays a life-safety
message. The table is settings.SMS_LANES (backend/settings.py, overridable per purpose with
the SMS_LANES environment JSON); a purpose maps to a lane name, or to qualifiers:

    "alert": {"severity": {"Extreme": "LIFE_SAFETY", "Severe": "LIFE_SAFETY"}, "default": "STANDARD"}
    "task_offer": {"priority": {"LIFE_SAFETY": "LIFE_SAFETY"}, "welfare_visit": "LIFE_SAFETY",
                   "default": "STANDARD"}

A purpose the table does not name takes "*" (STANDARD).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum

from django.conf import settings


class Lane(IntEnum):
    """Lower goes first."""

    LOGIN = 0  # someone waiting at a login screen
    LIFE_SAFETY = 1  # safety-check questions, Extreme/Severe alerts, life-safety and welfare-visit offers
    STANDARD = 2  # other offers and questions (call-ins), other alerts, task news
    COURTESY = 3  # replies to what people texted, confirmations, "no longer needed"


def lane_table() -> Mapping[str, object]:
    table = getattr(settings, "SMS_LANES", None)
    return table if isinstance(table, Mapping) else {}


def lane_named(name: object, fallback: Lane = Lane.STANDARD) -> Lane:
    try:
        return Lane[str(name).upper()]
    except KeyError:
        return fallback


def lane_for(purpose: str, *, severity: str = "", priority: str = "", welfare_visit: bool = False) -> Lane:
    """The lane of a message of `purpose`, given what qualifies it: an alert's CAP severity,
    an offer's task priority, whether the offer is a welfare visit to a silent resident."""
    table = lane_table()
    rule = table.get(purpose, table.get("*", "STANDARD"))  # a purpose the table does not name: "*"
    if not isinstance(rule, Mapping):
        return lane_named(rule)
    default = lane_named(rule.get("default", table.get("*", "STANDARD")))
    candidates = [default]
    by_severity = rule.get("severity")
    if severity and isinstance(by_severity, Mapping) and severity in by_severity:
        candidates.append(lane_named(by_severity[severity], default))
    by_priority = rule.get("priority")
    if priority and isinstance(by_priority, Mapping) and priority in by_priority:
        candidates.append(lane_named(by_priority[priority], default))
    if welfare_visit and "welfare_visit" in rule:
        candidates.append(lane_named(rule["welfare_visit"], default))
    # Each qualifier can only make a message more urgent than its purpose's default.
    return min(candidates)


def is_life_safety(lane: int) -> bool:
    """Sent by the life-safety workers (the "life_safety" Celery queue): login codes too,
    which are few and have someone waiting."""
    return lane <= Lane.LIFE_SAFETY
