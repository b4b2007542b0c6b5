"""Tasks (任务): a piece of work for N people at a place, needing some skills, by a deadline;
the people on it (TaskAssignment), its timeline (TaskEvent), and the per-area dispatch
overrides an emergency sets.

The status machine (one function moves it: volunteers.dispatch.state.move_task):

    OPEN ──► DISPATCHING ──► STAFFED ──► IN_PROGRESS ──► DONE
      │           │  ▲          │             ▲
      │           ▼  │          ▼             │  (first person on site)
      │       UNSTAFFED ◄── (nobody left)     │
      └──────────────► CANCELLED ◄────────────┘ (from any open status)

A place that reopens (someone withdraws, headcount raised) moves STAFFED back to DISPATCHING
and the engine resumes; IN_PROGRESS stays IN_PROGRESS while it does.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from community.geo import Located
from community.models import Area


class TaskPriority(models.TextChoices):
    ROUTINE = "ROUTINE", "常规"
    URGENT = "URGENT", "紧急"
    LIFE_SAFETY = "LIFE_SAFETY", "生命安全"


class TaskSource(models.TextChoices):
    STAFF = "STAFF", "工作人员创建"
    REPORT = "REPORT", "居民上报"
    SAFETY_CHECK = "SAFETY_CHECK", "报平安"
    PLAN = "PLAN", "应急预案"


class TaskStatus(models.TextChoices):
    OPEN = "OPEN", "待派单"
    DISPATCHING = "DISPATCHING", "派单中"
    STAFFED = "STAFFED", "人员已满"
    IN_PROGRESS = "IN_PROGRESS", "进行中"
    DONE = "DONE", "已完成"
    CANCELLED = "CANCELLED", "已取消"
    UNSTAFFED = "UNSTAFFED", "无人可派"


# Statuses in which the task still needs or does work.
ACTIVE_TASK_STATUSES = (
    TaskStatus.OPEN, TaskStatus.DISPATCHING, TaskStatus.STAFFED, TaskStatus.IN_PROGRESS, TaskStatus.UNSTAFFED,
)
CLOSED_TASK_STATUSES = (TaskStatus.DONE, TaskStatus.CANCELLED)
# Statuses in which the engine looks for people when places are free.
DISPATCHABLE_STATUSES = (TaskStatus.OPEN, TaskStatus.DISPATCHING, TaskStatus.IN_PROGRESS)


class Task(Located):
    """Located holds the place (WGS-84): by default the grid's centre."""

    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="tasks", help_text="A grid or a community.")
    pool_area = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Whose volunteers may be offered it: those serving in this area (the task's area or an ancestor, "
                  "set by staff who manage it: mutual aid). Empty: the task's own area.",
    )
    title = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    address = models.CharField(max_length=255, blank=True, help_text="Shown only to staff and to the people on the task.")
    required_skills = models.ManyToManyField("volunteers.Skill", blank=True, related_name="+")
    headcount = models.PositiveSmallIntegerField(default=1)
    people_to_help = models.PositiveSmallIntegerField(
        default=1, help_text="People the task is for (a help request a neighbour joined: 2), not volunteers.")
    filled_count = models.PositiveSmallIntegerField(default=0, help_text="Places taken; claimed with a conditional UPDATE.")
    priority = models.CharField(max_length=16, choices=TaskPriority.choices, default=TaskPriority.ROUTINE)
    source = models.CharField(max_length=16, choices=TaskSource.choices, default=TaskSource.STAFF)
    source_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    source_id = models.CharField(max_length=64, blank=True)
    source_object = GenericForeignKey("source_type", "source_id")
    status = models.CharField(max_length=16, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    is_drill = models.BooleanField(default=False)
    starts_at = models.DateTimeField(null=True, blank=True)
    deadline = models.DateTimeField(null=True, blank=True)
    checkin_radius_m = models.PositiveIntegerField(default=300)
    idempotency_key = models.CharField(max_length=255, null=True, blank=True, unique=True)
    version = models.PositiveIntegerField(default=1, help_text="Bumped by every staff change; edits name the version they saw.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    # The engine's state: all deadlines live here, the periodic sweep re-drives what is due.
    auto_dispatch = models.BooleanField(default=True, help_text="The engine finds people; off: staff offer by hand.")
    dispatch_due_at = models.DateTimeField(null=True, blank=True, help_text="When the engine must look at the task again.")
    wave_count = models.PositiveSmallIntegerField(default=0)
    radius_m = models.PositiveIntegerField(default=0, help_text="Search radius reached so far.")

    # Milestones, for the learning metrics.
    dispatch_started_at = models.DateTimeField(null=True, blank=True)
    first_accepted_at = models.DateTimeField(null=True, blank=True)
    staffed_at = models.DateTimeField(null=True, blank=True, help_text="First time every place was filled.")
    started_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    status_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["area", "status", "created_at"]),
            models.Index(fields=["status", "dispatch_due_at"], name="task_dispatch_due_idx"),
            models.Index(fields=["source_type", "source_id"], name="task_source_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(filled_count__lte=F("headcount")), name="task_not_over_staffed"),
            models.CheckConstraint(condition=Q(headcount__gte=1), name="task_headcount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.title} #{self.pk} ({self.status})"

    @property
    def places_left(self) -> int:
        return max(0, self.headcount - self.filled_count)

    @property
    def site(self) -> tuple[float, float]:
        """Where the work is, for dispatch and check-in: create_task always places a task."""
        point = self.point
        if point is None:
            raise ValueError(f"task {self.pk} has no location")
        return point

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_TASK_STATUSES


class AssignmentStatus(models.TextChoices):
    ACCEPTED = "ACCEPTED", "已接单"
    EN_ROUTE = "EN_ROUTE", "在路上"
    ON_SITE = "ON_SITE", "已到场"
    COMPLETED = "COMPLETED", "已完成"
    WITHDRAWN = "WITHDRAWN", "本人退出"
    REMOVED = "REMOVED", "被移出"
    RELEASED = "RELEASED", "任务结束未到场"
    CANCELLED = "CANCELLED", "任务取消"


# Holding a place: counted in filled_count and against the person's concurrent-task limit.
ACTIVE_ASSIGNMENT_STATUSES = (AssignmentStatus.ACCEPTED, AssignmentStatus.EN_ROUTE, AssignmentStatus.ON_SITE)
# On the task for the people it serves: holding a place, or done the work. Someone who left
# (withdrawn, removed), was released before arriving, or whose task was cancelled is not.
SERVING_ASSIGNMENT_STATUSES = (*ACTIVE_ASSIGNMENT_STATUSES, AssignmentStatus.COMPLETED)


class TaskAssignment(models.Model):
    """One person on one task: from accepting (or being added by staff) to completing."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="assignments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="task_assignments")
    volunteer = models.ForeignKey("volunteers.Volunteer", null=True, blank=True, on_delete=models.SET_NULL, related_name="assignments")
    offer = models.OneToOneField("volunteers.Offer", null=True, blank=True, on_delete=models.SET_NULL, related_name="assignment")
    status = models.CharField(max_length=16, choices=AssignmentStatus.choices, default=AssignmentStatus.ACCEPTED)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                 help_text="Staff who added the person directly (no offer).")
    assigned_at = models.DateTimeField(default=timezone.now)
    en_route_at = models.DateTimeField(null=True, blank=True)
    on_site_at = models.DateTimeField(null=True, blank=True)
    on_site_lat = models.FloatField(null=True, blank=True)
    on_site_lng = models.FloatField(null=True, blank=True)
    on_site_distance_m = models.FloatField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    ended_at = models.DateTimeField(null=True, blank=True, help_text="Withdrawn, removed, released or cancelled.")
    end_reason = models.CharField(max_length=500, blank=True)
    hours_entry = models.OneToOneField("volunteers.ServiceHoursEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="task_assignment")
    # A team's leader holds one assignment for the people the team sends: `people` places.
    team = models.ForeignKey("volunteers.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="assignments")
    people = models.PositiveSmallIntegerField(default=1, help_text="Places this assignment holds (a team: how many it sends).")

    class Meta:
        ordering = ["assigned_at", "id"]
        indexes = [models.Index(fields=["user", "status"])]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "user"], condition=Q(status__in=["ACCEPTED", "EN_ROUTE", "ON_SITE", "COMPLETED"]),
                name="one_active_assignment_per_person_and_task",
            ),
            models.CheckConstraint(condition=Q(people__gte=1), name="assignment_people_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} on task {self.task_id} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_ASSIGNMENT_STATUSES


class TaskEventKind(models.TextChoices):
    CREATED = "CREATED", "创建"
    EDITED = "EDITED", "修改"
    HEADCOUNT_CHANGED = "HEADCOUNT_CHANGED", "调整人数"
    DISPATCH_STARTED = "DISPATCH_STARTED", "开始派单"
    WAVE_SENT = "WAVE_SENT", "发出一轮派单"
    RADIUS_WIDENED = "RADIUS_WIDENED", "扩大范围"
    OFFERED = "OFFERED", "派单"
    ACCEPTED = "ACCEPTED", "接单"
    DECLINED = "DECLINED", "拒绝"
    EXPIRED = "EXPIRED", "超时未答复"
    LATE = "LATE", "接单晚了"
    OFFER_WITHDRAWN = "OFFER_WITHDRAWN", "撤回派单"
    STAFFED = "STAFFED", "人员已满"
    UNSTAFFED = "UNSTAFFED", "无人可派"
    PLACE_REOPENED = "PLACE_REOPENED", "名额重新开放"
    EN_ROUTE = "EN_ROUTE", "出发"
    ON_SITE = "ON_SITE", "到场"
    STARTED = "STARTED", "开始进行"
    COMPLETED = "COMPLETED", "完成"
    WITHDREW = "WITHDREW", "接单后退出"
    PERSON_ADDED = "PERSON_ADDED", "加入人员"
    PERSON_REMOVED = "PERSON_REMOVED", "移出人员"
    CLOSED = "CLOSED", "结束任务"
    CANCELLED = "CANCELLED", "取消任务"
    RESIDENT_SAFE = "RESIDENT_SAFE", "居民已报平安"
    HELP_JOINED = "HELP_JOINED", "同户/同址又有人求助"
    RECRUITING_STOPPED = "RECRUITING_STOPPED", "停止招募"
    UNDELIVERABLE = "UNDELIVERABLE", "派单短信无法送达"


class TaskEvent(models.Model):
    """The timeline: who did what to the task, when. Written in the transaction of the change."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=24, choices=TaskEventKind.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                              help_text="Who did it; empty for the system (the engine, the sweep).")
    subject = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                help_text="The person it concerns (offered, accepted, removed, ...).")
    offer = models.ForeignKey("volunteers.Offer", null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    wave = models.PositiveSmallIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["task", "at"])]

    def __str__(self) -> str:
        return f"task {self.task_id} {self.kind} @ {self.at:%H:%M:%S}"


class AreaDispatchOverride(models.Model):
    """Dispatch parameters set for an area and everything below it (an emergency plan sets
    them on entering EMERGENCY and clears them on leaving). See volunteers.dispatch.parameters."""

    area = models.OneToOneField(Area, on_delete=models.CASCADE, related_name="dispatch_override")
    params = models.JSONField(default=dict, help_text='{"answer_seconds": 120, "radius_max_m": {"URGENT": 8000}, ...}')
    reason = models.CharField(max_length=500, blank=True)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    set_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"dispatch override @ {self.area_id}"
