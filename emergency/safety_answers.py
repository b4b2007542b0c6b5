"""Answers to safety checks, from the app, by SMS, by someone on the resident's behalf; and
the welfare-check tasks for vulnerable residents who stay silent.

    answer_safety_check(row, "SAFE", by=user, channel=..., client_key=...)
    answering_channel(user, row) -> AnswerChannel | None     # may this user answer for them?
    request_welfare_checks(now=None)                           # the beat sweep
    register_delivery_handlers()                               # asked_at, unreachable (apps.py)

The status row holds the current answer and is moved by a conditional UPDATE on its version
(a concurrent answer retries on the fresh row), so counts — aggregates over these rows —
never count anyone twice. Each answer is also kept (SafetyAnswer); a client key makes an app
answer idempotent, and the inbound SMS layer deduplicates replies by MessageSid. NEED_HELP
creates a life-safety task at once (create_task, idempotent per resident and check); SAFE
after a welfare check was asked for calls that check off if nobody has taken it yet. An
answer drops that person's question if it is still waiting for a carrier.

A vulnerable resident is due a welfare visit welfare_after_minutes after THEIR question
reached them (asked_at), at once when nobody can reach them (unreachable_at: no app and no
phone that takes SMS, opted out, or their question failed), and, as a last resort, when their
question has still not gone out twice that long after the check started (every provider down).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, cast

from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.db.models import F, Model, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from community.models import Area, EmergencyContact, Resident, User
from community.permissions import Action, can
from core.errors import ValidationError, field_error
from core.text import clean_text
from notifications.inbound import register_reply_handler
from notifications.models import SmsMessage
from notifications.outbox import supersede_messages
from notifications.outcomes import register_delivery_handler
from notifications.replies import Reply
from notifications.templates import render
from volunteers.models import (
    ACTIVE_TASK_STATUSES,
    SERVING_ASSIGNMENT_STATUSES,
    Task,
    TaskAssignment,
    TaskPriority,
)
from volunteers.services import (
    TaskSpec,
    create_task,
    join_help_request,
    place_system_task,
    resident_reported_safe,
)

from .error_codes import EmergencyErrorCode as Code
from .mobilise import handle_mobilisation_reply
from .models import (
    AnswerChannel,
    SafetyAnswer,
    SafetyCheck,
    SafetyCheckStatus,
    SafetyState,
    SafetyStatus,
    UnreachableReason,
)
from .safety import REFUSAL_REASONS, mark_unreachable, publish_check_event

logger = logging.getLogger(__name__)
ANSWERS = (SafetyState.SAFE, SafetyState.NEED_HELP)
MAX_RETRIES = 10


@dataclass
class AnswerResult:
    status_row: SafetyStatus
    answer: SafetyAnswer
    replayed: bool = False


def check_answer(status: str, note: str) -> tuple[str, str]:
    status = getattr(status, "value", status)
    if status not in ANSWERS:
        raise field_error("status", "Answer SAFE or NEED_HELP.", Code.INVALID)
    return status, clean_text(note, "note", 500)


def answering_channel(user: User | None, row: SafetyStatus) -> str | None:
    """How `user` may answer for the resident of `row`: themself (APP), a household member,
    a linked emergency contact or a volunteer on this resident's task (PROXY), staff of the
    resident's grid (STAFF); None when they may not."""
    if user is None or not user.is_authenticated:
        return None
    resident = row.resident
    if resident.user_id == user.pk:
        return AnswerChannel.APP
    if resident.household_id and Resident.objects.filter(user=user, household_id=resident.household_id).exists():
        return AnswerChannel.PROXY
    linked = Q(linked_user=user) | Q(linked_resident__user=user)
    if EmergencyContact.objects.filter(linked, resident=resident).exists():
        return AnswerChannel.PROXY
    if _on_residents_task(user, row):
        return AnswerChannel.PROXY
    if can(user, Action.MANAGE_PEOPLE, row.grid):
        return AnswerChannel.STAFF
    return None


