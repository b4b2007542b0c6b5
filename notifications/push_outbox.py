"""The push outbox: waking the phone (APNs, FCM, JPush) with the SMS outbox's guarantees.

    queue_device_pushes(notifications, lane=Lane.LIFE_SAFETY, vulnerable_users={...},
                        collapse_key="alert-7", related_for={user_id: status_row})
    drain(provider, max_lane=None)     # a Celery drainer (notifications/tasks.py)
    acknowledge(user, notification)    # the app opened it: what counts as reached

notifications.services.notify/notify_many call queue_device_pushes for the Notification rows
they write: one DevicePush row per live device of each user, in the caller's transaction
(idempotency key "n<notification>:d<device>"), sent after commit by a drainer per provider in
claim order (lane, vulnerable first, oldest) — life-safety ones by drainers on the life-safety
queue. A row is claimed once (queued -> sending with a claim token, one conditional UPDATE);
handed to the transport in batches; sent, or back to queued with backoff on a transient error
(up to PUSH_MAX_ATTEMPTS), or failed for good. A token the provider calls invalid deletes the
device (notifications/devices.py). A device that went away, or moved to another owner, after
the row was written makes the row REFUSED ("device_gone"): a push is never shown to someone
it was not meant for. Rows a dead worker left in "sending" go back to the queue (sweep).
Superseding: supersede_messages (notifications/outbox.py) drops queued pushes about the same
objects as SMS.

Payloads carry the API's global IDs (the notification's data, plus notificationId) and the
API's enum spellings; the collapse key makes an updated or cancelled alert replace the
notification on the phone.

The app that wrote a notification hears what became of its pushes through handlers per kind
(register_push_handler): handed_over (a provider has it), failed (none of a person's devices
can have it), acknowledged (opened).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import transaction
from django.db.models import CharField, F, Model, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from graphql_relay import to_global_id

from core.bulk import insert_select, update_column
from core.enqueue import enqueue_on_commit
from core.errors import field_error

from .devices import live_devices, prune_device, touch_devices, ttl
from .error_codes import NotificationsErrorCode
from .lanes import Lane, is_life_safety
from .models import Device, DevicePush, Notification, PushProvider, PushStatus
from .push import PushError, PushMessage, PushResult, get_push_transport

if TYPE_CHECKING:
    from django.contrib.auth.models import _User as User

logger = logging.getLogger(__name__)

DRAIN_PUSHES = "notifications.tasks.drain_pushes"
DRAIN_LIFE_SAFETY_PUSHES = "notifications.tasks.drain_life_safety_pushes"
CLAIM_ORDER = ("lane", "-is_vulnerable", "id")
DEVICE_GONE = "device_gone"
RETRIES_EXHAUSTED = "retries_exhausted"
DRAIN_SLOT_TTL_SECONDS = 60

Handler = Callable[[list[DevicePush]], None]
AckHandler = Callable[[list[Notification]], None]


@dataclass(frozen=True)
class PushHandlers:
    handed_over: Handler | None = None
    failed: Handler | None = None
    acknowledged: AckHandler | None = None


_handlers: dict[str, PushHandlers] = {}


def register_push_handler(kind: str, *, handed_over: Handler | None = None, failed: Handler | None = None,
                          acknowledged: AckHandler | None = None) -> None:
    """Handlers for pushes of notifications of `kind` (replacing any registered before)."""
    _handlers[kind] = PushHandlers(handed_over, failed, acknowledged)


def _dispatch(name: str, rows: Iterable[Any], kind_of: Callable[[Any], str]) -> None:
    by_kind: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        by_kind[kind_of(row)].append(row)
    for kind, batch in by_kind.items():
        handler = getattr(_handlers.get(kind), name, None)
        if handler is None:
            continue
        try:
            with transaction.atomic():
                handler(batch)
        except Exception:
            logger.exception("push %s handler for %r failed on %d row(s)", name, kind, len(batch))


# --- writing ----------------------------------------------------------------------------------
def queue_device_pushes(notifications: list[Notification], *, lane: Lane | int | None = None,
                        vulnerable_users: set[int] | None = None, collapse_key: str = "",
                        related_for: Mapping[int, Model] | None = None) -> int:
    """One DevicePush per live device of each notification's user, written now, sent after
    commit. `related_for` (user id -> object) says what a person's pushes are about when it is
    not the notification's own related object (a safety check's status row: answering it
    supersedes the push). Returns how many rows were written."""
    if not notifications:
        return 0
    by_user: dict[int, list[tuple[int, str]]] = defaultdict(list)  # user -> [(device id, provider)]
    user_ids = sorted({n.user_id for n in notifications})
    for start in range(0, len(user_ids), 900):
        for device_id, user_id, provider in (live_devices(user_ids[start:start + 900]).order_by("pk")
                                             .values_list("pk", "user_id", "provider")):
            by_user[user_id].append((device_id, provider))
    if not by_user:
        return 0
    types: dict[type[Model], ContentType] = {}
    rows: list[DevicePush] = []
    now = timezone.now()
    for notification in notifications:
        devices = by_user.get(notification.user_id)
        if not devices:
            continue
        related = (related_for or {}).get(notification.user_id)
        related_type_id: int | None
        if related is not None:
            model = type(related)
            related_type_id = (types.get(model) or types.setdefault(model, ContentType.objects.get_for_model(related))).pk
            related_id = str(related.pk)
        else:
            related_type_id, related_id = notification.related_type_id, notification.related_id
        row_lane = int(lane) if lane is not None else int(Lane.STANDARD)
        for device_id, provider in devices:
            rows.append(DevicePush(
                idempotency_key=f"n{notification.pk}:d{device_id}", notification_id=notification.pk,
                user_id=notification.user_id, device_id=device_id, provider=provider, purpose=notification.kind,
                collapse_key=collapse_key[:128], lane=row_lane,
                is_vulnerable=notification.user_id in (vulnerable_users or ()), is_drill=notification.is_drill,
                related_type_id=related_type_id, related_id=related_id, created_at=now, next_attempt_at=now,
                status_changed_at=now,
            ))
    DevicePush.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
    start_draining(rows)
    return len(rows)


def queue_selected_pushes(source: QuerySet[Any], *, user: str, notifications: Mapping[str, Any], kind: str,
                          lane: Lane | int, collapse_key: str, is_drill: bool, vulnerable: str | None = None,
                          now: dt.datetime | None = None) -> int:
    """queue_device_pushes written by the database (INSERT … SELECT): one DevicePush per live
    device of the person of each row of `source` (`user`: the lookup of the row's user), for
    their notification among those `notifications` selects (lookups on Notification, e.g. the
    kind, related object and created_at notify_selected wrote). Each push is about its source
    row (related_*: answering that row supersedes it); `vulnerable`, a boolean lookup on the
    row, puts it first in the lane. One statement, joins only; idempotent (the same keys as
    queue_device_pushes). Returns how many rows were written."""
    now = now or timezone.now()
    n, d = f"{user}__notifications__", f"{user}__devices__"
    # One filter() call: each multi-valued relation is joined once, and the F()s below reuse
    # those joins (a row per notification and live device of the row's person).
    rows = source.filter(**{f"{n}{key}": value for key, value in notifications.items()},
                         **{f"{d}last_seen_at__gte": now - ttl()})
    values: dict[str, Any] = {
        "idempotency_key": Concat(Value("n"), Cast(F(f"{n}pk"), CharField()), Value(":d"), Cast(F(f"{d}pk"), CharField()),
                                  output_field=CharField()),
        "notification_id": F(f"{n}pk"), "user_id": F(user), "device_id": F(f"{d}pk"), "provider": F(f"{d}provider"),
        "purpose": Value(kind[:64]), "collapse_key": Value(collapse_key[:128]), "lane": Value(int(lane)),
        "is_vulnerable": F(vulnerable) if vulnerable else Value(False), "is_drill": Value(is_drill),
        "related_type_id": Value(ContentType.objects.get_for_model(source.model).pk),
        "related_id": Cast("pk", CharField()), "created_at": Value(now), "next_attempt_at": Value(now),
        "status_changed_at": Value(now),
    }
    written = insert_select(DevicePush, rows, values, ignore_conflicts=True)
    if written:
        # A drainer per provider (one with nothing to send returns at once): cheaper than
        # asking which providers the rows went to.
        life_safety = is_life_safety(int(lane))
        for provider in PushProvider.values:
            if life_safety:
                enqueue_on_commit(DRAIN_LIFE_SAFETY_PUSHES, provider)
            enqueue_on_commit(DRAIN_PUSHES, provider)
    return written


def start_draining(rows: Iterable[DevicePush]) -> None:
    """After commit, a drainer per provider the rows go to (and a life-safety one too when
    any of them is life-safety)."""
    providers: dict[str, bool] = {}
    for row in rows:
        providers[row.provider] = providers.get(row.provider, False) or is_life_safety(row.lane)
    for provider, life_safety in sorted(providers.items()):
        if life_safety:
            enqueue_on_commit(DRAIN_LIFE_SAFETY_PUSHES, provider)
        enqueue_on_commit(DRAIN_PUSHES, provider)


def supersede_pushes(filter_q: Q, *, reason: str, now: dt.datetime) -> int:
    """Queued pushes matching `filter_q` (over related_*) are dropped: never sent."""
    return DevicePush.objects.filter(filter_q, status=PushStatus.QUEUED).update(
        status=PushStatus.SUPERSEDED, error_code="superseded", error_message=reason[:500], status_changed_at=now)


# --- sending ----------------------------------------------------------------------------------
@dataclass
class PushDrainReport:
    attempted: int = 0
    sent: int = 0
    failed: int = 0
    retry_in: float | None = None  # queued rows are due later: come back then
    exhausted_time: bool = False
    outcomes: dict[str, int] = field(default_factory=dict)


def take_drain_slot(provider: str, *, life_safety: bool) -> tuple[str, str] | None:
    """One drainer per provider (and one life-safety drainer per provider) at a time, so the
    provider's pace is kept by one clock."""
    key = f"linli:push:drainer:{'life-safety' if life_safety else 'all'}:{provider}"
    token = uuid.uuid4().hex
    return (key, token) if cache.add(key, token, timeout=DRAIN_SLOT_TTL_SECONDS) else None


def keep_drain_slot(slot: tuple[str, str]) -> None:
    if cache.get(slot[0]) == slot[1]:
        cache.touch(slot[0], DRAIN_SLOT_TTL_SECONDS)


def release_drain_slot(slot: tuple[str, str]) -> None:
    if cache.get(slot[0]) == slot[1]:
        cache.delete(slot[0])


def _paused_until(provider: str) -> float:
    value = cache.get(f"linli:push:paused:{provider}")
    return float(value) if value else 0.0


def claim_batch(provider: str, *, max_lane: int | None, size: int, now: dt.datetime | None = None) -> list[DevicePush]:
    """Claim up to `size` due rows of `provider` in claim order (queued -> sending)."""
    now = now or timezone.now()
    due = DevicePush.objects.filter(provider=provider, status=PushStatus.QUEUED,
                                    next_attempt_at__lte=now + dt.timedelta(seconds=1))
    if max_lane is not None:
        due = due.filter(lane__lte=max_lane)
    ids = list(due.order_by(*CLAIM_ORDER).values_list("pk", flat=True)[:size])
    if not ids:
        return []
    token = uuid.uuid4().hex
    DevicePush.objects.filter(pk__in=ids, status=PushStatus.QUEUED).update(
        status=PushStatus.SENDING, claim_token=token, claimed_at=now, status_changed_at=now, attempts=F("attempts") + 1)
    return list(DevicePush.objects.filter(claim_token=token, status=PushStatus.SENDING)
                .select_related("device", "notification").order_by(*CLAIM_ORDER))


def drain(provider: str, *, max_lane: int | None = None, max_seconds: float | None = None,
          heartbeat: Callable[[], None] | None = None) -> PushDrainReport:
    """Send `provider`'s due pushes, most urgent first, at PUSH_RATES[provider] per second,
    for up to `max_seconds` (PUSH_DRAIN_SECONDS)."""
    report = PushDrainReport()
    budget = settings.PUSH_DRAIN_SECONDS if max_seconds is None else max_seconds
    deadline = time.monotonic() + budget
    rate = float((settings.PUSH_RATES or {}).get(provider) or 0)
    transport = get_push_transport(provider)
    size = max(1, min(settings.PUSH_BATCH_SIZE, transport.max_batch or settings.PUSH_BATCH_SIZE))
    if rate:
        size = max(1, min(size, int(rate)))
    started = time.monotonic()
    while True:
        paused = _paused_until(provider) - time.time()
        if paused > 0:
            report.retry_in = paused
            break
        batch = claim_batch(provider, max_lane=max_lane, size=size)
        if not batch:
            report.retry_in = _next_due_in(provider, max_lane)
            break
        send_claimed(batch, report)
        if heartbeat is not None:
            heartbeat()
        if rate:
            wait = report.attempted / rate - (time.monotonic() - started)
            if wait > 0:
                time.sleep(min(wait, max(0.0, deadline - time.monotonic())))
        if time.monotonic() >= deadline:
            report.exhausted_time = True
            break
    return report


def _next_due_in(provider: str, max_lane: int | None) -> float | None:
    qs = DevicePush.objects.filter(provider=provider, status=PushStatus.QUEUED)
    if max_lane is not None:
        qs = qs.filter(lane__lte=max_lane)
    first = qs.order_by("next_attempt_at").values_list("next_attempt_at", flat=True).first()
    if first is None:
        return None
    return max(0.0, (first - timezone.now()).total_seconds())


def push_message(row: DevicePush, device: Device) -> PushMessage:
    notification = row.notification
    data = {str(k): (v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)) for k, v in (notification.data or {}).items()}
    data.update({"kind": notification.kind, "isDrill": "true" if notification.is_drill else "false"})
    if row.collapse_key:
        # The same payload for everyone (JPush sends one payload to 1,000 ids per call): the
        # app acknowledges with this ref, the server finds the person's notification.
        data["ref"] = row.collapse_key
    else:
        data["notificationId"] = to_global_id("Notification", notification.pk)
    life_safety = is_life_safety(row.lane)
    return PushMessage(
        push_id=row.pk, token=device.token, platform=device.platform, title=notification.title,
        body=notification.body, data=data, collapse_key=row.collapse_key,
        priority="normal" if row.lane >= Lane.COURTESY else "high", ttl_seconds=settings.PUSH_TTL_SECONDS,
        critical=life_safety and row.lane == Lane.LIFE_SAFETY,
    )


