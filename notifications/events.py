"""Every real-time event type, in one place.

An event is a JSON dict with a namespaced `type`. It is published to channel-layer groups
after the transaction that caused it commits (notifications.realtime.publish_on_commit), and
reaches GraphQL subscriptions on any web process. Pushes are hints: the database stays the
truth, and a client that reconnects re-reads state through queries.

Documented for mobile developers in mobile_api_docs/events.md.
"""

from __future__ import annotations

from typing import Any

AREA_MODE_CHANGED = "area.mode_changed"
NOTIFICATION_CREATED = "notification.created"
REPORT_CREATED = "report.created"
REPORT_UPDATED = "report.updated"
TASK_CREATED = "task.created"
TASK_UPDATED = "task.updated"
OFFER_CREATED = "offer.created"
OFFER_UPDATED = "offer.updated"
ALERT_ISSUED = "alert.issued"
SAFETY_CHECK_UPDATED = "safety_check.updated"
FACILITY_UPDATED = "facility.updated"
WARNING_PROPOSED = "warning.proposed"

EVENT_TYPES = {
    AREA_MODE_CHANGED: "An area's mode was switched; reaches subscribers of the area and of its descendants.",
    NOTIFICATION_CREATED: "Something was addressed to a user (offer, alert, safety check, ...); to user.<id>.",
    REPORT_CREATED: "A resident filed a hazard report or help request; to area.<grid id> and its ancestors.",
    REPORT_UPDATED: "A resident report changed status (acknowledged, turned into a task, closed).",
    TASK_CREATED: "A task was created; to task.<id> and area.<id> of its area and every ancestor.",
    TASK_UPDATED: "A task changed (edited, dispatched, staffed, people added/removed, progress, closed); same groups.",
    OFFER_CREATED: "A task was offered to a user; to user.<id> (myOffers).",
    OFFER_UPDATED: "A user's offer changed (accepted, late, declined, expired, withdrawn); to user.<id>.",
    ALERT_ISSUED: "An alert (or its update or cancellation) was issued for an area; to area.<id> of that area.",
    SAFETY_CHECK_UPDATED: "A safety check started, its fan-out landed a chunk, it got an answer or closed; to safety_check.<id> (staff counts).",
    FACILITY_UPDATED: "A facility opened or closed, or people checked in or out of a shelter (live occupancy); "
                      "to facility.<id> and area.<id> of its area and every ancestor.",
    WARNING_PROPOSED: "An incoming warning matched an area: a proposal to switch its mode was made (or the plan "
                      "switched it by itself); to area.<id> of that area and every ancestor.",
}


def area_group(area_id: int) -> str:
    return f"area.{area_id}"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def task_group(task_id: int) -> str:
    return f"task.{task_id}"


def safety_check_group(check_id: int) -> str:
    return f"safety_check.{check_id}"


def facility_group(facility_id: int) -> str:
    return f"facility.{facility_id}"


def make_event(event_type: str, **payload: Any) -> dict[str, Any]:
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}; add it to notifications/events.py")
    return {"type": event_type, **payload}