def _on_residents_task(user: User, row: SafetyStatus) -> bool:
    task_ids = [t for t in (row.need_help_task_id, row.welfare_task_id) if t]
    if not task_ids:
        return False
    return TaskAssignment.objects.filter(task_id__in=task_ids, user=user, status__in=SERVING_ASSIGNMENT_STATUSES).exists()


def answer_rows(*, by: User | None = None, client_key: str = "") -> QuerySet[SafetyStatus]:
    """Status rows loaded for answering: with their check and resident, and — given the
    answerer and a client key — the answer that key already recorded (keyed_answer_id, None if
    none), so that answering costs no separate look-up for the key. (The grid is read only where
    it is needed — a NEED_HELP task's place, staff answering — and not joined on every answer:
    compiling the wide query was a large share of an answer's CPU.)"""
    rows = SafetyStatus.objects.select_related("safety_check", "resident")
    if client_key and by is not None:
        keyed = SafetyAnswer.objects.filter(status_row=OuterRef("pk"), answered_by=by, client_key=client_key)
        rows = rows.annotate(keyed_answer_id=Subquery(keyed.values("pk")[:1]))
    return rows


class _OwnRowQuery:
    """answer_rows() for "my own row of this check, with this key's earlier answer" as one
    hand-built statement, its SQL and column converters made once per database connection
    alias: the surge of residents answering paid ~40 % of an answer's CPU for Django to
    compile the same joined query on every call. Returns the same objects select_related
    would (the row with its check and resident cached, keyed_answer_id set)."""

    def __init__(self) -> None:
        self._shapes: dict[str, tuple[str, list[tuple[int, int, list[Any], Any]]]] = {}

    @staticmethod
    def _models() -> list[type[Model]]:
        return [SafetyStatus, SafetyCheck, Resident]

    def _shape(self, alias: str) -> tuple[str, list[tuple[int, int, list[Any], Any]]]:
        shape = self._shapes.get(alias)
        if shape is not None:
            return shape
        connection = connections[alias]
        qn = connection.ops.quote_name
        columns, converters = [], []
        position = 0
        for table_alias, model in zip(("s", "c", "r"), self._models(), strict=True):
            for field in model._meta.concrete_fields:
                columns.append(f"{table_alias}.{qn(str(field.column))}")
                col = field.get_col(table_alias)
                functions = connection.ops.get_db_converters(col) + field.get_db_converters(connection)
                if functions:
                    converters.append((position, 0, functions, col))
                position += 1
        def c(model: type[Model], name: str) -> str:  # a field's quoted column
            return str(qn(cast(Any, model._meta.get_field(name)).column))

        def t(model: type[Model]) -> str:
            return str(qn(model._meta.db_table))

        sql = (
            f"SELECT {', '.join(columns)}, "
            f"(SELECT a.{c(SafetyAnswer, 'id')} FROM {t(SafetyAnswer)} a "
            f"WHERE a.{c(SafetyAnswer, 'status_row')} = s.{c(SafetyStatus, 'id')} "
            f"AND a.{c(SafetyAnswer, 'answered_by')} = %s AND a.{c(SafetyAnswer, 'client_key')} = %s LIMIT 1) "
            f"FROM {t(SafetyStatus)} s "
            f"INNER JOIN {t(SafetyCheck)} c ON c.{c(SafetyCheck, 'id')} = s.{c(SafetyStatus, 'safety_check')} "
            f"INNER JOIN {t(Resident)} r ON r.{c(Resident, 'id')} = s.{c(SafetyStatus, 'resident')} "
            f"WHERE s.{c(SafetyStatus, 'safety_check')} = %s AND r.{c(Resident, 'user')} = %s LIMIT 1"
        )
        shape = (sql, converters)
        self._shapes[alias] = shape
        return shape

    def __call__(self, user: User, check_pk: int, client_key: str) -> SafetyStatus | None:
        alias = router.db_for_read(SafetyStatus) or DEFAULT_DB_ALIAS
        sql, converters = self._shape(alias)
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(sql, [user.pk, client_key, check_pk, user.pk])
            found = cursor.fetchone()
        if found is None:
            return None
        values = list(found)
        for position, _, functions, col in converters:
            value = values[position]
            for convert in functions:
                value = convert(value, col, connection)
            values[position] = value
        instances = []
        start = 0
        for model in self._models():
            fields = model._meta.concrete_fields
            instances.append(model.from_db(alias, [f.attname for f in fields], values[start:start + len(fields)]))
            start += len(fields)
        row = cast(SafetyStatus, instances[0])
        check, resident = instances[1:]
        SafetyStatus._meta.get_field("safety_check").set_cached_value(row, check)
        SafetyStatus._meta.get_field("resident").set_cached_value(row, resident)
        setattr(row, "keyed_answer_id", values[-1] if client_key else None)  # noqa: B010 - as answer_rows annotates
        return row


