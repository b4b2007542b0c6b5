"""Response plans (应急预案): what happens automatically when an area enters a mode.

A plan belongs to an area and a mode and is versioned: editing writes a new version, old
versions never change (a switch records the version it ran, and that record must keep its
meaning). A switch that enters a mode writes a PlanRun in the switch transaction; its steps
(one per plan action) are executed afterwards by Celery, chunk by chunk (emergency.plans).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from community.models import Area, Mode, ModeSwitch

from .fanout import FanoutState


class PlanAction(models.TextChoices):
    ALERT = "ALERT", "发布预警"
    SAFETY_CHECK = "SAFETY_CHECK", "启动报平安"
    MOBILISE = "MOBILISE", "志愿者和党员待命/集结"
    SET_DISPATCH = "SET_DISPATCH", "调整派单参数"
    CREATE_TASKS = "CREATE_TASKS", "创建预设任务"


class ImmutableVersionError(RuntimeError):
    pass


class ResponsePlan(models.Model):
    """One version of the plan of (area, mode). Rows are written once and never updated."""

    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="response_plans")
    mode = models.CharField(max_length=16, choices=Mode.choices)
    version = models.PositiveIntegerField()
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    actions = models.JSONField(default=list, help_text='[{"type": "ALERT", "params": {...}}, ...]')
    is_enabled = models.BooleanField(default=True, help_text="False: this version withdraws the plan.")
    change_note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "community_responseplan"  # the table it had before the emergency app
        ordering = ["area_id", "mode", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["area", "mode", "version"], name="unique_plan_version"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version} ({self.area_id}, {self.mode})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.pop("_allow_update", False):
            raise ImmutableVersionError("Plan versions are immutable; write a new version.")
        super().save(*args, **kwargs)


class PlanRunStatus(models.TextChoices):
    PENDING = "PENDING", "待执行"
    RUNNING = "RUNNING", "执行中"
    DONE = "DONE", "已完成"
    SUPERSEDED = "SUPERSEDED", "被后续切换取代"


class PlanRun(FanoutState):
    """The plan that ran (or no plan) when a switch entered a mode. fanout_phase holds the
    position of the step being worked on.

    A switch writes one run for its own area (mode_switch) and one for each descendant that
    has its own plan for the mode (parent: the switched area's run; mode_switch empty), so a
    community's patrols run when its subdistrict declares."""

    mode_switch = models.OneToOneField(ModeSwitch, null=True, blank=True, on_delete=models.CASCADE, related_name="plan_run")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="descendant_runs",
                               help_text="The switched ancestor's run this descendant's run belongs to.")
    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="plan_runs")
    mode = models.CharField(max_length=16, choices=Mode.choices)
    is_drill = models.BooleanField(default=False)
    drill = models.ForeignKey("emergency.Drill", null=True, blank=True, on_delete=models.CASCADE, related_name="plan_runs")
    plan = models.ForeignKey(ResponsePlan, null=True, blank=True, on_delete=models.PROTECT, related_name="runs")
    plan_version = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=PlanRunStatus.choices, default=PlanRunStatus.PENDING)
    cleared_dispatch_override = models.BooleanField(default=False, help_text="Leaving the previous mode cleared its override.")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "community_planrun"  # the table it had before the emergency app
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["area", "created_at"]),
            models.Index(fields=["fanout_status", "lease_until"], name="plan_run_due_idx"),
        ]

    def __str__(self) -> str:
        return f"plan run {self.pk} ({self.area_id} -> {self.mode})"

    @property
    def switch(self) -> ModeSwitch:
        """The switch that started this run (for a descendant's run, its ancestor's)."""
        run = self.parent if self.parent_id else self
        if run is None or run.mode_switch is None:  # pragma: no cover - every root run has its switch
            raise ValueError(f"plan run {self.pk} has no switch")
        return run.mode_switch


class PlanStepStatus(models.TextChoices):
    PENDING = "PENDING", "待执行"
    RUNNING = "RUNNING", "执行中"
    DONE = "DONE", "已完成"
    SKIPPED = "SKIPPED", "跳过"
    FAILED = "FAILED", "失败"


class PlanStep(models.Model):
    """One action of a run, with its own progress (a chunk cursor) and result."""

    run = models.ForeignKey(PlanRun, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    action = models.CharField(max_length=16, choices=PlanAction.choices)
    params = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=PlanStepStatus.choices, default=PlanStepStatus.PENDING)
    phase = models.CharField(max_length=32, blank=True)
    cursor = models.BigIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.CharField(max_length=500, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "community_planstep"  # the table it had before the emergency app
        ordering = ["run_id", "position"]
        constraints = [models.UniqueConstraint(fields=["run", "position"], name="unique_plan_step_position")]

    def __str__(self) -> str:
        return f"step {self.position} {self.action} of run {self.run_id}"


class MobilisationKind(models.TextChoices):
    VOLUNTEER = "VOLUNTEER", "志愿者"
    PARTY_MEMBER = "PARTY_MEMBER", "在职党员"


class MobilisationLevel(models.TextChoices):
    STANDBY = "STANDBY", "待命"
    CALL_IN = "CALL_IN", "集结"


class MobilisationResponse(models.TextChoices):
    NONE = "", "未答复"
    AVAILABLE = "AVAILABLE", "可以参加"
    UNAVAILABLE = "UNAVAILABLE", "无法参加"


class Mobilisation(models.Model):
    """One volunteer or Party member put on standby or called in by a plan step."""

    step = models.ForeignKey(PlanStep, on_delete=models.CASCADE, related_name="mobilisations")
    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mobilisations")
    kind = models.CharField(max_length=16, choices=MobilisationKind.choices)
    level = models.CharField(max_length=16, choices=MobilisationLevel.choices)
    is_drill = models.BooleanField(default=False)
    by_sms = models.BooleanField(default=False)
    notified_at = models.DateTimeField(default=timezone.now)
    response = models.CharField(max_length=16, choices=MobilisationResponse.choices, default="", blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "community_mobilisation"  # the table it had before the emergency app
        ordering = ["notified_at", "id"]
        constraints = [models.UniqueConstraint(fields=["step", "user"], name="one_mobilisation_per_step_and_user")]
        indexes = [models.Index(fields=["user", "notified_at"])]

    def __str__(self) -> str:
        return f"{self.level} {self.kind} {self.user_id} (step {self.step_id})"
