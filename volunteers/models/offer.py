"""Offers (派单): one task offered to one person, by app push and/or SMS, answered or expired.

    PENDING ──► ACCEPTED   (answered yes and got a place)
            ──► LATE       (answered yes after every place was taken: thanked, recorded)
            ──► DECLINED
            ──► EXPIRED    (no answer before expires_at; the sweep moves it)
            ──► WITHDRAWN  (the task was staffed or cancelled first)

Every move is a conditional UPDATE on the current status, so an answer racing the expiry
sweep, or fifty answers racing for three places, each have exactly one outcome.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .task import Task


class OfferStatus(models.TextChoices):
    PENDING = "PENDING", "待答复"
    ACCEPTED = "ACCEPTED", "已接受"
    LATE = "LATE", "已满员"
    DECLINED = "DECLINED", "已拒绝"
    EXPIRED = "EXPIRED", "已超时"
    WITHDRAWN = "WITHDRAWN", "已撤回"


class OfferPool(models.TextChoices):
    VOLUNTEER = "VOLUNTEER", "志愿者"
    PARTY_MEMBER = "PARTY_MEMBER", "报到党员"
    TEAM = "TEAM", "应急队伍"


class OfferVia(models.TextChoices):
    ENGINE = "ENGINE", "自动派单"
    STAFF = "STAFF", "工作人员指定"


class AnswerChannel(models.TextChoices):
    APP = "APP", "App"
    SMS = "SMS", "短信"


class WithdrawReason(models.TextChoices):
    STAFFED = "STAFFED", "人员已满"
    CANCELLED = "CANCELLED", "任务取消"
    CLOSED = "CLOSED", "任务结束"


class Offer(models.Model):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="offers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="task_offers")
    volunteer = models.ForeignKey("volunteers.Volunteer", null=True, blank=True, on_delete=models.SET_NULL, related_name="offers")
    pool = models.CharField(max_length=16, choices=OfferPool.choices, default=OfferPool.VOLUNTEER)
    via = models.CharField(max_length=8, choices=OfferVia.choices, default=OfferVia.ENGINE)
    offered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=16, choices=OfferStatus.choices, default=OfferStatus.PENDING)
    wave = models.PositiveSmallIntegerField(default=1)
    rank = models.PositiveIntegerField(default=0, help_text="Position in its wave, 1 = first choice.")
    distance_m = models.FloatField(null=True, blank=True, help_text="From where the person was looked for to the task.")
    offered_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_via = models.CharField(max_length=8, choices=AnswerChannel.choices, blank=True)
    withdrawn_reason = models.CharField(max_length=16, choices=WithdrawReason.choices, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True, help_text="When it left PENDING, whatever the outcome.")
    # SMS: the outbox row and the reply code printed in it (also shown in the app).
    sms_message = models.ForeignKey("notifications.SmsMessage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    sms_code = models.CharField(max_length=4, blank=True)
    is_drill = models.BooleanField(default=False)
    # A team offer goes to the leader (`user`), who accepts for a number of people.
    team = models.ForeignKey("volunteers.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="offers")
    people = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Team offers: how many the leader accepted for.")

    class Meta:
        ordering = ["offered_at", "id"]
        indexes = [
            models.Index(fields=["status", "expires_at"], name="offer_due_idx", condition=Q(status="PENDING")),
            models.Index(fields=["user", "status"]),
            models.Index(fields=["task", "status"]),
        ]
        constraints = [
            # Waves are idempotent: a re-run never offers a task to anyone twice.
            models.UniqueConstraint(fields=["task", "user"], name="one_offer_per_person_and_task"),
            models.UniqueConstraint(fields=["task", "team"], condition=Q(team__isnull=False), name="one_offer_per_team_and_task"),
        ]

    def __str__(self) -> str:
        return f"offer {self.pk}: task {self.task_id} -> {self.user_id} ({self.status})"
