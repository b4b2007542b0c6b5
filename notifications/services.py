"""Push notifications and their history.

    notify(user, kind="offer", title="新任务", body="...", data={"offerId": ...}, related=offer)
    notify_template(user, "offer.push", {"task": ...}, kind="offer", related=offer)
    notify_many(users, kind="safety_check", template="safety.push", context={...})

Each call writes Notification rows (the history the app reads, with read/unread) in the
caller's transaction and publishes NOTIFICATION_CREATED to each user's group after commit;
the myNotifications subscription turns that into the stored notification. A push that is
lost (the channel layer is at-most-once) is still in the history.

Templates for push: `<name>` is the body and `<name>.title` the title (falling back to
"邻里通知"/"Linli"); both rendered in the user's language without SMS length limits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import F, JSONField, Model, QuerySet, Value
from django.utils import timezone

from core.bulk import insert_select

from . import events
from .lanes import Lane, lane_for
from .models import Notification
from .push_outbox import queue_device_pushes, queue_selected_pushes
from .realtime import publish, publish_many
from .templates import has_template, normalize_language, render

if TYPE_CHECKING:
    # django-stubs reads this alias as settings.AUTH_USER_MODEL (community.User), which
    # notifications may not import: community sits above it.
    from django.contrib.auth.models import _User as User


def _related_fields(related: Model | None) -> dict[str, Any]:
    if related is None:
        return {}
    return {"related_type": ContentType.objects.get_for_model(related), "related_id": str(related.pk)}


def _event(notification: Notification) -> dict[str, Any]:
    return events.make_event(
        events.NOTIFICATION_CREATED,
        notificationId=notification.pk,
        kind=notification.kind,
        isDrill=notification.is_drill,
        createdAt=notification.created_at.isoformat(),
    )


def _publish_after_commit(notifications: list[Notification]) -> None:
    payloads = [(events.user_group(n.user_id), _event(n)) for n in notifications]
    if len(payloads) == 1:
        transaction.on_commit(lambda: publish(*payloads[0]))
    elif payloads:  # a fan-out: every user's push in one trip into the event loop
        transaction.on_commit(lambda: publish_many(payloads))


def notify(user: User, *, kind: str, title: str, body: str, data: dict[str, Any] | None = None,
           related: Model | None = None, is_drill: bool = False, lane: Lane | int | None = None,
           collapse_key: str = "") -> Notification:
    """Record a notification for `user` and push it after commit: on the WebSocket, and to
    each of the user's live devices (the push outbox, in `lane`: lane_for(kind) by default)."""
    notification = Notification.objects.create(
        user=user, kind=kind[:64], title=title[:200], body=body, data=data or {}, is_drill=is_drill,
        **_related_fields(related),
    )
    _publish_after_commit([notification])
    queue_device_pushes([notification], lane=lane_for(kind) if lane is None else lane, collapse_key=collapse_key)
    return notification


def render_push(template: str, context: Mapping[str, object], *, language: str | None, is_drill: bool) -> tuple[str, str]:
    language = normalize_language(language)
    title_name = f"{template}.title" if has_template(f"{template}.title") else "notification.default.title"
    title = render(title_name, context, language=language, is_drill=is_drill, sms=False)
    body = render(template, context, language=language, is_drill=False, sms=False)
    return title, body


def notify_template(user: User, template: str, context: Mapping[str, object], *, kind: str,
                    data: dict[str, Any] | None = None, related: Model | None = None,
                    is_drill: bool = False, lane: Lane | int | None = None, collapse_key: str = "") -> Notification:
    """notify() with title and body rendered from templates in the user's language."""
    title, body = render_push(template, context, language=user.preferred_language, is_drill=is_drill)
    return notify(user, kind=kind, title=title, body=body, data=data, related=related, is_drill=is_drill,
                  lane=lane, collapse_key=collapse_key)


