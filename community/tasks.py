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

from core.enqueue import enqueue_now

from .geo import cell_of
from .geocoding import GeocoderDisabled, GeocoderUnavailable, geocode_address
from .grids import derive_grid, outside_shape
from .models import GeocodeStatus, LocationSource, Resident

logger = logging.getLogger(__name__)

MAX_BACKOFF = dt.timedelta(hours=6)
DISABLED_RETRY = dt.timedelta(hours=1)


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
    lat, lng = result.lat, result.lng
    if not result.found or lat is None or lng is None:
        pending.update(geocode_status=GeocodeStatus.FAILED, geocode_error="address not found", geocode_next_attempt_at=None)
        return "not_found"
    if resident.grid_overridden and outside_shape(resident.grid, lat, lng):
        # Staff put the resident in this grid; a geocoder's guess elsewhere is not a home.
        pending.update(geocode_status=GeocodeStatus.FAILED, geocode_error="geocoded outside the resident's grid",
                       geocode_next_attempt_at=None)
        return "outside_grid"
    values: dict[str, object] = dict(
        lat=lat,
        lng=lng,
        h3_cell=cell_of(lat, lng),
        location_source=LocationSource.GEOCODER,
        geocode_status=GeocodeStatus.DONE,
        geocode_error="",
        geocode_next_attempt_at=None,
        updated_at=now,
    )
    if not resident.grid_overridden:
        grid = derive_grid(lat, lng)
        if grid is not None:
            values["grid"] = grid
    return "done" if pending.update(**values) == 1 else "superseded"


@shared_task(name="community.tasks.geocode_resident", acks_late=True, ignore_result=True)  # type: ignore[untyped-decorator]  # celery ships no type information
def geocode_resident(resident_id: int) -> str:
    return geocode_resident_now(resident_id)


def due_for_geocoding(limit: int = 200) -> list[int]:
    now = timezone.now()
    rows = Resident.objects.filter(geocode_status=GeocodeStatus.PENDING, geocode_next_attempt_at__lte=now)
    return list(rows.order_by("geocode_next_attempt_at").values_list("pk", flat=True)[:limit])


@shared_task(name="community.tasks.sweep_geocoding", ignore_result=True)  # type: ignore[untyped-decorator]  # celery ships no type information
def sweep_geocoding(limit: int = 200) -> int:
    """Re-drive PENDING residents that are due. Geocoding is paced, so a batch is bounded."""
    ids = due_for_geocoding(limit)
    for resident_id in ids:
        enqueue_now(geocode_resident, resident_id)
    return len(ids)
