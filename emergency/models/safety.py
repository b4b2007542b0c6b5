"""Safety checks (报平安): during an emergency every resident of an area answers "safe" or
"need help"; silence from a vulnerable resident becomes a welfare-check task.

One SafetyStatus row per resident and check holds the current answer (counts are aggregates
over these rows, so an answer can never be counted twice); every answer, including a later
change of mind, is kept in SafetyAnswer.

Each resident's silence clock starts when their question reached them — `asked_at`: the push
was sent, or the SMS was handed to a carrier (moved to the delivery time when a receipt says
so) — not when the check started. A resident who cannot be reached at all (no app, no phone
that takes SMS, opted out, undeliverable) is `unreachable_at` at once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from community.models import Area, Resident

from .fanout import FanoutState


class SafetyCheckStatus(models.TextChoices):
    ACTIVE = "ACTIVE", "进行中"
    CLOSED = "CLOSED", "已结束"


class SafetyCheck(FanoutState):
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="safety_checks")
    title = models.CharField(max_length=100)
    is_drill = models.BooleanField(default=False)
    drill = models.ForeignKey("emergency.Drill", null=True, blank=True, on_delete=models.SET_NULL, related_name="safety_checks")
    status = models.CharField(max_length=8, choices=SafetyCheckStatus.choices, default=SafetyCheckStatus.ACTIVE)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    plan_step = models.OneToOneField("emergency.PlanStep", null=True, blank=True, on_delete=models.SET_NULL, related_name="safety_check")
    started_at = models.DateTimeField(default=timezone.now)
    welfare_after_minutes = models.PositiveIntegerField(default=60)
    welfare_due_at = models.DateTimeField(help_text="Vulnerable residents still silent then get a welfare-check task.")
    reply_until = models.DateTimeField(help_text="SMS replies are routed here until then.")
    resident_count = models.PositiveIntegerField(default=0, help_text="Residents in the area when it started.")
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    final_counts = models.JSONField(default=dict, blank=True, help_text="The counts when it closed (total, safe, need_help, ...).")

    class Meta:
        db_table = "community_safetycheck"  # the table it had before the emergency app
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["area", "started_at"]),
            models.Index(fields=["status", "welfare_due_at"]),
            models.Index(fields=["fanout_status", "lease_until"], name="safety_check_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status == SafetyCheckStatus.ACTIVE


class SafetyState(models.TextChoices):
    UNANSWERED = "UNANSWERED", "未答复"
    SAFE = "SAFE", "平安"
    NEED_HELP = "NEED_HELP", "需要帮助"


class AnswerChannel(models.TextChoices):
    APP = "APP", "本人App"
    SMS = "SMS", "短信回复"
    VOICE = "VOICE", "电话按键"
    PROXY = "PROXY", "家人/联系人/志愿者代报"
    STAFF = "STAFF", "工作人员登记"


class UnreachableReason(models.TextChoices):
    NO_PHONE = "NO_PHONE", "无App且无手机号"
    OPTED_OUT = "OPTED_OUT", "已退订短信"
    UNDELIVERABLE = "UNDELIVERABLE", "短信无法送达"


class SafetyStatus(models.Model):
    safety_check = models.ForeignKey(SafetyCheck, on_delete=models.CASCADE, related_name="statuses")
    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="safety_statuses")
    grid = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+", help_text="The resident's grid at the start.")
    is_vulnerable = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=SafetyState.choices, default=SafetyState.UNANSWERED)
    first_answered_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    channel = models.CharField(max_length=8, choices=AnswerChannel.choices, blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(max_length=500, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    version = models.PositiveIntegerField(default=0, help_text="Bumped by every answer (conditional updates).")
    asked_by_push = models.BooleanField(default=False)
    asked_by_sms = models.BooleanField(default=False)
    asked_at = models.DateTimeField(null=True, blank=True,
                                    help_text="The question reached them (push sent, SMS handed over or delivered): the silence clock starts.")
    unreachable_at = models.DateTimeField(null=True, blank=True, help_text="No way to ask them at all: welfare visit at once if vulnerable.")
    # The escalation ladder (emergency/escalation.py): when each rung was taken for this
    # resident, and when the app reported the push opened (reached, though not yet answered).
    pushed_at = models.DateTimeField(null=True, blank=True, help_text="Rung 1: push queued to their live devices.")
    texted_at = models.DateTimeField(null=True, blank=True, help_text="Rung 2: SMS queued.")
    called_at = models.DateTimeField(null=True, blank=True, help_text="Rung 3: voice call queued.")
    acknowledged_at = models.DateTimeField(null=True, blank=True, help_text="The push was opened in the app.")
    unreachable_reason = models.CharField(max_length=16, choices=UnreachableReason.choices, blank=True)
    # Task ids (volunteers.Task), plain ids: a task outlives the check and is found by its own source.
    need_help_task_id = models.BigIntegerField(null=True, blank=True)
    welfare_task_id = models.BigIntegerField(null=True, blank=True)
    welfare_requested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "community_safetystatus"  # the table it had before the emergency app
        constraints = [models.UniqueConstraint(fields=["safety_check", "resident"], name="one_safety_status_per_resident")]
        indexes = [
            models.Index(fields=["safety_check", "status"]),
            models.Index(fields=["safety_check", "grid"]),
            models.Index(fields=["safety_check", "is_vulnerable", "status"]),
            models.Index(fields=["safety_check", "first_answered_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.resident_id} in check {self.safety_check_id}: {self.status}"

    @property
    def accounted_for(self) -> bool:
        return self.status != SafetyState.UNANSWERED


class SafetyAnswer(models.Model):
    """Every answer given, by whom and how, in order."""

    status_row = models.ForeignKey(SafetyStatus, on_delete=models.CASCADE, related_name="answers")
    status = models.CharField(max_length=16, choices=SafetyState.choices)
    previous_status = models.CharField(max_length=16, choices=SafetyState.choices)
    channel = models.CharField(max_length=8, choices=AnswerChannel.choices)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(max_length=500, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    client_key = models.CharField(max_length=255, blank=True)
    source_ref = models.CharField(max_length=80, blank=True, help_text="e.g. the inbound SMS MessageSid")
    answered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "community_safetyanswer"  # the table it had before the emergency app
        ordering = ["answered_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["status_row", "answered_by", "client_key"], condition=~Q(client_key=""),
                name="unique_safety_answer_client_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.status} for {self.status_row_id} via {self.channel}"
