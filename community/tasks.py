"""Background work of the community app: geocoding residents' addresses.

Tasks take IDs and are idempotent: a resident is geocoded only while PENDING and only if its
address is still the one that was looked up (a conditional UPDATE decides; a concurrent edit
wins). The periodic sweep (CELERY_BEAT_SCHEDULE "community-geocode-sweep") re-drives every
record that is due, so a lost broker message or a dead worker only delays the work.
"""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .geo import cell_of
from .geocoding import GeocoderDisabled, GeocoderUnavailable, geocode_address
from .grids import derive_grid
from .models import GeocodeStatus, LocationSource, Resident

logger = logging.getLogger(__name__)

MAX_BACKOFF = dt.timedelta(hours=6)
DISABLED_RETRY = dt.timedelta(hours=1)


def enqueue_geocoding(resident_id: int) -> None:
    """Hand the work to a worker; if the broker is down the sweep picks it up later."""
    try:
        geocode_resident.delay(resident_id)
    except Exception:  # noqa: BLE001 - never fail the request that saved the record
        logger.warning("geocode task for resident %s not enqueued; the sweep will retry", resident_id, exc_info=True)


def backoff(attempts: int) -> dt.timedelta:
    return min(MAX_BACKOFF, dt.timedelta(minutes=2 ** max(0, attempts - 1)))


def geocode_resident_now(resident_id: int) -> str:
    """Geocode one PENDING resident; returns what happened (for logs and tests)."""
    resident = Resident.objects.filter(pk=resident_id).first()
    now = timezone.now()
    if resident is None or resident.geocode_status != GeocodeStatus.PENDING:
        return "skipped"
    if resident.geocode_next_attempt_at and resident.geocode_next_attempt_at > now:
        return "not_due"
    pending = Resident.objects.filter(pk=resident.pk, geocode_status=GeocodeStatus.PENDING, address=resident.address)
    try:
        result = geocode_address(resident.address)
    except GeocoderDisabled as exc:
        pending.update(geocode_next_attempt_at=now + DISABLED_RETRY, geocode_error=str(exc)[:255])
        return "disabled"
    except GeocoderUnavailable as exc:
        attempts = resident.geocode_attempts + 1
        give_up = attempts >= settings.GEOCODER_MAX_ATTEMPTS
        pending.update(
            geocode_attempts=attempts,
            geocode_next_attempt_at=None if give_up else now + backoff(attempts),
            geocode_status=GeocodeStatus.FAILED if give_up else GeocodeStatus.PENDING,
            geocode_error=str(exc)[:255],
        )
        logger.info("geocoding resident %s failed (attempt %s): %s", resident.pk, attempts, exc)
        return "failed" if give_up else "retry"
    if not result.found:
        pending.update(geocode_status=GeocodeStatus.FAILED, geocode_error="address not found", geocode_next_attempt_at=None)
        return "not_found"
    values = dict(
        lat=result.lat,
        lng=result.lng,
        h3_cell=cell_of(result.lat, result.lng),
        location_source=LocationSource.GEOCODER,
        geocode_status=GeocodeStatus.DONE,
        geocode_error="",
        geocode_next_attempt_at=None,
        updated_at=now,
    )
    if not resident.grid_overridden:
        grid = derive_grid(result.lat, result.lng)
        if grid is not None:
            values["grid"] = grid
    return "done" if pending.update(**values) == 1 else "superseded"


@shared_task(acks_late=True, ignore_result=True)
def geocode_resident(resident_id: int) -> str:
    return geocode_resident_now(resident_id)


def due_for_geocoding(limit: int = 200) -> list[int]:
    now = timezone.now()
    rows = Resident.objects.filter(geocode_status=GeocodeStatus.PENDING, geocode_next_attempt_at__lte=now)
    return list(rows.order_by("geocode_next_attempt_at").values_list("pk", flat=True)[:limit])


@shared_task(ignore_result=True)
def sweep_geocoding(limit: int = 200) -> int:
    """Re-drive PENDING residents that are due. Geocoding is paced, so a batch is bounded."""
    ids = due_for_geocoding(limit)
    for resident_id in ids:
        enqueue_geocoding(resident_id)
    return len(ids)


# --- emergency: fan-outs, plan runs and the sweeps that re-drive them --------------------------
_EMERGENCY_TASKS: dict[str, object] = {}


def enqueue(task_name: str, *args) -> None:
    """Hand a job to a worker after commit; if the broker is down, the emergency sweep (every
    15 s) finds the job in the database and re-drives it."""
    try:
        _EMERGENCY_TASKS[task_name].delay(*args)
    except Exception:  # noqa: BLE001 - never fail the request that wrote the job
        logger.warning("%s%s not enqueued; the emergency sweep will re-drive it", task_name, args, exc_info=True)


def _drive_and_continue(task, model, pk: int, chunk) -> str:
    from .fanout import drive

    outcome = drive(model, pk, chunk)
    if outcome == "more":
        task.delay(pk)
    return outcome


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def fan_out_alert(alert_id: int) -> str:
    from .alerts import alert_chunk
    from .models import Alert

    return _drive_and_continue(fan_out_alert, Alert, alert_id, alert_chunk)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def fan_out_safety_check(check_id: int) -> str:
    from .models import SafetyCheck
    from .safety import safety_check_chunk

    return _drive_and_continue(fan_out_safety_check, SafetyCheck, check_id, safety_check_chunk)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def advance_plan_run(run_id: int) -> str:
    from .models import PlanRun
    from .plans import plan_run_chunk

    return _drive_and_continue(advance_plan_run, PlanRun, run_id, plan_run_chunk)


_EMERGENCY_TASKS.update({
    "community.tasks.fan_out_alert": fan_out_alert,
    "community.tasks.fan_out_safety_check": fan_out_safety_check,
    "community.tasks.advance_plan_run": advance_plan_run,
})


@shared_task(ignore_result=True)
def sweep_emergency() -> dict:
    """Periodic: re-drive plan runs, alert and safety-check fan-outs nobody is working on
    (their message was lost, or their worker died and its lease ran out)."""
    from .fanout import due
    from .models import Alert, PlanRun, SafetyCheck

    found = {}
    for name, model in (("community.tasks.advance_plan_run", PlanRun), ("community.tasks.fan_out_alert", Alert),
                        ("community.tasks.fan_out_safety_check", SafetyCheck)):
        ids = due(model)
        for pk in ids:
            enqueue(name, pk)
        found[model.__name__] = len(ids)
    return found


@shared_task(ignore_result=True)
def sweep_welfare_checks() -> int:
    """Periodic: vulnerable residents silent past their check's welfare time get a
    welfare-check task at their address (idempotent per resident and check)."""
    from .safety_answers import request_welfare_checks

    return request_welfare_checks()


def run_pending_emergency_jobs(max_rounds: int = 1000) -> int:
    """Run every unfinished plan run, alert and safety-check fan-out to the end, in this
    process (tests, benchmarks, the `make run` footing's catch-up). Returns chunks driven."""
    from .alerts import alert_chunk
    from .fanout import drive, due
    from .models import Alert, PlanRun, SafetyCheck
    from .plans import plan_run_chunk
    from .safety import safety_check_chunk

    jobs = ((PlanRun, plan_run_chunk), (Alert, alert_chunk), (SafetyCheck, safety_check_chunk))
    driven = 0
    for _ in range(max_rounds):
        pending = [(model, chunk, pk) for model, chunk in jobs for pk in due(model)]
        if not pending:
            break
        for model, chunk, pk in pending:
            drive(model, pk, chunk, budget=3600)
            driven += 1
    return driven