own_answer_row = _OwnRowQuery()


def answer_safety_check(
    row: SafetyStatus, status: str, *, by: User | None, channel: str, note: str = "",
    location: tuple[float, float] | None = None, client_key: str = "", source_ref: str = "", now: dt.datetime | None = None,
) -> AnswerResult:
    """Record an answer. The same (user, client key) returns the first answer unchanged.

    Runs in the caller's transaction (no savepoint of its own: a failure fails the caller's
    transaction, which is how every caller treats it). The common case — an answer nobody
    raced — costs four statements: the key's look-up rides on the row's load (answer_rows),
    the status row moves by one conditional UPDATE on the version it was loaded with, the
    answer row is inserted once, complete, and (a fifth) the SMS question, if one was queued
    and no carrier has it yet, is dropped; the row returned is the one loaded, brought up to
    date in memory."""
    status, note = check_answer(status, note)
    channel = str(channel)  # the plain value, as a row loaded from the database holds it
    if len(client_key) > 255:
        raise ValidationError({"idempotency_key": "At most 255 characters."}, code=Code.INVALID)
    now = now or timezone.now()
    lat, lng = location if location is not None else (None, None)
    with transaction.atomic(savepoint=False):
        for _ in range(MAX_RETRIES):
            first = _keyed_answer(row, by, client_key)
            if first is not None:
                return AnswerResult(row, first, replayed=True)
            previous = _move(row, status, channel=channel, by=by, note=note, lat=lat, lng=lng, now=now)
            if previous is not None:
                break
            # Another answer moved the row since it was loaded (or this key's twin did): reload.
            row = answer_rows(by=by, client_key=client_key).get(pk=row.pk)
        else:  # pragma: no cover
            raise RuntimeError(f"safety status {row.pk}: too many concurrent answers")
        answer = SafetyAnswer.objects.create(
            status_row=row, status=status, previous_status=previous, channel=channel, answered_by=by, note=note,
            lat=lat, lng=lng, client_key=client_key, source_ref=source_ref[:80], answered_at=now,
        )
        drop_sms = channel != AnswerChannel.SMS and row.asked_by_sms
        # A push still queued to another of their phones is dropped unless they answered in the
        # app themselves (then they have it open); a call still queued is always dropped.
        drop_push, drop_call = channel != AnswerChannel.APP and row.asked_by_push, row.called_at is not None
        if drop_sms or drop_push or drop_call:
            # Answered: their question, if no carrier has it yet, is not sent. asked_by_sms is
            # set in the fan-out transaction that queues the question, and the row only moved
            # if it still held the value loaded (see _move), so no queued question is missed.
            supersede_messages(row, reason="answered", sms=drop_sms, pushes=drop_push, calls=drop_call)
        if status == SafetyState.NEED_HELP:
            try:
                with transaction.atomic():  # the answer stands even if its task cannot be made
                    _need_help_task(row, by=by, note=note, location=location)
            except Exception:
                logger.exception("need-help task for safety status %s could not be created", row.pk)
        elif (row.welfare_task_id and previous != SafetyState.SAFE
              and not (by is not None and _on_residents_task(by, row))):
            _welfare_answered(row, by=by, channel=channel, now=now)
        publish_check_event(row.safety_check, "answered", statusId=row.pk, status=status)
    return AnswerResult(row, answer)


