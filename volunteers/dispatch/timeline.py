"""The task timeline (TaskEvent rows, written with the change) and the live pushes that
follow it after commit: task.created / task.updated to the task's group and every area
group from its grid up (taskUpdated, tasksInArea), offer.created / offer.updated to the
person's own group (myOffers). Pushes are hints; the rows are the truth."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.utils import timezone

from community.models import Area, User
from notifications import events
from notifications.realtime import publish_on_commit

from ..models import Offer, Task, TaskEvent


def record(task: Task, kind: str, *, actor: User | None = None, subject_id: int | None = None, offer: Offer | None = None,
           wave: int | None = None, at: dt.datetime | None = None, **data: object) -> TaskEvent:
    """Append one timeline event (in the caller's transaction)."""
    return TaskEvent.objects.create(
        task=task, kind=kind, actor=actor, subject_id=subject_id if subject_id is not None else getattr(offer, "user_id", None),
        offer=offer, wave=wave, at=at or timezone.now(), data=data,
    )


def record_offers(kind: str, offers: Iterable[Offer], *, at: dt.datetime, actor: User | None = None,
                  **data: object) -> int:
    """One event per offer, in one INSERT (a wave, a withdrawal, a batch of expiries)."""
    rows = [
        TaskEvent(task_id=o.task_id, kind=kind, actor=actor, subject_id=o.user_id, offer=o, wave=o.wave, at=at,
                  data={**data, "distanceM": None if o.distance_m is None else round(o.distance_m)})
        for o in offers
    ]
    TaskEvent.objects.bulk_create(rows, batch_size=500)
    return len(rows)


def area_groups(area: Area) -> list[str]:
    ids = Area.objects.filter(path__in=area.ancestor_paths()).values_list("pk", flat=True)
    return [events.area_group(pk) for pk in ids]


def publish_task(task: Task, change: str, *, created: bool = False) -> None:
    """After commit: one push per change to the task's watchers and its areas' boards."""
    event = events.make_event(
        events.TASK_CREATED if created else events.TASK_UPDATED,
        taskId=task.pk, areaId=task.area_id, status=str(task.status), change=str(change),
        version=task.version, isDrill=task.is_drill, at=timezone.now().isoformat(),
    )
    publish_on_commit([events.task_group(task.pk), *area_groups(task.area)], event)


def publish_offer(offer: Offer, *, created: bool = False) -> None:
    """After commit: tell the person's own group (myOffers) that their offer is new or moved."""
    event = events.make_event(
        events.OFFER_CREATED if created else events.OFFER_UPDATED,
        offerId=offer.pk, taskId=offer.task_id, status=str(offer.status), isDrill=offer.is_drill,
        at=timezone.now().isoformat(),
    )
    publish_on_commit(events.user_group(offer.user_id), event)
