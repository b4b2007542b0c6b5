"""Tasks: creating (by staff, from a report, by the system), editing with an expected
version, headcount, cancelling, closing, and starting the engine. check_* validates and
raises ValidationError with codes; the writing functions own their transaction, record the
change on the timeline and push it after commit.

Other apps create tasks through create_task (a plan run, a safety check):

    create_task(area=grid, title="上门探访独居老人", source="SAFETY_CHECK", source_object=answer,
                priority="URGENT", idempotency_key=f"safety:{answer.pk}")
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from typing import Any, TypedDict

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from community.geo import GeoErrorCode, validate_coordinates
from community.models import Area, AreaKind, ReportKind, ResidentReport, User
from community.reports import mark_converted_to_task
from core.errors import ValidationError

from ..dispatch import timeline
from ..dispatch.state import (
    bump_version,
    lock_task,
    move_task,
    reopen_place,
    require_open,
    schedule_wave,
    staff_if_full,
    withdraw_pending,
)
from ..error_codes import VolunteersErrorCode as Code
from ..models import (
    ACTIVE_ASSIGNMENT_STATUSES,
    AssignmentStatus,
    Skill,
    Task,
    TaskAssignment,
    TaskEventKind,
    TaskPriority,
    TaskSource,
    TaskStatus,
    WithdrawReason,
)
from .assignments import end_active_assignments, finish_task
from .errors import Errors

TASK_AREA_KINDS = {AreaKind.GRID, AreaKind.COMMUNITY}
MAX_SKILLS = 10
MIN_CHECKIN_RADIUS_M, MAX_CHECKIN_RADIUS_M = 20, 5_000
MAX_LEAD_TIME = dt.timedelta(days=366)

# Task fields by name as the caller gave them (API input: enums, text not yet stripped); the
# check_* functions below validate them before anything is written.
TaskValues = dict[str, Any]

# "from" is a keyword, hence the functional form.
HeadcountChange = TypedDict("HeadcountChange", {"from": int, "to": int})


@dataclass
class TaskChanges:
    """What an edit sets; None leaves a field as it is. `location` is WGS-84 already."""

    title: str | None = None
    description: str | None = None
    address: str | None = None
    location: tuple[float, float] | None = None
    required_skills: list[str] | None = None
    priority: str | None = None
    starts_at: dt.datetime | None = None
    deadline: dt.datetime | None = None
    checkin_radius_m: int | None = None

    def given(self) -> TaskValues:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}


# --- checks -------------------------------------------------------------------------------
def _value(v: object) -> Any:
    """An enum's value (Django's or graphene's), or `v` as it is."""
    return getattr(v, "value", v)


def _check_text(errors: Errors, name: str, value: str | None, longest: int, required: bool = False) -> None:
    if value is None:
        if required:
            errors.add(name, "Required.", Code.REQUIRED)
        return
    if not isinstance(value, str):
        errors.add(name, "Give text.", Code.INVALID)
    elif required and not value.strip():
        errors.add(name, "Required.", Code.REQUIRED)
    elif len(value.strip()) > longest:
        errors.add(name, f"At most {longest} characters.", Code.TOO_LONG)


def _check_skills(errors: Errors, codes: Iterable[str] | None) -> list[Skill]:
    codes = list(dict.fromkeys(codes or ()))
    if len(codes) > MAX_SKILLS:
        errors.add("required_skills", f"At most {MAX_SKILLS} skills.", Code.INVALID)
        return []
    known = {s.code: s for s in Skill.objects.filter(code__in=codes, is_active=True)}
    for code in codes:
        if code not in known:
            errors.add("required_skills", f"Unknown skill {code!r}.", Code.UNKNOWN_SKILL)
    return [known[c] for c in codes if c in known]