def _keyed_answer(row: SafetyStatus, by: User | None, client_key: str) -> SafetyAnswer | None:
    """The answer this (answerer, key) already recorded on the row, if any."""
    if not client_key:
        return None
    found = SafetyAnswer.objects.filter(status_row=row, answered_by=by, client_key=client_key)
    if not hasattr(row, "keyed_answer_id"):  # not loaded through answer_rows: look it up
        return found.first()
    keyed_id: int | None = row.keyed_answer_id
    return None if keyed_id is None else found.filter(pk=keyed_id).first()


def _move(row: SafetyStatus, status: str, *, channel: str, by: User | None, note: str, lat: float | None, lng: float | None,
          now: dt.datetime) -> str | None:
    """Conditional UPDATE on the version (and asked_by_sms) the row was loaded with; the status
    it replaced, or None when another answer moved the row first or the fan-out queued its SMS
    question meanwhile. On success `row` is brought up to date."""
    values: dict[str, object] = dict(status=status, answered_at=now, channel=channel, answered_by=by, note=note,
                                     version=F("version") + 1, first_answered_at=Coalesce("first_answered_at", Value(now)))
    if lat is not None:
        values.update(lat=lat, lng=lng)
    moved = SafetyStatus.objects.filter(pk=row.pk, version=row.version, asked_by_sms=row.asked_by_sms).update(**values)
    if not moved:
        return None
    previous = row.status
    row.status, row.answered_at, row.channel, row.answered_by, row.note = status, now, channel, by, note
    row.version += 1
    row.first_answered_at = row.first_answered_at or now
    if lat is not None:
        row.lat, row.lng = lat, lng
    return previous


def _need_help_task(row: SafetyStatus, *, by: User | None, note: str, location: tuple[float, float] | None) -> None:
    """One open help request per household or address at a time: a second NEED_HELP from the
    same flat joins the open one (one more person to help, on its timeline) instead of
    sending a second team to the same door. The grid row is locked so that two answers from
    one flat at once cannot both find nothing and both create."""
    check = row.safety_check
    resident = row.resident
    Area.objects.select_for_update().filter(pk=row.grid_id).first()
    if row.need_help_task_id is None:
        shared = open_help_request(row)
        if shared is not None:
            join_help_request(shared, by=by, note=note, resident_id=resident.pk)
            SafetyStatus.objects.filter(pk=row.pk, need_help_task_id__isnull=True).update(need_help_task_id=shared.pk)
            row.need_help_task_id = shared.pk
            return
    area, point = place_system_task(row.grid, location or resident.point)  # a task lies in its area
    task = create_task(TaskSpec(title="报平安求助：居民需要帮助", description=note or "居民在报平安中选择了“需要帮助”。", location=point, address=resident.address, priority="LIFE_SAFETY"), area=area, source="SAFETY_CHECK", source_object=row, created_by=by, is_drill=check.is_drill, idempotency_key=f"safety:{check.pk}:{resident.pk}:need-help")
    SafetyStatus.objects.filter(pk=row.pk, need_help_task_id__isnull=True).update(need_help_task_id=task.pk)
    row.need_help_task_id = row.need_help_task_id or task.pk


def open_help_request(row: SafetyStatus) -> Task | None:
    """The open LIFE_SAFETY help request of the row's household or address (same grid, same
    footing: a drill's never absorbs a real one), if there is one."""
    resident = row.resident
    same_door = Q(pk__in=[])
    if resident.household_id:
        same_door |= Q(resident__household_id=resident.household_id)
    if resident.address.strip():
        same_door |= Q(grid_id=row.grid_id, resident__address=resident.address.strip())
    neighbours = SafetyStatus.objects.filter(same_door, need_help_task_id__isnull=False).exclude(pk=row.pk)
    return (Task.objects.filter(pk__in=neighbours.values("need_help_task_id"), priority=TaskPriority.LIFE_SAFETY,
                                status__in=ACTIVE_TASK_STATUSES, is_drill=row.safety_check.is_drill)
            .order_by("created_at").first())


