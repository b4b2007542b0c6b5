"""The after-action report's section on warnings that came in: how many, how severe, what was
proposed and how long commanders took to decide.

    warnings_review(area, since, until, drills=False) -> WarningsReview

A warning counts for an area when it matched the area, an area inside it, or an area above
it (a warning for the subdistrict covers its communities). CAP Exercise messages are the
drill data: a drill report shows them, a real one the rest.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field

from django.db.models import Q

from community.models import Area

from ..models import CapStatus, IncomingWarning, ProposalStatus, WarningProposal

MAX_ENTRIES = 100


@dataclass
class WarningEntry:
    warning: IncomingWarning
    areas: list[str]
    proposals: list[WarningProposal]


@dataclass
class WarningsReview:
    received: int = 0
    by_severity: dict[str, int] = field(default_factory=dict)
    proposals: int = 0
    accepted: int = 0
    declined: int = 0
    auto_switched: int = 0
    pending: int = 0
    closed_undecided: int = 0  # superseded, cancelled or expired before anyone decided
    median_seconds_to_decide: float | None = None
    max_seconds_to_decide: float | None = None
    entries: list[WarningEntry] = field(default_factory=list)


def _related(area: Area, prefix: str) -> Q:
    return Q(**{f"{prefix}__path__startswith": area.path}) | Q(**{f"{prefix}__path__in": area.ancestor_paths()})


def warnings_review(area: Area, since: dt.datetime, until: dt.datetime, *, drills: bool = False) -> WarningsReview:
    warnings = IncomingWarning.objects.filter(_related(area, "matched_areas"), received_at__range=(since, until)).distinct()
    warnings = warnings.filter(status=CapStatus.EXERCISE) if drills else warnings.exclude(status=CapStatus.EXERCISE)
    proposals = list(WarningProposal.objects.filter(_related(area, "area"), warning__in=warnings).select_related("area"))
    review = WarningsReview(received=warnings.count(), proposals=len(proposals))
    for severity in warnings.values_list("severity", flat=True):
        review.by_severity[severity] = review.by_severity.get(severity, 0) + 1
    decided = []
    for proposal in proposals:
        status = ProposalStatus(proposal.status)
        review.accepted += status == ProposalStatus.ACCEPTED
        review.declined += status == ProposalStatus.DECLINED
        review.auto_switched += status == ProposalStatus.AUTO_SWITCHED
        review.pending += status == ProposalStatus.PENDING
        review.closed_undecided += status in (ProposalStatus.SUPERSEDED, ProposalStatus.CANCELLED, ProposalStatus.EXPIRED)
        if status in (ProposalStatus.ACCEPTED, ProposalStatus.DECLINED) and proposal.seconds_to_decide is not None:
            decided.append(proposal.seconds_to_decide)
    if decided:
        review.median_seconds_to_decide, review.max_seconds_to_decide = statistics.median(decided), max(decided)
    by_warning: dict[int, list[WarningProposal]] = {}
    for proposal in proposals:
        by_warning.setdefault(proposal.warning_id, []).append(proposal)
    for warning in warnings.prefetch_related("matched_areas").order_by("received_at", "pk")[:MAX_ENTRIES]:
        review.entries.append(WarningEntry(warning, [a.name for a in warning.matched_areas.all()],
                                           by_warning.get(warning.pk, [])))
    return review
