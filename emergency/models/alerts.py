"""Alerts (预警信息) to the residents of an area, modelled on OASIS CAP 1.2.

An alert is issued on its own by staff or by a plan. It is never edited: an update or a
cancellation is a new alert (msgType Update/Cancel) that references the one before, as CAP
does, and marks it superseded. Every alert is fanned out to the area's residents (push to
app users, SMS to those without the app or flagged vulnerable) by emergency.alerts.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone

from community.models import Area

from .fanout import FanoutState


class CapMsgType(models.TextChoices):
    ALERT = "Alert", "预警"
    UPDATE = "Update", "更新"
    CANCEL = "Cancel", "解除"


class CapCategory(models.TextChoices):
    GEO = "Geo", "地质"
    MET = "Met", "气象"
    SAFETY = "Safety", "公共安全"
    SECURITY = "Security", "治安"
    RESCUE = "Rescue", "救援"
    FIRE = "Fire", "火灾"
    HEALTH = "Health", "卫生"
    ENV = "Env", "环境"
    TRANSPORT = "Transport", "交通"
    INFRA = "Infra", "基础设施"
    CBRNE = "CBRNE", "危化/核生化"
    OTHER = "Other", "其他"


class CapUrgency(models.TextChoices):
    IMMEDIATE = "Immediate", "立即"
    EXPECTED = "Expected", "一小时内"
    FUTURE = "Future", "近期"
    PAST = "Past", "已过去"
    UNKNOWN = "Unknown", "未知"


class CapSeverity(models.TextChoices):
    EXTREME = "Extreme", "特别严重"
    SEVERE = "Severe", "严重"
    MODERATE = "Moderate", "较重"
    MINOR = "Minor", "一般"
    UNKNOWN = "Unknown", "未知"


class CapCertainty(models.TextChoices):
    OBSERVED = "Observed", "已发生"
    LIKELY = "Likely", "很可能"
    POSSIBLE = "Possible", "可能"
    UNLIKELY = "Unlikely", "不太可能"
    UNKNOWN = "Unknown", "未知"


class CapResponseType(models.TextChoices):
    SHELTER = "Shelter", "就地避险"
    EVACUATE = "Evacuate", "撤离"
    PREPARE = "Prepare", "做好准备"
    EXECUTE = "Execute", "执行预案"
    AVOID = "Avoid", "避开"
    MONITOR = "Monitor", "关注"
    ASSESS = "Assess", "评估"
    ALL_CLEAR = "AllClear", "解除"
    NONE = "None", "无需行动"


class Alert(FanoutState):
    identifier = models.CharField(max_length=120, unique=True, help_text="CAP identifier, unique per sender.")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="alerts")
    msg_type = models.CharField(max_length=8, choices=CapMsgType.choices, default=CapMsgType.ALERT)
    references = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="followups",
        help_text="The alert this one updates or cancels.",
    )
    is_drill = models.BooleanField(default=False, help_text="CAP status Exercise.")
    drill = models.ForeignKey("emergency.Drill", null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts")
    categories = models.JSONField(default=list)
    event = models.CharField(max_length=100)
    urgency = models.CharField(max_length=16, choices=CapUrgency.choices)
    severity = models.CharField(max_length=16, choices=CapSeverity.choices)
    certainty = models.CharField(max_length=16, choices=CapCertainty.choices)
    response_types = models.JSONField(default=list, blank=True)
    headline = models.CharField(max_length=160)
    description = models.TextField(blank=True)
    instruction = models.TextField(blank=True)
    headline_en = models.CharField(max_length=160, blank=True)
    description_en = models.TextField(blank=True)
    instruction_en = models.TextField(blank=True)
    onset = models.DateTimeField(null=True, blank=True)
    expires = models.DateTimeField(null=True, blank=True)
    send_sms = models.BooleanField(default=True, help_text="Text residents without the app and vulnerable residents.")
    sent_at = models.DateTimeField(default=timezone.now)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    plan_step = models.OneToOneField("emergency.PlanStep", null=True, blank=True, on_delete=models.SET_NULL, related_name="alert")
    superseded_at = models.DateTimeField(null=True, blank=True, help_text="A later update or cancellation replaced it.")
    shelters = models.ManyToManyField("resources.Facility", blank=True, related_name="alerts",
                                      help_text="Where residents are told to go.")

    class Meta:
        db_table = "community_alert"  # the table it had before the emergency app
        ordering = ["-sent_at", "-id"]
        indexes = [
            models.Index(fields=["area", "sent_at"]),
            models.Index(fields=["fanout_status", "lease_until"], name="alert_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.msg_type} {self.headline}"

    @property
    def cap_status(self) -> str:
        return "Exercise" if self.is_drill else "Actual"

    def is_active(self, at: dt.datetime | None = None) -> bool:
        at = at or timezone.now()
        if self.msg_type == CapMsgType.CANCEL or self.superseded_at is not None:
            return False
        return self.expires is None or self.expires > at

    def chain(self) -> list[Alert]:
        """The earlier messages this one follows, oldest first (CAP references)."""
        earlier: list[Alert] = []
        current = self.references
        while current is not None and len(earlier) < 100:
            earlier.append(current)
            current = current.references
        return list(reversed(earlier))


class AlertEscalation(models.Model):
    """The alert's escalation ladder for one resident it reached by push only (a live device,
    no SMS beside it): rung 2, the alert's SMS, is due sms_after_seconds after the push was
    handed to a provider (or written, while it was not), unless the notification was opened;
    at once when every push to them failed (emergency/alert_escalation.py). Written in the
    fan-out's chunk with the pushes; settled once (escalated_at) whatever the sweep does."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="escalations")
    resident = models.ForeignKey("community.Resident", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                             help_text="Whose notification and pushes (the resident's account at fan-out).")
    pushed_at = models.DateTimeField(help_text="Rung 1: the push was written (fan-out).")
    handed_over_at = models.DateTimeField(null=True, blank=True, help_text="A provider took the first of their pushes.")
    acknowledged_at = models.DateTimeField(null=True, blank=True, help_text="The notification was opened in the app.")
    escalated_at = models.DateTimeField(null=True, blank=True, help_text="Rung 2 taken (claimed once).")
    texted = models.BooleanField(default=False, help_text="Rung 2 queued an SMS (they still had a number and consent).")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["alert", "resident"], name="one_alert_escalation_per_resident")]
        indexes = [
            # What the sweep reads: the rows still waiting, per alert.
            models.Index(fields=["alert", "pushed_at"], name="alert_escalation_open_idx",
                         condition=models.Q(escalated_at__isnull=True, acknowledged_at__isnull=True)),
            models.Index(fields=["alert", "user"], name="alert_escalation_user_idx"),
        ]

    def __str__(self) -> str:
        return f"alert {self.alert_id} ladder for resident {self.resident_id}"
