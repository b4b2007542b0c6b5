"""A warning that covers an area becomes a proposal to the area's commanders — or a switch.

    propose(warning, areas) -> [WarningProposal]
    decide_proposal(proposal, accept=True, by=commander, mode=None, note="")
    close_proposals_of(warning, ProposalStatus.SUPERSEDED)   # an Update or Cancel came
    expire_proposals()                                        # the warning ran out undecided

For each area the warning covers, the mode it asks for is STANDBY (预警) — EMERGENCY (应急) for
an Extreme warning — unless the area's plan for EMERGENCY or STANDBY says it switches by
itself at this severity
(ResponsePlan.auto_switch_severity): then the area is switched at once, by the system, and
the proposal records it as AUTO_SWITCHED. An area already at that mode or a more severe one
gets no proposal. A commander's decision is one conditional UPDATE from PENDING, so two
commanders deciding at once get one decision; accepting runs switch_mode in the same
transaction, so a switch the rules refuse leaves the proposal pending.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from graphql_relay import to_global_id

from community.models import MODE_SEVERITY, Area, Mode, Role, User
from core.errors import ValidationError
from core.text import clean_text
from notifications import events
from notifications.realtime import publish_on_commit
from notifications.services import notify_many

from ..error_codes import EmergencyErrorCode as Code
from ..models import CapSeverity, IncomingWarning, ProposalStatus, ResponsePlan, WarningProposal
from ..plans import plan_for
from ..switching import switch_mode

SEVERITY_RANK = {CapSeverity.UNKNOWN: 0, CapSeverity.MINOR: 1, CapSeverity.MODERATE: 2, CapSeverity.SEVERE: 3,
                 CapSeverity.EXTREME: 4}
ASKED_MODES = (Mode.EMERGENCY, Mode.STANDBY)  # most severe first


def severity_rank(value: str) -> int:
    return SEVERITY_RANK.get(CapSeverity(value) if value in CapSeverity.values else CapSeverity.UNKNOWN, 0)


def target_for(area: Area, warning: IncomingWarning) -> tuple[str, ResponsePlan | None, bool]:
    """(mode, the plan a switch would run, whether the plan switches by itself). An Extreme
    warning asks for EMERGENCY (应急), any other for STANDBY (预警)."""
    rank = severity_rank(warning.severity)
    for mode in ASKED_MODES:
        plan = plan_for(area, mode)
        if plan is not None and plan.auto_switch_severity and rank >= severity_rank(plan.auto_switch_severity):
            return mode, plan, True
    mode = Mode.EMERGENCY if rank >= SEVERITY_RANK[CapSeverity.EXTREME] else Mode.STANDBY
    return mode, plan_for(area, mode), False


def _reason(warning: IncomingWarning) -> str:
    return f"外部预警：{warning.headline or warning.event}（{warning.sender} {warning.identifier}）"[:2000]


def propose(warning: IncomingWarning, areas: list[Area], *, now: dt.datetime | None = None) -> list[WarningProposal]:
    """In the caller's transaction: one proposal (or automatic switch) per area not already
    at the mode asked for."""
    now = now or timezone.now()
    made = []
    for area in areas:
        mode, plan, automatic = target_for(area, warning)
        if MODE_SEVERITY[Mode(area.effective_mode())] >= MODE_SEVERITY[Mode(mode)]:
            continue
        proposal = WarningProposal.objects.create(warning=warning, area=area, mode=mode, plan=plan, created_at=now,
                                                  plan_version=plan.version if plan else None)
        if automatic:
            switch = switch_mode(area, mode, by=None, reason=_reason(warning))
            _decided(proposal, ProposalStatus.AUTO_SWITCHED, now, mode_switch_id=switch.pk, switched_to=mode)
        _tell(proposal, automatic)
        made.append(proposal)
    return made


def _decided(proposal: WarningProposal, status: str, now: dt.datetime, **values: object) -> None:
    seconds = max(0.0, (now - proposal.warning.received_at).total_seconds())
    WarningProposal.objects.filter(pk=proposal.pk).update(status=status, decided_at=now, seconds_to_decide=seconds, **values)
    proposal.refresh_from_db()


def commanders(area: Area) -> list[User]:
    """Who may switch the area's mode: community admins and commanders on it or above it."""
    return list(User.objects.filter(roles__area__path__in=area.ancestor_paths(), is_active=True,
                                    roles__role__in=[Role.COMMUNITY_ADMIN, Role.DISTRICT_COMMANDER]).distinct())


