"""Drills (演练) as an overlay, and wind-downs (收尾): how a footing ends.

A drill runs over an area beside its real mode: the area keeps its real `mode` (answer
times, pools, dispatch overrides and effectiveMode read it), and at most one drill is active
on it, with its own mode, its plan runs and everything they create, all marked is_drill and
tied to the drill. Switching with isDrill starts, changes and ends the drill
(emergency.switching).

A wind-down is what happens when a drill ends or an area goes to RECOVERY or NORMAL: the
runs that footing started (and what they created) are closed — queued messages superseded,
open offers withdrawn, tasks nobody holds cancelled, alerts cancelled or expired, safety
checks closed with their final counts — and what still runs is listed with why. It is a
chunked background job (emergency.winddown), resumable like a fan-out.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from community.models import Area, Mode, ModeSwitch

from .fanout import FanoutState


class Drill(models.Model):
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="drills")
    mode = models.CharField(max_length=16, choices=Mode.choices, help_text="The drill's own mode; the area's real mode is apart.")
    reason = models.TextField(blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    mode_changed_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["area"], condition=Q(ended_at__isnull=True), name="one_active_drill_per_area"),
        ]
        indexes = [models.Index(fields=["area", "started_at"])]

    def __str__(self) -> str:
        return f"drill {self.pk} on {self.area_id} ({self.mode}{', ended' if self.ended_at else ''})"

    @property
    def is_active(self) -> bool:
        return self.ended_at is None


class WindDownCause(models.TextChoices):
    DRILL_ENDED = "DRILL_ENDED", "演练结束"
    RECOVERY = "RECOVERY", "转入恢复"
    NORMAL = "NORMAL", "恢复平时"


class WindDown(FanoutState):
    """Closing what a footing started. fanout_counts hold what was closed so far; `kept` the
    tasks left running and why ([{"task_id": 3, "why": "STAFFED"}, ...])."""

    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="wind_downs")
    mode_switch = models.OneToOneField(ModeSwitch, on_delete=models.CASCADE, related_name="wind_down")
    drill = models.ForeignKey(Drill, null=True, blank=True, on_delete=models.CASCADE, related_name="wind_downs")
    is_drill = models.BooleanField(default=False)
    cause = models.CharField(max_length=16, choices=WindDownCause.choices)
    runs = models.ManyToManyField("emergency.PlanRun", related_name="wind_downs", blank=True)
    since = models.DateTimeField(help_text="Alerts and checks issued on the area by hand since then are in scope too.")
    until = models.DateTimeField(help_text="The switch: what was started after it belongs to the next footing.")
    kept = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["area", "created_at"]),
            models.Index(fields=["fanout_status", "lease_until"], name="wind_down_due_idx"),
        ]

    def __str__(self) -> str:
        return f"wind-down {self.pk} of {self.area_id} ({self.cause})"
