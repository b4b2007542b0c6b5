"""Distribution lists: the households of an area, vulnerable first, with what each received.

    distribution_list(area, item=water, since=start, only_missing=True, limit=200)

Households are ordered by how many vulnerable members they have (most first), then by grid
and label, from one query with counts; what each received comes from the ledger
(DISTRIBUTED movements to the household), so the list and the stock always agree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum

from community.models import VULNERABILITY_FLAGS, Area, Household, Resident

from .models import MovementKind, StockMovement, SupplyItem

MAX_ROWS = 500


@dataclass
class HouseholdDistribution:
    household: Household
    members: int
    vulnerable: int
    flags: list[str] = field(default_factory=list)
    received: dict[int, int] = field(default_factory=dict)  # item id -> units


def _distributed(since: dt.datetime | None) -> QuerySet[StockMovement]:
    moves = StockMovement.objects.filter(kind=MovementKind.DISTRIBUTED, household__isnull=False)
    return moves.filter(created_at__gte=since) if since is not None else moves


def distribution_list(area: Area, *, item: SupplyItem | None = None, since: dt.datetime | None = None,
                      only_missing: bool = False, limit: int = 200, offset: int = 0) -> list[HouseholdDistribution]:
    limit, offset = max(1, min(limit, MAX_ROWS)), max(0, offset)
    households = (Household.objects.filter(grid__path__startswith=area.path).select_related("grid")
                  .annotate(member_count=Count("members", distinct=True),
                            vulnerable_count=Count("members", filter=Q(members__is_vulnerable=True), distinct=True)))
    if only_missing and item is not None:
        got = _distributed(since).filter(household=OuterRef("pk"), item=item)
        households = households.exclude(Exists(got))
    page = list(households.order_by("-vulnerable_count", "grid__path", "label", "pk")[offset:offset + limit])
    rows = {h.pk: HouseholdDistribution(h, h.member_count, h.vulnerable_count) for h in page}
    received = _distributed(since).filter(household_id__in=rows)
    if item is not None:
        received = received.filter(item=item)
    for household_id, item_id, units in received.values_list("household_id", "item_id").annotate(units=-Sum("change")):
        rows[household_id].received[item_id] = units
    for household_id, *flags in Resident.objects.filter(household_id__in=rows).values_list("household_id", *VULNERABILITY_FLAGS):
        row = rows[household_id]
        row.flags = sorted(set(row.flags) | {name for name, on in zip(VULNERABILITY_FLAGS, flags, strict=True) if on})
    return list(rows.values())
