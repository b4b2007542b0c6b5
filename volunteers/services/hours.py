"""The service-hours ledger: recording, correcting, and totals per period.

Entries are append only (models.hours). A correction is a new entry of kind CORRECTION
pointing at the original entry; a chain never goes below zero hours in total.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

from django.db import IntegrityError, models, transaction
from django.db.models import Q, Sum
from django.db.models.functions import Trunc
from django.utils import timezone

from community.models import Area, AreaKind, User
from core.errors import ValidationError

from ..error_codes import VolunteersErrorCode as Code
from ..models import LOCAL_TZ, ServiceHoursEntry, ServiceHoursKind, local_date

MAX_ENTRY_HOURS = Decimal("24")  # one activity or task credits at most a day
MAX_CORRECTION_HOURS = Decimal("1000")
_CENT = Decimal("0.01")


def _as_hours(value: object) -> Decimal:
    try:
        hours = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({"hours": "Not a number of hours."}, code=Code.INVALID_HOURS)
    if not hours.is_finite() or hours != hours.quantize(_CENT):
        raise ValidationError({"hours": "Hours with at most two decimals."}, code=Code.INVALID_HOURS)
    return hours.quantize(_CENT)


def ledger_community(area: Area) -> Area:
    """Hours are kept per community: a grid's work counts for the community above it."""
    if area.kind == AreaKind.COMMUNITY:
        return area
    if area.kind == AreaKind.GRID:
        community = area.ancestors_and_self().filter(kind=AreaKind.COMMUNITY).last()
        if community is not None:
            return community
    raise ValidationError({"community": "Service hours belong to a community or one of its grids."}, code=Code.INVALID_AREA)


def _check_correction(user: User, community: Area, hours: Decimal, corrects: ServiceHoursEntry | None, reason: str) -> ServiceHoursEntry:
    if corrects is None:
        raise ValidationError({"corrects": "Say which entry this corrects."}, code=Code.REQUIRED)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the hours are corrected."}, code=Code.REQUIRED)
    if abs(hours) > MAX_CORRECTION_HOURS:
        raise ValidationError({"hours": f"At most {MAX_CORRECTION_HOURS} hours either way."}, code=Code.INVALID_HOURS)
    # Always correct the original, so a chain is one original and its corrections.
    original = ServiceHoursEntry.objects.select_for_update().get(pk=corrects.corrects_id or corrects.pk)
    if original.user_id != user.pk or original.community_id != community.pk:
        raise ValidationError({"corrects": "A correction is for the same person and community."}, code=Code.INVALID)
    net = original.hours + (original.corrections.aggregate(s=Sum("hours"))["s"] or Decimal(0))
    if net + hours < 0:
        raise ValidationError(
            {"hours": f"The entry would go below zero (it now counts {net} hours)."}, code=Code.CORRECTION_BELOW_ZERO
        )
    return original


def record_service_hours(
    user: User,
    community: Area,
    hours: Decimal | float | str,
    *,
    source: models.Model | None = None,
    kind: str,
    created_by: User | None = None,
    corrects: ServiceHoursEntry | None = None,
    reason: str = "",
    occurred_at: dt.datetime | None = None,
) -> ServiceHoursEntry:
    """Append one entry. Activities and tasks credit positive hours (at most 24, once per
    person and source); a CORRECTION adds or removes hours from an earlier entry."""
    hours = _as_hours(hours)
    community = ledger_community(community)
    if kind not in ServiceHoursKind.values:
        raise ValidationError({"kind": "Unknown kind of hours."}, code=Code.INVALID)
    if hours == 0:
        raise ValidationError({"hours": "Zero hours change nothing."}, code=Code.INVALID_HOURS)
    if len(reason) > 500:
        raise ValidationError({"reason": "At most 500 characters."}, code=Code.INVALID)
    source_fields = ServiceHoursEntry.source_fields(source)
    with transaction.atomic():
        if kind == ServiceHoursKind.CORRECTION:
            original = _check_correction(user, community, hours, corrects, reason)
            # The correction belongs with what it corrects: same source, same period.
            source_fields = {"source_type_id": original.source_type_id, "source_id": original.source_id}
            occurred_at, corrects = original.occurred_at, original
        elif corrects is not None:
            raise ValidationError({"corrects": "Only a correction corrects an entry."}, code=Code.INVALID)
        elif not Decimal(0) < hours <= MAX_ENTRY_HOURS:
            raise ValidationError({"hours": f"Between 0.01 and {MAX_ENTRY_HOURS} hours."}, code=Code.INVALID_HOURS)
        entry = ServiceHoursEntry(
            user=user, community=community, hours=hours, kind=kind, reason=reason.strip(),
            corrects=corrects, created_by=created_by, occurred_at=occurred_at or timezone.now(),
            **source_fields,
        )
        try:
            with transaction.atomic():
                entry.save()
        except IntegrityError:
            raise ValidationError("These hours were already credited; correct that entry instead.", code=Code.INVALID)
    return entry