def send_claimed(rows: list[DevicePush], report: PushDrainReport | None = None) -> PushDrainReport:
    """Hand claimed rows to their provider (all of one provider) and record each outcome."""
    report = report or PushDrainReport()
    now = timezone.now()
    live_after = now - ttl()
    gone = [r for r in rows if r.device is None or r.device.user_id != r.user_id or r.device.last_seen_at < live_after]
    gone_ids = {r.pk for r in gone}
    sendable = [r for r in rows if r.pk not in gone_ids]
    failed: list[DevicePush] = []
    for row in gone:
        if _finish(row, PushStatus.REFUSED, code=DEVICE_GONE, message="The device went away or changed hands.", now=now):
            failed.append(row)
    sent: list[DevicePush] = []
    for row, outcome in zip(sendable, _hand_over(sendable), strict=True):
        report.attempted += 1
        key = "sent" if isinstance(outcome, PushResult) else (outcome.code or "error")
        report.outcomes[key] = report.outcomes.get(key, 0) + 1
        if isinstance(outcome, PushResult):
            row.status, row.provider_id, row.sent_at, row.status_changed_at = (
                PushStatus.SENT, outcome.provider_id[:128], now, now)
            row.error_code = row.error_message = ""
            sent.append(row)
            continue
        if _settle(row, outcome, now, report) == PushStatus.FAILED:
            failed.append(row)
    # The rows are ours (claimed with our token, and only queued rows are ever superseded):
    # the successes are recorded in a few UPDATEs, not one per push.
    update_column(DevicePush, "provider_id", {r.pk: r.provider_id for r in sent}, status=PushStatus.SENT, sent_at=now,
                  status_changed_at=now, error_code="", error_message="")
    report.sent += len(sent)
    report.failed += len(failed)
    if sent:
        _dispatch("handed_over", sent, lambda r: r.purpose)
    if failed:
        _dispatch("failed", _all_devices_failed(failed), lambda r: r.purpose)
    return report