def _tell(proposal: WarningProposal, automatic: bool) -> None:
    warning, area = proposal.warning, proposal.area
    context = {"area": area.name, "event": warning.event or warning.headline, "headline": warning.headline or warning.event,
               "severity": CapSeverity(warning.severity).label if warning.severity in CapSeverity.values else warning.severity,
               "severity_en": warning.severity, "mode": Mode(proposal.mode).label, "mode_en": proposal.mode,
               "plan": f"{proposal.plan.name} v{proposal.plan_version}" if proposal.plan else "（无预案）"}
    template = "emergency.warning.switched" if automatic else "emergency.warning.proposal"
    notify_many(commanders(area), kind="warning.proposal", template=template, context=context, related=proposal,
                data={"proposalId": to_global_id("WarningProposal", proposal.pk), "areaId": to_global_id("Area", area.pk)})
    groups = [events.area_group(pk) for pk in Area.objects.filter(path__in=area.ancestor_paths()).values_list("pk", flat=True)]
    publish_on_commit(groups, events.make_event(
        events.WARNING_PROPOSED, proposalId=proposal.pk, warningId=warning.pk, areaId=area.pk, mode=proposal.mode,
        status=str(proposal.status), at=proposal.created_at.isoformat()))


# --- deciding ------------------------------------------------------------------------------------
def decide_proposal(proposal: WarningProposal, *, accept: bool, by: User, mode: str | None = None, note: str = "",
                    now: dt.datetime | None = None) -> WarningProposal:
    """Accept (switch the area, to the proposed mode or the one the commander chose) or
    decline; recorded with the time from the warning's arrival. Once only."""
    note = clean_text(note, "note", 500)
    mode = getattr(mode, "value", mode) or proposal.mode
    if mode not in (Mode.STANDBY, Mode.EMERGENCY):
        raise ValidationError({"mode": "Accept into STANDBY or EMERGENCY."}, code=Code.INVALID_MODE)
    now = now or timezone.now()
    with transaction.atomic():
        status = ProposalStatus.ACCEPTED if accept else ProposalStatus.DECLINED
        seconds = max(0.0, (now - proposal.warning.received_at).total_seconds())
        if not WarningProposal.objects.filter(pk=proposal.pk, status=ProposalStatus.PENDING).update(
                status=status, decided_at=now, decided_by=by, seconds_to_decide=seconds, note=note):
            proposal.refresh_from_db()
            raise ValidationError({"proposal_id": f"Already {proposal.get_status_display()}."},
                                  code=Code.PROPOSAL_NOT_PENDING)
        if accept:
            switch = switch_mode(proposal.area, mode, by=by, reason=_reason(proposal.warning))
            WarningProposal.objects.filter(pk=proposal.pk).update(mode_switch=switch, switched_to=mode)
        proposal.refresh_from_db()
    return proposal


def close_proposals_of(warnings: list[IncomingWarning], status: str, now: dt.datetime) -> int:
    """Proposals still pending for warnings an Update replaced or a Cancel ended."""
    return WarningProposal.objects.filter(warning__in=warnings, status=ProposalStatus.PENDING).update(
        status=status, decided_at=now)


def expire_proposals(now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    return WarningProposal.objects.filter(Q(warning__expires__lte=now), status=ProposalStatus.PENDING).update(
        status=ProposalStatus.EXPIRED, decided_at=now)