def _check_times(errors: Errors, starts_at: dt.datetime | None, deadline: dt.datetime | None, now: dt.datetime) -> None:
    for name, value in (("starts_at", starts_at), ("deadline", deadline)):
        if value is not None and (not isinstance(value, dt.datetime) or timezone.is_naive(value)):
            errors.add(name, "Give a time with its timezone offset.", Code.INVALID_TIME)
            return
    if deadline is not None and deadline <= now:
        errors.add("deadline", "Must be in the future.", Code.INVALID_TIME)
    elif starts_at is not None and deadline is not None and deadline <= starts_at:
        errors.add("deadline", "Must be after the start.", Code.INVALID_TIME_RANGE)
    elif starts_at is not None and starts_at > now + MAX_LEAD_TIME:
        errors.add("starts_at", "At most a year ahead.", Code.INVALID_TIME)


def _check_location(errors: Errors, location: tuple[float, float] | None, area: Area | None) -> tuple[float, float] | None:
    if location is None:
        if area is not None and area.center_lat is not None and area.center_lng is not None:
            return (area.center_lat, area.center_lng)
        errors.add("location", "Where the task is (this area has no centre to default to).", Code.REQUIRED)
        return None
    try:
        return validate_coordinates(*location)
    except (TypeError, ValueError):
        errors.add("location", "Give (latitude, longitude) in WGS-84.", GeoErrorCode.INVALID_LOCATION)
    except DjangoValidationError:
        errors.add("location", "Latitude within ±90 and longitude within ±180.", GeoErrorCode.INVALID_LOCATION)
    return None


def _check_common(errors: Errors, values: TaskValues, now: dt.datetime) -> None:
    _check_text(errors, "title", values.get("title"), 100, required=True)
    _check_text(errors, "description", values.get("description"), 2000)
    _check_text(errors, "address", values.get("address"), 255)  # as long as a resident's or a hazard's
    priority = values.get("priority")
    if priority is not None and _value(priority) not in TaskPriority.values:
        errors.add("priority", "Use ROUTINE, URGENT or LIFE_SAFETY.", Code.INVALID_PRIORITY)
    radius = values.get("checkin_radius_m")
    if radius is not None and (isinstance(radius, bool) or not isinstance(radius, int)
                               or not MIN_CHECKIN_RADIUS_M <= radius <= MAX_CHECKIN_RADIUS_M):
        errors.add("checkin_radius_m", f"Between {MIN_CHECKIN_RADIUS_M} and {MAX_CHECKIN_RADIUS_M} metres.", Code.INVALID_RADIUS)


def check_headcount(errors: Errors, headcount: int) -> None:
    top = settings.DISPATCH_MAX_HEADCOUNT
    if isinstance(headcount, bool) or not isinstance(headcount, int) or not 1 <= headcount <= top:
        errors.add("headcount", f"Between 1 and {top} people.", Code.INVALID_HEADCOUNT)


def check_new_task(*, area: Area, values: TaskValues, now: dt.datetime) -> tuple[tuple[float, float], list[Skill]]:
    """Validate everything at once; returns the place and the skills."""
    errors = Errors()
    if area.kind not in TASK_AREA_KINDS:
        errors.add("area_id", "Tasks belong to a grid or a community.", Code.INVALID_AREA)
    _check_common(errors, values, now)
    check_headcount(errors, values["headcount"])
    if _value(values["source"]) not in TaskSource.values:
        errors.add("source", "Use STAFF, REPORT, SAFETY_CHECK or PLAN.", Code.INVALID_SOURCE)
    _check_times(errors, values.get("starts_at"), values.get("deadline"), now)
    key = values.get("idempotency_key")
    if key is not None and (not isinstance(key, str) or not 1 <= len(key) <= 255):
        errors.add("idempotency_key", "1 to 255 characters.", Code.INVALID)
    source_object = values.get("source_object")
    if source_object is not None and getattr(source_object, "pk", None) is None:
        errors.add("source_object", "Link a saved record (a report, a safety-check answer, a plan run).", Code.INVALID)
    point = _check_location(errors, values.get("location"), area)
    skills = _check_skills(errors, values.get("required_skills"))
    errors.raise_if_any()
    if point is None:  # _check_location added an error, raised just above
        raise ValidationError({"location": "Where the task is."}, code=Code.REQUIRED)
    return point, skills