def _hand_over(rows: list[DevicePush]) -> list[PushResult | PushError]:
    if not rows:
        return []
    provider = rows[0].provider
    messages = [push_message(r, r.device) for r in rows if r.device is not None]
    try:
        return list(get_push_transport(provider).send_batch(messages))
    except Exception as exc:
        # A transport bug or a dropped connection: every row of the batch is tried again.
        logger.exception("push transport %s failed on a batch of %d", provider, len(messages))
        return [PushError(f"{type(exc).__name__}: {exc}", "transport_error")] * len(messages)


def _settle(row: DevicePush, outcome: PushError, now: dt.datetime, report: PushDrainReport) -> str | None:
    """Record one failure; returns the final status it reached (None: queued again, or
    someone else had already settled the row)."""
    if outcome.invalid_token and row.device_id is not None:
        prune_device(row.device_id)
        logger.info("push %s: device %s pruned (%s)", row.pk, row.device_id, outcome.code)
    if outcome.operator:
        cache.set(f"linli:push:paused:{row.provider}", time.time() + settings.PUSH_OPERATOR_PAUSE_SECONDS,
                  timeout=settings.PUSH_OPERATOR_PAUSE_SECONDS)
        logger.error("push provider %s refused our credentials or configuration (%s): paused", row.provider, outcome.code)
    retriable = outcome.transient or outcome.operator
    if retriable and row.attempts < settings.PUSH_MAX_ATTEMPTS:
        delay = outcome.retry_after if outcome.retry_after is not None else _backoff(row.attempts)
        if outcome.operator:
            delay = max(delay, settings.PUSH_OPERATOR_PAUSE_SECONDS)
        _requeue(row, outcome, now + dt.timedelta(seconds=delay))
        report.retry_in = delay if report.retry_in is None else min(report.retry_in, delay)
        return None
    code = RETRIES_EXHAUSTED if retriable else (outcome.code or "permanent")
    return PushStatus.FAILED if _finish(row, PushStatus.FAILED, code=code, message=outcome.message, now=now) else None


