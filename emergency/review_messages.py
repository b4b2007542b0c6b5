"""The messages of an after-action report: SMS by purpose, by urgency lane and by channel,
counted at report time — including what is still queued then and what was superseded
(dropped unsent because it was no longer true).

Lanes are the outbox's own (notifications/lanes.py): each message is counted in the lane it
was queued in — login, life safety, standard, courtesy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Count, Model, Q, QuerySet
from django.db.models.functions import Cast

from notifications.lanes import Lane
from notifications.models import (
    CallStatus,
    DevicePush,
    Notification,
    PushStatus,
    SmsMessage,
    SmsStatus,
    VoiceCall,
)
from volunteers.models import Offer, Task

from .models import Alert, Mobilisation, SafetyCheck, SafetyStatus

KEYS = ("written", "queued_now", "sent", "delivered", "failed", "refused", "superseded")
HANDED_OVER = (SmsStatus.SENT, SmsStatus.DELIVERED, SmsStatus.UNDELIVERED, SmsStatus.FAILED)
WAITING = (SmsStatus.QUEUED, SmsStatus.SENDING)
LANES = tuple(lane.name.lower() for lane in Lane)  # "login", "life_safety", "standard", "courtesy"


def lane_of(lane: int) -> str:
    try:
        return Lane(lane).name.lower()
    except ValueError:
        return Lane.STANDARD.name.lower()


def _empty() -> dict[str, int]:
    return dict.fromkeys(KEYS, 0)


@dataclass
class MessageReview:
    by_purpose: dict[str, dict[str, int]] = field(default_factory=dict)
    by_lane: dict[str, dict[str, int]] = field(default_factory=dict)
    pushes: int = 0  # pushes handed to APNs/FCM/JPush (not rows written)
    push: dict[str, int] = field(default_factory=_empty)
    voice: dict[str, int] = field(default_factory=_empty)

    def total(self, key: str) -> int:
        return sum(row.get(key, 0) for row in self.by_purpose.values())

    def by_channel(self) -> dict[str, dict[str, int]]:
        """SMS, device pushes (sent = handed to the provider, delivered = shown on the phone,
        acknowledged = opened) and voice calls (sent = placed, delivered = answered by key)."""
        sms = {key: self.total(key) for key in KEYS}
        return {"sms": sms, "push": dict(self.push), "voice": dict(self.voice)}


def _keys(qs: QuerySet[Model]) -> QuerySet[Model, dict[str, Any]]:
    # (The plugin cannot type annotate() on a queryset of any model: it says Any.)
    keys: QuerySet[Model, dict[str, Any]] = qs.annotate(key=Cast("pk", CharField())).values("key")
    return keys


def _rel(model: type[Model], keys: QuerySet[Model, dict[str, Any]]) -> Q:
    return Q(related_type=ContentType.objects.get_for_model(model), related_id__in=keys)


def message_review(area_path: str, alerts: QuerySet[Alert], checks: list[SafetyCheck], tasks: QuerySet[Task],
                   mobilisations: QuerySet[Mobilisation], drills: bool) -> MessageReview:
    status_rows = SafetyStatus.objects.filter(safety_check__in=[c.pk for c in checks], grid__path__startswith=area_path)
    related = (_rel(Alert, _keys(alerts)) | _rel(SafetyStatus, _keys(status_rows)) | _rel(Mobilisation, _keys(mobilisations))
               | Q(pk__in=Offer.objects.filter(task__in=tasks, sms_message__isnull=False).values("sms_message_id")))
    review = MessageReview()
    rows = (SmsMessage.objects.filter(related, is_drill=drills).values("purpose", "lane", "status")
            .annotate(n=Count("pk")))
    for row in rows:
        for bucket in (review.by_purpose.setdefault(row["purpose"], _empty()),
                       review.by_lane.setdefault(lane_of(row["lane"]), _empty())):
            _count(bucket, row["status"], row["n"])
    notifications = Notification.objects.filter(
        _rel(Alert, _keys(alerts)) | _rel(SafetyCheck, _keys(SafetyCheck.objects.filter(pk__in=[c.pk for c in checks]))),
        is_drill=drills)
    review.push = _push_counts(DevicePush.objects.filter(notification__in=notifications.values("pk")))
    review.pushes = review.push["sent"]
    review.voice = _call_counts(VoiceCall.objects.filter(_rel(SafetyStatus, _keys(status_rows)), is_drill=drills))
    return review


def _push_counts(pushes: QuerySet[DevicePush]) -> dict[str, int]:
    agg = pushes.aggregate(
        written=Count("pk"), queued_now=Count("pk", filter=Q(status__in=[PushStatus.QUEUED, PushStatus.SENDING])),
        sent=Count("pk", filter=Q(status=PushStatus.SENT)), failed=Count("pk", filter=Q(status=PushStatus.FAILED)),
        refused=Count("pk", filter=Q(status=PushStatus.REFUSED)),
        superseded=Count("pk", filter=Q(status=PushStatus.SUPERSEDED)),
        delivered=Count("pk", filter=Q(status=PushStatus.SENT, notification__received_at__isnull=False)),
        acknowledged=Count("pk", filter=Q(status=PushStatus.SENT, notification__acknowledged_at__isnull=False)),
    )
    return {key: int(agg[key] or 0) for key in (*KEYS, "acknowledged")}


def _call_counts(calls: QuerySet[VoiceCall]) -> dict[str, int]:
    placed = [CallStatus.CALLING, CallStatus.ANSWERED, CallStatus.UNANSWERED]
    agg = calls.aggregate(
        written=Count("pk"), queued_now=Count("pk", filter=Q(status=CallStatus.QUEUED)),
        sent=Count("pk", filter=Q(status__in=placed)), delivered=Count("pk", filter=Q(status=CallStatus.ANSWERED)),
        failed=Count("pk", filter=Q(status=CallStatus.FAILED)), superseded=Count("pk", filter=Q(status=CallStatus.SUPERSEDED)),
    )
    return {key: int(agg.get(key) or 0) for key in KEYS}


def _count(bucket: dict[str, int], status: str, n: int) -> None:
    bucket["written"] += n
    bucket["superseded"] += n if status == SmsStatus.SUPERSEDED else 0
    bucket["refused"] += n if status == SmsStatus.REFUSED else 0
    bucket["queued_now"] += n if status in WAITING else 0
    bucket["sent"] += n if status in HANDED_OVER else 0
    bucket["delivered"] += n if status == SmsStatus.DELIVERED else 0
    bucket["failed"] += n if status in (SmsStatus.FAILED, SmsStatus.UNDELIVERED) else 0
