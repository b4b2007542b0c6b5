"""Emergency teams: keeping the roster, the duty status, and offering a task to a team.

    save_team(TeamSpec(...), area=community, by=staff)            # a new team
    save_team(spec, area=..., by=staff, team=team)                # its new details
    set_team_duty_status(team, "DEPLOYED", by=leader)
    add_team_member(team, name="王五", phone="+86...", by=staff); remove_team_member(member)
    offer_task_to_team(task, team, by=staff) -> Offer              # to the leader
    respond_to_team_offer(offer, accept=True, people=4, by=leader) # 4 places at once

A team offer is an ordinary offer (one per task and person, one per task and team, decided
by the same conditional UPDATEs as any other answer), addressed to the leader; accepting
claims `people` places in one conditional UPDATE and gives the leader one assignment that
holds them. More people than places left is refused and changes nothing; none left is LATE.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from community.geo import distance_m
from community.models import Area, AreaKind, User
from community.validation import clean_phone
from core.errors import ValidationError
from core.text import clean_text

from ..dispatch import timeline
from ..dispatch.parameters import dispatch_parameters
from ..dispatch.ranking import Candidate
from ..dispatch.state import lock_task, move_task, require_open
from ..dispatch.waves import make_offers
from ..error_codes import VolunteersErrorCode as Code
from ..models import (
    SERVING_ASSIGNMENT_STATUSES,
    ContactChannel,
    Offer,
    OfferPool,
    OfferVia,
    Task,
    TaskAssignment,
    TaskEventKind,
    TaskStatus,
    Team,
    TeamDutyStatus,
    TeamKind,
    TeamMember,
)
from .errors import Errors
from .offers import OfferAnswer, respond_to_offer
from .tasks import _check_skills

TEAM_AREA_KINDS = {AreaKind.DISTRICT, AreaKind.SUBDISTRICT, AreaKind.COMMUNITY, AreaKind.GRID}
MAX_MEMBERS = 500


@dataclass(frozen=True)
class TeamSpec:
    name: str
    kind: str
    leader: User
    skills: Sequence[str] = ()
    notes: str = ""


def save_team(spec: TeamSpec, *, area: Area, by: User | None, team: Team | None = None) -> Team:
    """Create a team, or (given `team`) replace its details. Every problem at once."""
    errors = Errors()
    if area.kind not in TEAM_AREA_KINDS:
        errors.add("area_id", "A team serves a district, subdistrict, community or grid.", Code.INVALID_AREA)
    if getattr(spec.kind, "value", spec.kind) not in TeamKind.values:
        errors.add("kind", f"Use {', '.join(TeamKind.values)}.", Code.INVALID)
    if not spec.leader.is_active:
        errors.add("leader_id", "The leader's account is not active.", Code.INVALID)
    skills = _check_skills(errors, spec.skills)
    try:
        name = clean_text(spec.name, "name", 100, required=True)
        notes = clean_text(spec.notes, "notes", 500)
    except DjangoValidationError as exc:  # clean_text raises Django's, with the code inside
        for field, items in exc.error_dict.items():
            for item in items:
                errors.add(field, str(item.message), str(item.code))
        name = notes = ""
    errors.raise_if_any()
    values = {"area": area, "name": name, "kind": getattr(spec.kind, "value", spec.kind), "leader": spec.leader, "notes": notes}
    try:
        with transaction.atomic():
            if team is None:
                team = Team.objects.create(created_by=by, **values)
            else:
                for key, value in values.items():
                    setattr(team, key, value)
                team.save()
            team.skills.set(skills)
    except IntegrityError:
        raise ValidationError({"name": "This area already has a team of that name."}, code=Code.INVALID)
    return team


def set_team_duty_status(team: Team, status: str, *, now: dt.datetime | None = None) -> Team:
    status = getattr(status, "value", status)
    if status not in TeamDutyStatus.values:
        raise ValidationError({"duty_status": f"Use {', '.join(TeamDutyStatus.values)}."}, code=Code.INVALID)
    now = now or timezone.now()
    Team.objects.filter(pk=team.pk).update(duty_status=status, duty_changed_at=now)
    team.duty_status, team.duty_changed_at = status, now
    return team


def add_team_member(team: Team, *, name: str, phone: str | None = None, role: str = "", user: User | None = None) -> TeamMember:
    errors = Errors()
    cleaned: dict[str, str] = {}
    for field, value, longest, required in (("name", name, 100, True), ("role", role, 50, False)):
        try:
            cleaned[field] = clean_text(value, field, longest, required=required)
        except DjangoValidationError:
            errors.add(field, f"Text of at most {longest} characters{' (required)' if required else ''}.", Code.INVALID)
    number = None
    if phone:
        try:
            number = clean_phone(phone)
        except DjangoValidationError:
            errors.add("phone", "Not a valid phone number.", Code.INVALID)
    if team.members.count() >= MAX_MEMBERS:
        errors.add("team_id", f"A team has at most {MAX_MEMBERS} members.", Code.INVALID)
    errors.raise_if_any()
    try:
        with transaction.atomic():
            return TeamMember.objects.create(team=team, user=user, name=cleaned["name"], phone=number, role=cleaned["role"])
    except IntegrityError:
        raise ValidationError({"user_id": "This person is already a member."}, code=Code.ALREADY_ASSIGNED)


def remove_team_member(member: TeamMember) -> None:
    member.delete()


# --- offering a task to a team -------------------------------------------------------------
def offer_task_to_team(task: Task, team: Team, *, by: User, now: dt.datetime | None = None) -> Offer:
    """Offer the task to the team's leader (app push), who answers for the team. Refused when
    the team is inactive, or its leader or the team was already offered this task."""
    now = now or timezone.now()
    with transaction.atomic():
        task = lock_task(task.pk)
        require_open(task)
        if task.places_left <= 0:
            raise ValidationError("Every place is taken; raise the headcount first.", code=Code.TASK_FULL)
        if not team.is_active or not team.leader.is_active:
            raise ValidationError({"team_id": "The team is not active."}, code=Code.TEAM_INACTIVE)
        if Offer.objects.filter(task=task, user_id=team.leader_id).exists() or Offer.objects.filter(task=task, team=team).exists():
            raise ValidationError({"team_id": "The team (or its leader) was already offered the task."}, code=Code.ALREADY_OFFERED)
        if TaskAssignment.objects.filter(task=task, user_id=team.leader_id, status__in=SERVING_ASSIGNMENT_STATUSES).exists():
            raise ValidationError({"team_id": "The team's leader is already on the task."}, code=Code.ALREADY_ASSIGNED)
        clat, clng = team.area.center_lat, team.area.center_lng
        base = (clat, clng) if clat is not None and clng is not None else None
        lat, lng = base or task.site
        candidate = Candidate(
            user_id=team.leader_id, volunteer_id=None, pool=OfferPool.TEAM, lat=lat, lng=lng, reliability=1.0, load=0,
            channel=ContactChannel.APP, distance_m=distance_m(task.site, base) if base else math.inf,
        )
        try:
            with transaction.atomic():
                [offer] = make_offers(task, [candidate], dispatch_parameters(task), now, wave=0, via=OfferVia.STAFF,
                                      offered_by=by, team=team)
        except IntegrityError:
            raise ValidationError({"team_id": "The team (or its leader) was already offered the task."}, code=Code.ALREADY_OFFERED)
        if task.status in (TaskStatus.OPEN, TaskStatus.UNSTAFFED):
            move_task(task, TaskStatus.DISPATCHING, now, dispatch_started_at=task.dispatch_started_at or now)
        timeline.publish_task(task, TaskEventKind.OFFERED)
    return offer


def respond_to_team_offer(offer: Offer, *, accept: bool, people: int | None = None, now: dt.datetime | None = None) -> OfferAnswer:
    """The leader's answer: decline, or accept for `people` (1 to the team's size) places.
    The caller has checked that the answer comes from the leader."""
    team = offer.team
    if team is None:
        raise ValidationError({"offer_id": "This offer was made to a person, not a team."}, code=Code.NOT_A_TEAM_OFFER)
    if accept:
        size = team.size
        if isinstance(people, bool) or not isinstance(people, int) or not 1 <= people <= size:
            raise ValidationError({"people": f"Between 1 and {size} (the team's size)."}, code=Code.INVALID_PEOPLE)
    answer = respond_to_offer(offer, accept=accept, people=people or 1, now=now)
    if answer.assignment is not None:
        set_team_duty_status(team, TeamDutyStatus.DEPLOYED, now=now)
    return answer
