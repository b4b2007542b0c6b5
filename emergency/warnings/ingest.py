"""Taking in one CAP message, from wherever it came (a feed, the webhook, a sensor).

    ingest_cap(xml, source=source) -> Ingested     # InvalidCap: nothing is written

1. read and validate it (cap_in.read_cap: the OASIS schema, then coordinates);
2. de-duplicate: CAP names a message by (sender, identifier); the same message again
   (a feed polled twice, a webhook retried) changes nothing and says so;
3. follow its references: an Update or Cancel supersedes the messages it names, and their
   proposals still pending are closed (SUPERSEDED or CANCELLED) — an Update then proposes
   afresh for the areas it covers; a reference to a message never seen is kept as text;
4. match it to areas (matching.areas_covered) and, for an actual Alert or Update, propose
   or switch (proposals.propose). Exercise, Test, System and Draft messages, Acks and
   Errors are recorded and matched, never acted on.
All of it in one transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from community.models import Area

from ..models import (
    CapCategory,
    CapCertainty,
    CapMsgType,
    CapSeverity,
    CapUrgency,
    IncomingWarning,
    ProposalStatus,
    Sensor,
    WarningProposal,
    WarningSource,
)
from .cap_in import CapMessage, read_cap
from .matching import areas_covered
from .proposals import close_proposals_of, propose


@dataclass(frozen=True)
class Ingested:
    warning: IncomingWarning
    created: bool  # False: a message already taken in (nothing changed)
    proposals: list[WarningProposal]

    @property
    def outcome(self) -> str:
        return "created" if self.created else "duplicate"


def _enum(value: str, choices: list[str], default: str) -> str:
    return value if value in choices else default


def _fields(message: CapMessage) -> dict[str, object]:
    info = message.info
    if info is None:
        return {}
    return {
        "event": info.event[:255], "categories": [c for c in info.categories if c in CapCategory.values],
        "urgency": _enum(info.urgency, CapUrgency.values, CapUrgency.UNKNOWN),
        "severity": _enum(info.severity, CapSeverity.values, CapSeverity.UNKNOWN),
        "certainty": _enum(info.certainty, CapCertainty.values, CapCertainty.UNKNOWN),
        "sender_name": info.sender_name[:255], "headline": info.headline[:255], "description": info.description,
        "instruction": info.instruction, "onset": info.onset, "expires": info.expires,
    }


def ingest_cap(xml: bytes, *, source: WarningSource | None, entry_url: str = "", sensor: Sensor | None = None,
               now: dt.datetime | None = None) -> Ingested:
    message = read_cap(xml)
    now = now or timezone.now()
    existing = IncomingWarning.objects.filter(sender=message.sender, identifier=message.identifier).first()
    if existing is not None:
        return Ingested(existing, False, [])
    with transaction.atomic():
        try:
            with transaction.atomic():
                warning = IncomingWarning.objects.create(
                    source=source, sensor=sensor, sender=message.sender, identifier=message.identifier, sent=message.sent,
                    status=message.status, msg_type=message.msg_type, references_text=message.references_text,
                    shapes=[a.as_json() for a in message.areas], xml=message.xml, entry_url=entry_url[:500],
                    received_at=now, **_fields(message))
        except IntegrityError:  # the same message, taken in by another request just now
            return Ingested(IncomingWarning.objects.get(sender=message.sender, identifier=message.identifier), False, [])
        earlier = _follow(warning, message, now)
        areas = areas_covered(message.areas) if message.areas else _areas_of(earlier)
        warning.matched_areas.set(areas)
        proposals: list[WarningProposal] = []
        if warning.is_actual and warning.msg_type in (CapMsgType.ALERT, CapMsgType.UPDATE):
            proposals = propose(warning, areas, now=now)
    return Ingested(warning, True, proposals)


def _follow(warning: IncomingWarning, message: CapMessage, now: dt.datetime) -> list[IncomingWarning]:
    """Link to the latest earlier message it names; supersede them all and close their
    pending proposals."""
    if not message.references or warning.msg_type not in (CapMsgType.UPDATE, CapMsgType.CANCEL):
        return []
    named = Q()
    for sender, identifier in message.references:
        named |= Q(sender=sender, identifier=identifier)
    earlier = list(IncomingWarning.objects.filter(named).order_by("sent", "pk"))
    if not earlier:
        return []
    IncomingWarning.objects.filter(pk=warning.pk).update(references=earlier[-1])
    warning.references = earlier[-1]
    IncomingWarning.objects.filter(pk__in=[w.pk for w in earlier], superseded_at__isnull=True).update(superseded_at=now)
    status = ProposalStatus.CANCELLED if warning.msg_type == CapMsgType.CANCEL else ProposalStatus.SUPERSEDED
    close_proposals_of(earlier, status, now)
    return earlier


def _areas_of(warnings: list[IncomingWarning]) -> list[Area]:
    """A message without areas (a bare Cancel) covers what the messages it follows covered."""
    return list(Area.objects.filter(incoming_warnings__in=warnings).distinct().order_by("path"))