def net_hours(entry: ServiceHoursEntry) -> Decimal:
    """An original entry plus all its corrections."""
    original = entry.corrects or entry
    extra = original.corrections.aggregate(s=Sum("hours"))["s"] or Decimal(0)
    return original.hours + extra


# --- totals -------------------------------------------------------------------------------
class Period(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


# How many buckets a query may ask for, and the default look-back.
_MAX_BUCKETS = {Period.DAY: 366, Period.WEEK: 260, Period.MONTH: 120, Period.YEAR: 50}
_DEFAULT_BUCKETS = {Period.DAY: 30, Period.WEEK: 26, Period.MONTH: 12, Period.YEAR: 5}


@dataclass(frozen=True)
class HoursSummary:
    total: Decimal
    entry_count: int
    buckets: list[tuple[dt.date, Decimal]]  # (period start, hours), every period in range
    start: dt.date
    end: dt.date


def entries_for(*, user: User | None = None, community: Area | None = None) -> models.QuerySet[ServiceHoursEntry]:
    qs = ServiceHoursEntry.objects.all()
    if user is not None:
        qs = qs.filter(user=user)
    if community is not None:
        qs = qs.filter(community=community)
    return qs


def period_start(day: dt.date, period: Period) -> dt.date:
    if period == Period.DAY:
        return day
    if period == Period.WEEK:
        return day - dt.timedelta(days=day.weekday())
    if period == Period.MONTH:
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def next_period(start: dt.date, period: Period) -> dt.date:
    if period == Period.DAY:
        return start + dt.timedelta(days=1)
    if period == Period.WEEK:
        return start + dt.timedelta(days=7)
    if period == Period.MONTH:
        return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return start.replace(year=start.year + 1)


def resolve_range(period: Period, start: dt.date | None, end: dt.date | None, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """Default and validate a [start, end] range of local dates (inclusive)."""
    today = today or local_date(timezone.now())
    end = end or today
    if start is None:
        start = period_start(end, period)
        for _ in range(_DEFAULT_BUCKETS[period] - 1):
            start = period_start(start - dt.timedelta(days=1), period)
    if start > end:
        raise ValidationError({"from": "The range starts after it ends."}, code=Code.INVALID_DATE_RANGE)
    buckets, cursor = 0, period_start(start, period)
    while cursor <= end:
        buckets += 1
        if buckets > _MAX_BUCKETS[period]:
            raise ValidationError(
                {"from": f"At most {_MAX_BUCKETS[period]} {period.value}s at once; narrow the range."},
                code=Code.INVALID_DATE_RANGE,
            )
        cursor = next_period(cursor, period)
    return start, end


def local_range_q(start: dt.date, end: dt.date, field_name: str = "occurred_at") -> Q:
    lo = dt.datetime.combine(start, dt.time.min, tzinfo=LOCAL_TZ)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=LOCAL_TZ)
    return Q(**{f"{field_name}__gte": lo, f"{field_name}__lt": hi})


def hours_summary(entries: models.QuerySet[ServiceHoursEntry], period: Period, start: dt.date, end: dt.date) -> HoursSummary:
    """Totals per period (Asia/Shanghai) in one grouped SQL query, with empty periods as 0."""
    in_range = entries.filter(local_range_q(start, end))
    rows = (
        in_range.order_by()
        .annotate(bucket=Trunc("occurred_at", period.value, tzinfo=LOCAL_TZ, output_field=models.DateTimeField()))
        .values("bucket")
        .annotate(total=Sum("hours"), n=models.Count("id"))
    )
    by_start: dict[dt.date, Decimal] = {}
    count = 0
    for row in rows:
        day = row["bucket"].astimezone(LOCAL_TZ).date() if isinstance(row["bucket"], dt.datetime) else row["bucket"]
        by_start[day] = by_start.get(day, Decimal(0)) + Decimal(row["total"])
        count += row["n"]
    buckets, cursor = [], period_start(start, period)
    while cursor <= end:
        buckets.append((cursor, by_start.get(cursor, Decimal(0)).quantize(_CENT)))
        cursor = next_period(cursor, period)
    total = sum((h for _, h in buckets), Decimal(0)).quantize(_CENT)
    return HoursSummary(total=total, entry_count=count, buckets=buckets, start=start, end=end)


def hours_credit_for(checked_in_at: dt.datetime, checked_out_at: dt.datetime, starts_at: dt.datetime, ends_at: dt.datetime) -> Decimal:
    """Time present within the activity's window, to the nearest quarter hour."""
    begin, finish = max(checked_in_at, starts_at), min(checked_out_at, ends_at)
    seconds = max(0.0, (finish - begin).total_seconds())
    quarters = (Decimal(seconds) / Decimal(900)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return min(quarters * Decimal("0.25"), MAX_ENTRY_HOURS)