# --- creating -----------------------------------------------------------------------------
@dataclass(frozen=True)
class TaskSpec:
    """What a task is: the work, where, for how many, by when (create_task validates it)."""

    title: str
    description: str = ""
    location: tuple[float, float] | None = None  # WGS-84; None: the area's centre
    address: str = ""
    required_skills: Sequence[str] = ()
    headcount: int = 1
    priority: str = "ROUTINE"
    starts_at: dt.datetime | None = None
    deadline: dt.datetime | None = None
    checkin_radius_m: int | None = None


def create_task(
    spec: TaskSpec,
    *,
    area: Area,
    source: str = "STAFF",
    source_object: models.Model | None = None,
    created_by: User | None = None,
    is_drill: bool = False,
    idempotency_key: str | None = None,
    dispatch: bool = True,
    now: dt.datetime | None = None,
) -> Task:
    """Validate, write the task and its first timeline event in the caller's transaction, and
    start dispatch after commit (dispatch=False: staff offer it by hand). The same
    idempotency_key returns the first task, so a re-run plan or safety check adds nothing."""
    now = now or timezone.now()
    if idempotency_key:
        existing = Task.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    title, description, address, headcount = spec.title, spec.description, spec.address, spec.headcount
    priority, starts_at, deadline, checkin_radius_m = spec.priority, spec.starts_at, spec.deadline, spec.checkin_radius_m
    values: TaskValues = dict(title=title, description=description, address=address, location=spec.location,
                              headcount=headcount, priority=priority, source=source, starts_at=starts_at, deadline=deadline,
                              idempotency_key=idempotency_key, required_skills=list(spec.required_skills),
                              checkin_radius_m=checkin_radius_m, source_object=source_object)
    point, skills = check_new_task(area=area, values=values, now=now)
    task = Task(
        area=area, title=title.strip(), description=(description or "").strip(), address=(address or "").strip(),
        headcount=headcount, priority=_value(priority), source=_value(source), is_drill=bool(is_drill),
        starts_at=starts_at, deadline=deadline, idempotency_key=idempotency_key or None, created_by=created_by,
        created_at=now, updated_at=now, auto_dispatch=bool(dispatch),
        checkin_radius_m=checkin_radius_m or settings.DISPATCH_CHECKIN_RADIUS_M,
    )
    task.set_location(*point)
    if source_object is not None:
        task.source_type, task.source_id = ContentType.objects.get_for_model(source_object), str(source_object.pk)
    with transaction.atomic():
        try:
            with transaction.atomic():
                task.save()
        except IntegrityError:
            if idempotency_key:  # the same key created concurrently: the first one is the task
                return Task.objects.get(idempotency_key=idempotency_key)
            raise
        task.required_skills.set(skills)
        timeline.record(task, TaskEventKind.CREATED, actor=created_by, at=now, source=task.source,
                        headcount=headcount, priority=task.priority, isDrill=task.is_drill)
        if dispatch:
            _start(task, now, actor=created_by)
        timeline.publish_task(task, TaskEventKind.CREATED, created=True)
    return task


def _start(task: Task, now: dt.datetime, actor: User | None) -> None:
    task.dispatch_started_at = task.dispatch_started_at or now
    Task.objects.filter(pk=task.pk).update(dispatch_started_at=task.dispatch_started_at, auto_dispatch=True)
    timeline.record(task, TaskEventKind.DISPATCH_STARTED, actor=actor, at=now)
    schedule_wave(task, now)


def default_report_title(report: ResidentReport) -> str:
    label = "居民求助" if report.kind == ReportKind.HELP else "隐患处置"
    return f"{label}（{report.grid.name}）"[:100]