def _backoff(attempts: int) -> float:
    return float(min(300, 2 ** max(0, attempts)))


def _requeue(row: DevicePush, error: PushError, due: dt.datetime) -> None:
    DevicePush.objects.filter(pk=row.pk, claim_token=row.claim_token, status=PushStatus.SENDING).update(
        status=PushStatus.QUEUED, next_attempt_at=due, error_code=error.code[:64], error_message=error.message[:500],
        status_changed_at=timezone.now())


def _finish(row: DevicePush, status: str, *, now: dt.datetime, code: str = "", message: str = "",
            provider_id: str = "") -> bool:
    values: dict[str, Any] = {"status": status, "status_changed_at": now, "error_code": code[:64],
                              "error_message": message[:500]}
    if provider_id:
        values.update(provider_id=provider_id[:128], sent_at=now)
    return bool(DevicePush.objects.filter(pk=row.pk, claim_token=row.claim_token, status=PushStatus.SENDING)
                .update(**values))


def _all_devices_failed(rows: list[DevicePush]) -> list[DevicePush]:
    """Of failed rows, those whose notification has no other push still able to reach the
    person (queued, sending or sent): the person cannot be woken by push."""
    notification_ids = {r.notification_id for r in rows}
    alive = set(DevicePush.objects.filter(notification_id__in=notification_ids, status__in=[
        PushStatus.QUEUED, PushStatus.SENDING, PushStatus.SENT]).values_list("notification_id", flat=True))
    seen: set[int] = set()
    out = []
    for row in rows:
        if row.notification_id not in alive and row.notification_id not in seen:
            seen.add(row.notification_id)
            out.append(row)
    return out