def _welfare_answered(row: SafetyStatus, *, by: User | None, channel: str, now: dt.datetime) -> None:
    """A welfare check was asked for and now the resident is SAFE: a check nobody has taken is
    called off, one a volunteer holds goes on with the answer on its timeline. (A volunteer on
    the check answering for the resident is the visit itself: that changes nothing here.)"""

    task_id = row.welfare_task_id
    if task_id is None:  # the caller checked: there is one
        return
    try:
        with transaction.atomic():  # the answer is what matters: a failure here must not lose it
            outcome = resident_reported_safe(task_id, by=by, channel=channel, now=now)
    except Exception:
        logger.exception("welfare task %s: could not settle after a SAFE answer", row.welfare_task_id)
        return
    logger.info("welfare task %s: resident answered safe (%s) -> %s", row.welfare_task_id, channel, outcome)


# --- welfare checks for the silent ------------------------------------------------------------
def request_welfare_checks(now: dt.datetime | None = None, limit: int = 500, *, check_id: int | None = None) -> int:
    """Vulnerable residents still UNANSWERED get a welfare-check task at their address:
    welfare_after_minutes after their question reached them, at once when nobody can reach
    them. Each row is claimed by a conditional UPDATE in the transaction that creates its task
    (keyed per check and resident), so a re-run, or two sweeps at once, never make two."""
    now = now or timezone.now()
    created = 0
    checks = SafetyCheck.objects.filter(status=SafetyCheckStatus.ACTIVE)
    if check_id is not None:
        checks = checks.filter(pk=check_id)
    for check in checks.select_related("area"):
        window = dt.timedelta(minutes=check.welfare_after_minutes)
        # Last resort: a question that has not gone out by twice the window (every provider down).
        never_asked = Q(asked_at__isnull=True) & Q(unreachable_at__isnull=True) & Q(
            safety_check__started_at__lte=now - 2 * window)
        due = Q(unreachable_at__isnull=False) | Q(asked_at__lte=now - window) | never_asked
        silent = (SafetyStatus.objects.filter(due, safety_check=check, is_vulnerable=True, status=SafetyState.UNANSWERED,
                                              welfare_requested_at__isnull=True)
                  .select_related("resident", "grid").order_by(Coalesce("unreachable_at", "asked_at").asc(nulls_last=True),
                                                                "pk")[:limit])
        for row in silent:
            created += _welfare_task(check, row, now)
    return created


def _welfare_reason(check: SafetyCheck, row: SafetyStatus) -> str:
    if row.unreachable_at is not None:
        why = UnreachableReason(row.unreachable_reason).label if row.unreachable_reason else "无法联系"
        return f"{check.title}：无法联系到该居民（{why}），请上门确认其安全。"
    if row.asked_at is None:
        return f"{check.title}开始{2 * check.welfare_after_minutes}分钟后仍未能询问到该居民，请上门确认其安全。"
    return f"{check.title}：询问送达{check.welfare_after_minutes}分钟后仍未答复，请上门确认其安全。"


def _welfare_task(check: SafetyCheck, row: SafetyStatus, now: dt.datetime) -> int:
    with transaction.atomic():
        claimed = SafetyStatus.objects.filter(pk=row.pk, status=SafetyState.UNANSWERED, welfare_requested_at__isnull=True
                                              ).update(welfare_requested_at=now)
        if not claimed:
            return 0  # answered meanwhile, or another sweep took it
        resident = row.resident
        try:
            area, point = place_system_task(row.grid, resident.point)
            task = create_task(TaskSpec(title="上门探访：重点关注居民未报平安", description=_welfare_reason(check, row),
                                        location=point, address=resident.address, priority="URGENT"),
                               area=area, source="SAFETY_CHECK", source_object=row, is_drill=check.is_drill,
                               idempotency_key=f"safety:{check.pk}:{resident.pk}:welfare")
        except ValidationError:
            logger.exception("welfare task for safety status %s could not be created", row.pk)
            transaction.set_rollback(True)
            return 0
        SafetyStatus.objects.filter(pk=row.pk).update(welfare_task_id=task.pk)
    return 1