def create_task_from_report(report: ResidentReport, *, by: User, headcount: int = 1, priority: str | None = None,
                            title: str | None = None, description: str | None = None, required_skills: Iterable[str] = (),
                            is_drill: bool = False) -> Task:
    """One step: the report becomes a task at its place in its grid, and is marked converted
    in the same transaction (exactly one of two staff converting it at once wins)."""

    if priority is None:
        priority = TaskPriority.URGENT if report.kind == ReportKind.HELP else TaskPriority.ROUTINE
    with transaction.atomic():
        mark_converted_to_task(report, by=by)
        spec = TaskSpec(title=title or default_report_title(report),
                        description=report.description if description is None else description,
                        location=report.point, required_skills=tuple(required_skills), headcount=headcount,
                        priority=priority)
        return create_task(spec, area=report.grid, source=TaskSource.REPORT, source_object=report, created_by=by,
                           is_drill=is_drill)


def start_dispatch(task: Task, *, by: User | None, now: dt.datetime | None = None) -> Task:
    """Hand the task to the engine: a task created without dispatch, or one that was
    UNSTAFFED (search again from the start radius: people may be free now)."""
    now = now or timezone.now()
    with transaction.atomic():
        task = lock_task(task.pk)
        require_open(task)
        if task.places_left <= 0:
            raise ValidationError("Every place is taken.", code=Code.TASK_FULL)
        if task.status == TaskStatus.UNSTAFFED:
            move_task(task, TaskStatus.DISPATCHING, now, radius_m=0)
        task.auto_dispatch = True
        _start(task, now, actor=by)
        timeline.publish_task(task, TaskEventKind.DISPATCH_STARTED)
    return task


