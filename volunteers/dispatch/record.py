"""The volunteer's record (volunteers.models.Volunteer counters) as offers end.

An offer counts as "offered" only once it runs its course — answered (yes, late or no) or
left to expire — in the same UPDATE as its outcome. Offers the system withdrew before the
person answered (the task filled up or was cancelled) never count against anyone's
response rate. Rows are updated in ascending id order, so concurrent batches never deadlock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from django.db.models import F

from ..models import OfferOutcome, Volunteer

_COLUMNS = {
    OfferOutcome.ACCEPTED: "accepted_count",
    OfferOutcome.DECLINED: "declined_count",
    OfferOutcome.EXPIRED: "expired_count",
}


def record_answers(volunteer_ids: Iterable[int | None], outcome: OfferOutcome) -> None:
    column = _COLUMNS[outcome]
    counts = Counter(v for v in volunteer_ids if v is not None)
    for volunteer_id in sorted(counts):
        n = counts[volunteer_id]
        Volunteer.objects.filter(pk=volunteer_id).update(offered_count=F("offered_count") + n, **{column: F(column) + n})