# --- what became of the SMS questions (notifications.outcomes) ---------------------------------
def _row_ids(messages: list[SmsMessage]) -> list[int]:
    return [pk for pk in (_int(m.related_id) for m in messages) if pk is not None]


def questions_handed_over(messages: list[SmsMessage]) -> None:
    """The silence clock starts when a carrier has the question (if no push asked first)."""
    now = timezone.now()
    SafetyStatus.objects.filter(pk__in=_row_ids(messages), asked_at__isnull=True).update(asked_at=now)


def questions_delivered(messages: list[SmsMessage]) -> None:
    """A receipt says the handset has it: the clock starts then (unless the app asked)."""
    for message in messages:
        row_id = _int(message.related_id)
        if row_id is not None:
            SafetyStatus.objects.filter(pk=row_id, asked_by_push=False).update(asked_at=message.status_changed_at)


def questions_failed(messages: list[SmsMessage]) -> None:
    """The question will not reach them: without the app they cannot be asked at all —
    unreachable now, and a vulnerable one due a welfare visit at once."""
    why = {_int(m.related_id): REFUSAL_REASONS.get(m.error_code, UnreachableReason.UNDELIVERABLE) for m in messages}
    rows = (SafetyStatus.objects.filter(pk__in=_row_ids(messages), asked_by_push=False, status=SafetyState.UNANSWERED,
                                        unreachable_at__isnull=True).select_related("safety_check"))
    by_check: dict[int, list[SafetyStatus]] = {}
    for row in rows:
        by_check.setdefault(row.safety_check_id, []).append(row)
    now = timezone.now()
    for group in by_check.values():
        check = group[0].safety_check
        reasons = {r.pk: str(why.get(r.pk, UnreachableReason.UNDELIVERABLE)) for r in group}
        mark_unreachable(check, reasons, vulnerable=[r.pk for r in group if r.is_vulnerable], now=now)


# --- SMS replies: "1" safe, "2" need help ----------------------------------------------------
def handle_safety_reply(prompt: SmsMessage, reply: Reply) -> str | None:
    row_id = _int(prompt.related_id)
    row = (None if row_id is None
           else SafetyStatus.objects.select_related("resident", "grid", "safety_check").filter(pk=row_id).first())
    if row is None:
        return None
    status = SafetyState.SAFE if reply.intent == "yes" else SafetyState.NEED_HELP
    answer_safety_check(row, status, by=row.resident.user, channel=AnswerChannel.SMS,
                        source_ref=f"sms:{prompt.pk}:{reply.code or ''}")
    name = "emergency.safety.reply.safe" if status == SafetyState.SAFE else "emergency.safety.reply.help"
    return render(name, {}, language=prompt.language, is_drill=False)


def _safety_still_unanswered(prompt: SmsMessage) -> bool:
    row_id = _int(prompt.related_id)
    return row_id is not None and SafetyStatus.objects.filter(pk=row_id, status=SafetyState.UNANSWERED).exists()


def _int(value: str) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def register_delivery_handlers() -> None:
    register_delivery_handler("safety_check", handed_over=questions_handed_over, delivered=questions_delivered,
                              failed=questions_failed)


def register_reply_handlers() -> None:
    register_reply_handler("safety_check", handle_safety_reply, reanswerable=True,  # "1" now, "2" later
                           still_waiting=_safety_still_unanswered)
    register_reply_handler("mobilisation", handle_mobilisation_reply)