def notify_many(users: Iterable[User], *, kind: str, title: str | None = None, body: str | None = None,
                template: str | None = None, context: Mapping[str, object] | None = None,
                data: dict[str, Any] | None = None, related: Model | None = None, is_drill: bool = False,
                lane: Lane | int | None = None, vulnerable_users: set[int] | None = None, collapse_key: str = "",
                related_for: Mapping[int, Model] | None = None) -> int:
    """Fan out one notification to many users: one bulk INSERT, one WebSocket event per user
    after commit, and the push outbox rows for their live devices (see queue_device_pushes:
    `lane` defaults to lane_for(kind); `vulnerable_users` go first in it; `related_for` says
    what each user's pushes are about when it is not `related`). Give title and body, or a
    template (rendered once per language)."""
    fixed: tuple[str, str] | None = None
    if template is None:
        if title is None or body is None:
            raise ValueError("notify_many needs title and body, or a template")
        fixed = (title, body)
    rendered: dict[str, tuple[str, str]] = {}
    rows = []
    now = timezone.now()
    for user in users:
        if template is not None:
            language = normalize_language(user.preferred_language)
            if language not in rendered:
                rendered[language] = render_push(template, context or {}, language=language, is_drill=is_drill)
            user_title, user_body = rendered[language]
        else:
            assert fixed is not None  # set above whenever there is no template
            user_title, user_body = fixed
        rows.append(Notification(user=user, kind=kind[:64], title=user_title[:200], body=user_body, data=data or {},
                                 is_drill=is_drill, created_at=now, **_related_fields(related)))
    created = Notification.objects.bulk_create(rows, batch_size=1000)
    if created and created[0].pk is None:  # backends without RETURNING: read the ids back
        created = list(Notification.objects.filter(created_at=now, kind=kind[:64], user__in=[r.user_id for r in rows]))
    _publish_after_commit(created)
    queue_device_pushes(created, lane=lane_for(kind) if lane is None else lane, vulnerable_users=vulnerable_users,
                        collapse_key=collapse_key, related_for=related_for)
    return len(rows)


def notify_selected(source: QuerySet[Any], *, user: str, kind: str, template: str, context: Mapping[str, object],
                    related: Model, data: dict[str, Any] | None = None, is_drill: bool = False,
                    lane: Lane | int | None = None, collapse_key: str = "", vulnerable: str | None = None,
                    now: dt.datetime | None = None) -> int:
    """notify_many for the people a query selects, written by the database: one Notification
    per row of `source` (`user`: the lookup of the row's user, e.g. "resident__user"; rows
    without one are skipped), rendered once per language, and the push outbox rows for their
    live devices, each push about its source row (answering that row supersedes it;
    `vulnerable`, a boolean lookup on the row, puts it first in the lane). A few statements
    whatever the number of people (INSERT … SELECT), then one WebSocket event per person after
    commit, as notify_many. Returns how many notifications were written."""
    now = now or timezone.now()
    language_path = f"{user}__preferred_language"
    source = source.filter(**{f"{user}__isnull": False})
    related_type = ContentType.objects.get_for_model(related)
    fixed = {"kind": Value(kind[:64]), "data": Value(data or {}, output_field=JSONField()), "is_drill": Value(is_drill),
             "related_type_id": Value(related_type.pk), "related_id": Value(str(related.pk)), "created_at": Value(now)}
    written = 0
    rendered: dict[str, tuple[str, str]] = {}
    for raw in sorted(set(source.order_by().values_list(language_path, flat=True).distinct()), key=str):
        language = normalize_language(raw)
        if language not in rendered:
            rendered[language] = render_push(template, context, language=language, is_drill=is_drill)
        title, body = rendered[language]
        written += insert_select(Notification, source.filter(**{language_path: raw}), {
            **fixed, "user_id": F(user), "title": Value(title[:200]), "body": Value(body)})
    if not written:
        return 0
    marker = {"kind": kind[:64], "related_type": related_type, "related_id": str(related.pk), "created_at": now}
    mine = Notification.objects.filter(**marker, user_id__in=source.values(user))
    events_ = [(events.user_group(user_id), events.make_event(
        events.NOTIFICATION_CREATED, notificationId=pk, kind=kind[:64], isDrill=is_drill, createdAt=now.isoformat()))
        for pk, user_id in mine.values_list("pk", "user_id")]
    transaction.on_commit(lambda: publish_many(events_))
    queue_selected_pushes(source, user=user, notifications=marker, kind=kind, lane=lane_for(kind) if lane is None else lane,
                          collapse_key=collapse_key, is_drill=is_drill, vulnerable=vulnerable, now=now)
    return written


def mark_read(user: User, notification_ids: list[int] | None = None) -> int:
    """Mark the user's notifications read (all of them when ids is None); returns how many
    changed. Other users' ids are silently not theirs to mark."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_ids is not None:
        qs = qs.filter(pk__in=notification_ids)
    return qs.update(read_at=timezone.now())


def unread_count(user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
