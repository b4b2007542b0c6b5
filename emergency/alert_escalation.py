"""The escalation ladder of alerts: the SMS for a push nobody opened (notifications/ladder.py).

    sweep_alert_escalation(now=None)   # from the escalation beat sweep (emergency.tasks, 15 s)
    register_alert_handlers()          # push outcomes and acknowledgements (escalation.py)

An alert's fan-out pushes residents with a live device and texts the others (and the
vulnerable beside the push); for each resident it reached by push only it writes an
AlertEscalation row (emergency/alerts.py). Per alert still in force (not superseded by an
update or a cancellation, not expired, not itself a Cancel) that sends SMS, with its ladder
(settings.ESCALATION_LADDERS["alert"], its plan step's "ladder" on top):
  - SMS: rows whose push was handed to a provider (handed_over_at; else written, pushed_at)
    at least sms_after_seconds ago and whose notification was not opened
    (Notification.acknowledged_at) get the alert's SMS — the fan-out's own item, the same
    idempotency key "alert:<alert>:<resident>" — if they still have a number and, for an alert
    that is no emergency (a Moderate warning, any drill), consent (alerts.textable_residents);
  - at once when every push to the person failed (push handler below).
Each row is claimed once (escalated_at, under the alert row's lock): a sweep run twice, two
sweeps at once or a failure handler racing the sweep text nobody twice, and settled rows
(escalated or opened) leave the sweep's index, so nothing is rescanned. A superseded or
expired alert is not swept: its pending rungs stop (its queued SMS were already dropped).
Each SMS the rung queued is counted on the alert (fanout_counts["sms_escalated"], the API's
Alert.delivery) and shown on the after-action report's timeline (emergency/review.py).
There is no voice rung for alerts (the ladder refuses voice keys for them).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from notifications.models import DevicePush, Notification
from notifications.outbox import queue_sms_bulk
from notifications.push_outbox import register_push_handler

from .alerts import alert_ladder, alert_sms, textable_residents
from .fanout import add_counts
from .models import Alert, AlertEscalation, CapMsgType

logger = logging.getLogger(__name__)
SWEEP_LIMIT = 1000
KIND = "alert"  # the alert's notifications and pushes (emergency.alerts._push)


def _open() -> Q:
    return Q(escalated_at__isnull=True, acknowledged_at__isnull=True)


def _in_force(now: dt.datetime) -> Q:
    return (Q(superseded_at__isnull=True, send_sms=True) & ~Q(msg_type=CapMsgType.CANCEL)
            & (Q(expires__isnull=True) | Q(expires__gt=now)))


def sweep_alert_escalation(now: dt.datetime | None = None, *, alert_id: int | None = None) -> int:
    """Text every resident whose alert push is overdue unopened; returns how many were texted."""
    now = now or timezone.now()
    alerts = Alert.objects.filter(_in_force(now), Exists(AlertEscalation.objects.filter(_open(), alert=OuterRef("pk"))))
    if alert_id is not None:
        alerts = alerts.filter(pk=alert_id)
    total = 0
    for alert in alerts.order_by("pk"):
        cutoff = now - dt.timedelta(seconds=alert_ladder(alert).sms_after_seconds)
        due = (AlertEscalation.objects.filter(_open(), alert=alert)
               .annotate(clock=Coalesce("handed_over_at", "pushed_at")).filter(clock__lte=cutoff))
        # Opened though the handler did not hear of it (it failed): settled as opened, never
        # texted and never read again.
        AlertEscalation.objects.filter(pk__in=due.annotate(opened=_opened(alert)).filter(opened__isnull=False)
                                       .values("pk")).update(acknowledged_at=_opened(alert))
        ids = list(due.order_by("-resident__is_vulnerable", "pk").values_list("pk", flat=True)[:SWEEP_LIMIT])
        if ids:
            total += escalate_alert_to_sms(alert, ids, now, reason="not acknowledged")
    return total


def _opened(alert: Alert) -> Subquery:
    """When the person opened this alert's notification (what the app reported)."""
    return Subquery(Notification.objects.filter(
        kind=KIND, related_id=str(alert.pk), user_id=OuterRef("user_id"), acknowledged_at__isnull=False,
    ).order_by("acknowledged_at").values("acknowledged_at")[:1])


