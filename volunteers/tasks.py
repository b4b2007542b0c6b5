"""Periodic sweeps (listed in settings.CELERY_BEAT_SCHEDULE). They take no state but the
database and are safe to run twice or concurrently."""

from __future__ import annotations

import datetime as dt
import logging

from celery import Task as CeleryTask
from celery import shared_task
from celery.signals import worker_ready
from django.db.models import Q
from django.utils import timezone

from core.enqueue import enqueue_now

from .dispatch import offer_next_wave
from .dispatch.sweep import EXPIRE_OFFERS
from .dispatch.sweep import expire_task_offers as expire_offers_of
from .dispatch.sweep import sweep_dispatch as sweep
from .models import Volunteer
from .services.activities import close_forgotten_checkouts

logger = logging.getLogger(__name__)


@shared_task(name="volunteers.tasks.sweep_expired_availability", ignore_result=True)  # type: ignore[untyped-decorator]  # celery ships no type information
def sweep_expired_availability() -> int:
    """Tidy on-duty switches and temporary locations whose time has passed.

    Availability never depends on this sweep (queries compare with now), so a late sweep
    changes nothing a dispatcher sees; it only keeps profiles from showing stale values."""
    now = timezone.now()
    off = Volunteer.objects.filter(on_duty_until__lte=now).update(on_duty_until=None)
    moved = Volunteer.objects.filter(Q(temp_location_until__lte=now)).update(
        temp_lat=None, temp_lng=None, temp_h3_cell="", temp_location_until=None
    )
    return off + moved


@shared_task(name="volunteers.tasks.sweep_forgotten_checkouts", ignore_result=True)  # type: ignore[untyped-decorator]  # celery ships no type information
def sweep_forgotten_checkouts() -> int:
    """Check out, at the activity's end, everyone who forgot to (and credit their hours)."""
    closed = close_forgotten_checkouts()
    if closed:
        logger.info("auto check-out: %d attendances closed", closed)
    return closed


# --- dispatch -----------------------------------------------------------------------------
@shared_task(name="volunteers.tasks.run_dispatch", acks_late=True, reject_on_worker_lost=True, ignore_result=True)  # type: ignore[untyped-decorator]  # celery ships no type information
def run_dispatch(task_id: int) -> str:
    """Send the task's next wave if one is due. Takes an id, re-reads everything, and is safe
    to run twice or concurrently (the task row is locked, offers are unique per person)."""

    return offer_next_wave(task_id).outcome


@shared_task(name=EXPIRE_OFFERS, bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)  # type: ignore[untyped-decorator]  # celery ships no type information
def expire_task_offers(self: CeleryTask, task_id: int, deadline: str) -> int:
    """At an offer wave's deadline: expire the task's offers still pending past it (see
    volunteers/dispatch/sweep.py: idempotent, the sweep is the backstop). A message that
    arrives early (a timer a few milliseconds ahead) waits out the rest."""
    due = dt.datetime.fromisoformat(deadline)
    early = (due - timezone.now()).total_seconds()
    if early > 0 and not self.request.is_eager:
        raise self.retry(countdown=early, max_retries=3)
    return expire_offers_of(task_id)


@shared_task(name="volunteers.tasks.sweep_dispatch", ignore_result=True)  # type: ignore[untyped-decorator]  # celery ships no type information
def sweep_dispatch() -> dict[str, int]:
    """Every 15 s: expire unanswered offers, send the waves that are due, recover tasks whose
    worker or message was lost (see volunteers/dispatch/sweep.py)."""

    report = sweep()
    return {"expired": report.expired, "dispatched": len(report.dispatched), "tidied": report.tidied}


@worker_ready.connect  # type: ignore[untyped-decorator]  # celery ships no type information
def _sweep_when_a_worker_starts(**_: object) -> None:
    """A worker (re)started — perhaps replacing one that was killed holding countdown
    messages: sweep now (expire what is overdue, re-send the near deadlines) rather than at
    the next beat."""
    enqueue_now(sweep_dispatch)
