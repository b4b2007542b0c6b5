"""The after-action report's resources sections: supplies used and distributed, and shelter
occupancy over time, read from the ledger and the facilities' event rows.

    supplies_review(area, since, until) -> SuppliesReview
    shelters_review(area, since, until) -> list[ShelterReview]

Drills touch no real stock and open no real shelter, so a drill report has none of either
(emergency.review passes drills through and gets empty sections).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Q, Sum

from community.models import Area

from .models import (
    DeliveryStatus,
    Facility,
    FacilityEvent,
    FacilityEventKind,
    FacilityKind,
    MovementKind,
    ShelterStay,
    StockMovement,
    SupplyItem,
    TaskSupply,
)

CURVE_POINTS = 96


@dataclass
class SupplyLine:
    item: SupplyItem
    received: int = 0
    issued: int = 0
    distributed: int = 0
    by_tasks: int = 0
    transferred_in: int = 0
    transferred_out: int = 0
    adjusted: int = 0  # net
    households: int = 0


@dataclass
class SuppliesReview:
    items: list[SupplyLine] = field(default_factory=list)
    households_reached: int = 0
    task_deliveries: int = 0

    @property
    def units_distributed(self) -> int:
        return sum(line.distributed for line in self.items)


@dataclass
class ShelterReview:
    facility: Facility
    capacity: int
    at_start: int
    peak: int
    at_end: int
    check_ins: int
    vulnerable_check_ins: int
    curve: list[tuple[dt.datetime, int]] = field(default_factory=list)  # occupancy after each change
    status_changes: list[FacilityEvent] = field(default_factory=list)  # OPENED / CLOSED in the period


_COLUMN = {MovementKind.RECEIVED: "received", MovementKind.ISSUED: "issued", MovementKind.DISTRIBUTED: "distributed",
           MovementKind.TRANSFER_IN: "transferred_in", MovementKind.TRANSFER_OUT: "transferred_out",
           MovementKind.ADJUSTED: "adjusted"}


def supplies_review(area: Area, since: dt.datetime, until: dt.datetime, *, drills: bool = False) -> SuppliesReview:
    review = SuppliesReview()
    if drills:
        return review
    moves = StockMovement.objects.filter(warehouse__area__path__startswith=area.path, created_at__range=(since, until))
    lines: dict[int, SupplyLine] = {}
    items = SupplyItem.objects.in_bulk(list(moves.values_list("item_id", flat=True).distinct()))
    for item_id, kind, total in moves.values_list("item_id", "kind").annotate(total=Sum("change")):
        line = lines.setdefault(item_id, SupplyLine(items[item_id]))
        value = total if kind in (MovementKind.ADJUSTED,) else abs(total)
        setattr(line, _COLUMN[MovementKind(kind)], value)
    distributed = moves.filter(kind=MovementKind.DISTRIBUTED)
    for item_id, households, by_tasks in distributed.values_list("item_id").annotate(
            households=Count("household", distinct=True), by_tasks=-Sum("change", filter=Q(task__isnull=False))):
        lines[item_id].households, lines[item_id].by_tasks = households, by_tasks or 0
    review.items = sorted(lines.values(), key=lambda line: (line.item.category, line.item.code))
    review.households_reached = distributed.exclude(household=None).values("household").distinct().count()
    review.task_deliveries = TaskSupply.objects.filter(task__area__path__startswith=area.path, status=DeliveryStatus.DISTRIBUTED,
                                                       settled_at__range=(since, until)).count()
    return review


def shelters_review(area: Area, since: dt.datetime, until: dt.datetime, *, drills: bool = False) -> list[ShelterReview]:
    """Shelters of the area that were open or occupied at some time in the period."""
    if drills:
        return []
    shelters = (Facility.objects.filter(area__path__startswith=area.path, kind=FacilityKind.SHELTER).select_related("area")
                .order_by("name", "pk"))
    reviews = []
    for shelter in shelters:
        events = list(FacilityEvent.objects.filter(facility=shelter, at__range=(since, until)).order_by("at", "pk"))
        before = FacilityEvent.objects.filter(facility=shelter, at__lt=since).order_by("-at", "-pk").first()
        start = before.occupancy if before else 0
        if not events and not start:
            continue
        curve = [(since, start)] + [(e.at, e.occupancy) for e in events]
        stays = ShelterStay.objects.filter(facility=shelter, checked_in_at__range=(since, until))
        reviews.append(ShelterReview(
            facility=shelter, capacity=shelter.capacity, at_start=start, peak=max(o for _, o in curve), at_end=curve[-1][1],
            check_ins=stays.count(), vulnerable_check_ins=stays.filter(is_vulnerable=True).count(), curve=_thin(curve),
            status_changes=[e for e in events if e.kind in (FacilityEventKind.OPENED, FacilityEventKind.CLOSED)],
        ))
    return reviews


def _thin(curve: list[tuple[dt.datetime, int]]) -> list[tuple[dt.datetime, int]]:
    """At most CURVE_POINTS points, always keeping the peak and the last."""
    if len(curve) <= CURVE_POINTS:
        return curve
    step = len(curve) / CURVE_POINTS
    keep = {int(i * step) for i in range(CURVE_POINTS)} | {len(curve) - 1, max(range(len(curve)), key=lambda i: curve[i][1])}
    return [curve[i] for i in sorted(keep)]