def escalate_alert_to_sms(alert: Alert, row_ids: list[int], now: dt.datetime, *, reason: str) -> int:
    """The alert's SMS to these rows' residents now: one transaction under the alert row's
    lock, each row claimed by a conditional UPDATE of escalated_at. Returns SMS written."""
    with transaction.atomic():
        fresh = Alert.objects.select_for_update().filter(pk=alert.pk).select_related("area").first()
        if fresh is None or not fresh.send_sms or not fresh.is_active(now):
            return 0  # replaced, cancelled or over: the rung stops
        rows = list(AlertEscalation.objects.filter(_open(), pk__in=row_ids).select_related("resident__user"))
        if not rows:
            return 0
        AlertEscalation.objects.filter(_open(), pk__in=[r.pk for r in rows]).update(escalated_at=now)
        # Consent and numbers are read now: someone who withdrew consent meanwhile is not texted.
        textable = textable_residents(fresh, [r.resident for r in rows])
        shelters = list(fresh.shelters.all())
        written = queue_sms_bulk([alert_sms(fresh, resident, shelters) for resident in textable])
        texted = {resident.pk for resident in textable}
        AlertEscalation.objects.filter(pk__in=[r.pk for r in rows if r.resident_id in texted]).update(texted=True)
        add_counts(Alert, fresh.pk, sms_escalated=written)
    if written:
        logger.info("alert %s: %d SMS escalated (%s)", alert.pk, written, reason)
    return written


# --- push outcomes ----------------------------------------------------------------------------
def _by_alert(pairs: list[tuple[str, int]]) -> dict[int, set[int]]:
    """(related_id, user id) pairs -> alert id -> user ids (ids that are not numbers skipped)."""
    out: dict[int, set[int]] = defaultdict(set)
    for related_id, user_id in pairs:
        try:
            out[int(related_id)].add(user_id)
        except (TypeError, ValueError):
            continue
    return out


def pushes_handed_over(rows: list[DevicePush]) -> None:
    """A provider has the alert: the ladder's clock starts (at the first of their devices)."""
    now = timezone.now()
    for alert_id, users in _by_alert([(r.related_id, r.user_id) for r in rows]).items():
        AlertEscalation.objects.filter(alert_id=alert_id, user_id__in=users, handed_over_at__isnull=True).update(
            handed_over_at=now)


def pushes_failed(rows: list[DevicePush]) -> None:
    """Every push to the person failed (dead tokens, a refused payload): the SMS now."""
    now = timezone.now()
    for alert_id, users in _by_alert([(r.related_id, r.user_id) for r in rows]).items():
        alert = Alert.objects.filter(_in_force(now), pk=alert_id).first()
        if alert is None:
            continue
        ids = list(AlertEscalation.objects.filter(_open(), alert=alert, user_id__in=users).values_list("pk", flat=True))
        if ids:
            escalate_alert_to_sms(alert, ids, now, reason="push failed")


def pushes_acknowledged(notifications: list[Notification]) -> None:
    """The person opened the alert in the app: reached, no SMS needed."""
    for notification in notifications:
        for alert_id, users in _by_alert([(notification.related_id, notification.user_id)]).items():
            AlertEscalation.objects.filter(alert_id=alert_id, user_id__in=users, acknowledged_at__isnull=True).update(
                acknowledged_at=notification.acknowledged_at)


def register_alert_handlers() -> None:
    register_push_handler(KIND, handed_over=pushes_handed_over, failed=pushes_failed, acknowledged=pushes_acknowledged)