def recover_stuck(now: dt.datetime | None = None) -> int:
    """Rows left in "sending" past PUSH_CLAIM_TIMEOUT_SECONDS (a dead worker) go back to the
    queue. A push the provider may already have is at worst shown twice — the collapse key
    and the notification id let the app show it once."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.PUSH_CLAIM_TIMEOUT_SECONDS)
    return DevicePush.objects.filter(status=PushStatus.SENDING, claimed_at__lt=cutoff).update(
        status=PushStatus.QUEUED, claim_token="", next_attempt_at=now, status_changed_at=now)


def overdue_providers(now: dt.datetime | None = None, older_than_seconds: int = 30) -> dict[str, bool]:
    """Providers with due rows nobody has sent for a while -> whether any is life-safety."""
    now = now or timezone.now()
    qs = (DevicePush.objects.filter(status=PushStatus.QUEUED, next_attempt_at__lt=now - dt.timedelta(seconds=older_than_seconds))
          .values_list("provider", "lane").distinct())
    out: dict[str, bool] = {}
    for provider, lane in qs:
        out[provider] = out.get(provider, False) or is_life_safety(lane)
    return out


# --- acknowledgement --------------------------------------------------------------------------
def notification_for_ref(user: User, ref: object) -> int:
    """The user's newest notification pushed with collapse key `ref` (a push's data.ref)."""
    if not isinstance(ref, str) or not ref or len(ref) > 128:
        raise field_error("ref", "Not a push reference.", NotificationsErrorCode.INVALID)
    found = (DevicePush.objects.filter(user=user, collapse_key=ref).order_by("-notification_id")
             .values_list("notification_id", flat=True).first())
    if found is None:
        raise field_error("ref", "No such notification.", NotificationsErrorCode.NOT_FOUND)
    return found


def acknowledge(user: User, notification_id: int, *, opened: bool = True) -> Notification:
    """The app reports a notification shown (opened=False) or opened by the person (True).
    Idempotent: the first time is kept. Someone else's notification is not found."""
    now = timezone.now()
    with transaction.atomic():
        notification = Notification.objects.select_for_update().filter(pk=notification_id, user=user).first()
        if notification is None:
            raise field_error("notification_id", "No such notification.", NotificationsErrorCode.NOT_FOUND)
        changed: list[str] = []
        if notification.received_at is None:
            notification.received_at = now
            changed.append("received_at")
        newly_acknowledged = opened and notification.acknowledged_at is None
        if newly_acknowledged:
            notification.acknowledged_at = now
            changed.append("acknowledged_at")
            if notification.read_at is None:
                notification.read_at = now
                changed.append("read_at")
        if changed:
            notification.save(update_fields=changed)
        touch_devices(user.pk, now)
    if newly_acknowledged:
        _dispatch("acknowledged", [notification], lambda n: n.kind)
    return notification