# --- staff changes ------------------------------------------------------------------------
def _check_version(task: Task, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != task.version:
        raise ValidationError(
            {"expected_version": f"The task changed meanwhile (now version {task.version}); reload it and try again."},
            code=Code.STALE_VERSION,
        )


def edit_task(task: Task, changes: TaskChanges, *, by: User, expected_version: int, now: dt.datetime | None = None) -> Task:
    """Change what the task is. Refused with STALE_VERSION when someone changed it since the
    editor loaded `expected_version`; nothing is written then. Offers already out keep their
    terms; the next wave uses the new ones."""
    now = now or timezone.now()
    given = changes.given()
    errors = Errors()
    _check_common(errors, given, now)
    if "starts_at" in given or "deadline" in given:
        _check_times(errors, given.get("starts_at", task.starts_at), given.get("deadline", task.deadline), now)
    point = _check_location(errors, given["location"], None) if "location" in given else None
    skills = _check_skills(errors, given["required_skills"]) if "required_skills" in given else None
    if not given:
        errors.add("input", "Nothing to change.", Code.REQUIRED)
    errors.raise_if_any()
    with transaction.atomic():
        task = lock_task(task.pk)
        require_open(task)
        _check_version(task, expected_version)
        diff = _apply_edit(task, given, point, skills, now)
        timeline.record(task, TaskEventKind.EDITED, actor=by, at=now, changed=diff)
        timeline.publish_task(task, TaskEventKind.EDITED)
    return task


def _apply_edit(task: Task, given: TaskValues, point: tuple[float, float] | None, skills: list[Skill] | None,
                now: dt.datetime) -> dict[str, list[object]]:
    diff: dict[str, list[object]] = {}
    values: dict[str, object] = {}
    for name in ("title", "description", "address"):
        if name in given and given[name].strip() != getattr(task, name):
            diff[name] = [getattr(task, name), given[name].strip()]
            values[name] = given[name].strip()
    for name in ("priority", "starts_at", "deadline", "checkin_radius_m"):
        if name in given and _value(given[name]) != getattr(task, name):
            old, new = getattr(task, name), _value(given[name])
            diff[name] = [str(old) if old is not None else None, str(new)]
            values[name] = new
    if point is not None and point != task.point:
        diff["location"] = [list(task.point or ()), list(point)]
        task.set_location(*point)
        values.update(lat=task.lat, lng=task.lng, h3_cell=task.h3_cell)
    if skills is not None:
        old = sorted(task.required_skills.values_list("code", flat=True))
        if sorted(s.code for s in skills) != old:
            diff["required_skills"] = [old, sorted(s.code for s in skills)]
            task.required_skills.set(skills)
    bump_version(task, now, **values)
    return diff


def set_task_headcount(task: Task, headcount: int, *, by: User, expected_version: int | None = None,
                       now: dt.datetime | None = None) -> Task:
    """More places reopen dispatch; fewer (never below the people on it) may staff the task."""
    now = now or timezone.now()
    errors = Errors()
    check_headcount(errors, headcount)
    errors.raise_if_any()
    with transaction.atomic():
        task = lock_task(task.pk)
        require_open(task)
        _check_version(task, expected_version)
        if headcount < task.filled_count:
            raise ValidationError({"headcount": f"{task.filled_count} people are on the task; remove someone first."},
                                  code=Code.HEADCOUNT_BELOW_FILLED)
        old = task.headcount
        bump_version(task, now, headcount=headcount)
        timeline.record(task, TaskEventKind.HEADCOUNT_CHANGED, actor=by, at=now,
                        **HeadcountChange({"from": old, "to": headcount}))
        if not staff_if_full(task, now) and headcount > old:
            reopen_place(task, now, actor=by)
        timeline.publish_task(task, TaskEventKind.HEADCOUNT_CHANGED)
    return task


def cancel_task(task: Task, *, by: User | None, reason: str = "", expected_version: int | None = None,
                now: dt.datetime | None = None) -> Task:
    """Stop everything: pending offers withdrawn, people on it released and told. `by` None:
    the system (a wind-down with nobody to name)."""
    now = now or timezone.now()
    errors = Errors()
    _check_text(errors, "reason", reason, 500)
    errors.raise_if_any()
    with transaction.atomic():
        task = lock_task(task.pk)
        require_open(task)
        _check_version(task, expected_version)
        _cancel(task, now, by=by, reason=(reason or "").strip())
    return task


def _cancel(task: Task, now: dt.datetime, *, by: User | None, reason: str) -> None:
    """(The task row is locked by the caller.)"""
    move_task(task, TaskStatus.CANCELLED, now, closed_at=now, dispatch_due_at=None, status_reason=reason)
    bump_version(task, now)
    withdraw_pending(task, WithdrawReason.CANCELLED, now)

    end_active_assignments(task, AssignmentStatus.CANCELLED, now, by=by)
    timeline.record(task, TaskEventKind.CANCELLED, actor=by, at=now, reason=reason)
    timeline.publish_task(task, TaskEventKind.CANCELLED)


def resident_reported_safe(task_id: int, *, by: User | None, channel: str, now: dt.datetime | None = None) -> str:
    """The resident a welfare check is for answered SAFE (themself, or someone for them).
    A check nobody has taken yet is called off: pending offers withdrawn, their people told.
    One a volunteer already holds goes on — a visit to a vulnerable resident is cheap and the
    grid worker may still want it — and the answer goes on its timeline and to its watchers.
    Returns "cancelled", "noted" or "closed" (the task had already ended: nothing changes)."""
    now = now or timezone.now()
    with transaction.atomic():
        task = lock_task(task_id)
        if task.is_closed:
            return "closed"
        timeline.record(task, TaskEventKind.RESIDENT_SAFE, actor=by, at=now, channel=str(channel))
        if TaskAssignment.objects.filter(task=task, status__in=ACTIVE_ASSIGNMENT_STATUSES).exists():
            bump_version(task, now)
            timeline.publish_task(task, TaskEventKind.RESIDENT_SAFE)
            return "noted"
        _cancel(task, now, by=by, reason="居民已报平安，无需上门。")
        return "cancelled"


def close_task(task: Task, *, by: User | None, expected_version: int | None = None, now: dt.datetime | None = None) -> Task:
    """Staff declare the work done: people on site are completed (their hours recorded),
    those who never arrived are released, pending offers withdrawn."""
    now = now or timezone.now()
    with transaction.atomic():
        task = lock_task(task.pk)
        require_open(task)
        _check_version(task, expected_version)
        finish_task(task, now, by=by)
    return task
