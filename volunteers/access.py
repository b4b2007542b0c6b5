"""Who may see and act on volunteers, Party-member registrations, activities and hours.

Built on community.permissions (the one permission module): staff act within their subtree
(MANAGE_PEOPLE to approve, suspend and confirm; VIEW_PEOPLE to list; VIEW_PERSONAL_DATA for
phones, home points and addresses); volunteers and members see their own records. Every
list helper returns a Q or queryset filtered in SQL.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet, Value
from django.db.models.expressions import Combinable

from community.models import Area, Resident, User
from community.permissions import Action, can, can_view_area, scope_paths, scope_q, visible_areas_q

from .models import (
    ActivitySignup,
    Offer,
    PartyMemberRegistration,
    PartyRegistrationStatus,
    ServiceActivity,
    Task,
    TaskAssignment,
    Team,
    Volunteer,
    VolunteerStatus,
)


def _everywhere(user: User, action: Action) -> bool:
    return user.is_authenticated and scope_paths(user, action) is None


# --- volunteers ---------------------------------------------------------------------------
def _volunteer_scope_q(user: User, action: Action) -> Q:
    """Volunteers who signed up in, or serve in, the user's subtree for `action`."""
    serves = Volunteer.service_areas.through.objects.filter(volunteer_id=OuterRef("pk")).filter(
        scope_q(user, action, "area__path")
    )
    return scope_q(user, action, "area__path") | Q(Exists(serves))


def visible_volunteers(user: User) -> QuerySet[Volunteer]:
    if not user.is_authenticated:
        return Volunteer.objects.none()
    if _everywhere(user, Action.VIEW_PEOPLE):
        return Volunteer.objects.all()
    return Volunteer.objects.filter(Q(user=user) | _volunteer_scope_q(user, Action.VIEW_PEOPLE))


def staff_volunteers(user: User) -> QuerySet[Volunteer]:
    """The staff list: only volunteers in the caller's VIEW_PEOPLE scope (not themself)."""
    if _everywhere(user, Action.VIEW_PEOPLE):
        return Volunteer.objects.all()
    return Volunteer.objects.filter(_volunteer_scope_q(user, Action.VIEW_PEOPLE))


def _volunteer_areas(volunteer: Volunteer) -> Iterable[Area]:
    yield volunteer.area
    yield from volunteer.service_areas.all()


def can_see_volunteer_personal_data(user: User, volunteer: Volunteer) -> bool:
    return volunteer.user_id == user.pk or any(
        can(user, Action.VIEW_PERSONAL_DATA, a) for a in _volunteer_areas(volunteer)
    )


def can_manage_volunteer(user: User, volunteer: Volunteer) -> bool:
    """Approve, suspend, reinstate: staff of the area where the volunteer signed up."""
    return can(user, Action.MANAGE_PEOPLE, volunteer.area)


# --- Party members ------------------------------------------------------------------------
def visible_registrations(user: User) -> QuerySet[PartyMemberRegistration]:
    if not user.is_authenticated:
        return PartyMemberRegistration.objects.none()
    if _everywhere(user, Action.VIEW_PEOPLE):
        return PartyMemberRegistration.objects.all()
    return PartyMemberRegistration.objects.filter(
        Q(user=user) | scope_q(user, Action.VIEW_PEOPLE, "community__path")
    )


def can_see_registration_personal_data(user: User, registration: PartyMemberRegistration) -> bool:
    return registration.user_id == user.pk or can(user, Action.VIEW_PERSONAL_DATA, registration.community)


def can_manage_registration(user: User, registration: PartyMemberRegistration) -> bool:
    return can(user, Action.MANAGE_PEOPLE, registration.community)


# --- activities ---------------------------------------------------------------------------
def visible_activities(user: User) -> QuerySet[ServiceActivity]:
    """Activities of the areas the user may see (their subtree and its ancestors, or the
    areas they serve / are registered with)."""
    if not user.is_authenticated:
        return ServiceActivity.objects.none()
    return ServiceActivity.objects.filter(community__in=Area.objects.filter(visible_areas_q(user)))


def can_view_activity(user: User, activity: ServiceActivity) -> bool:
    return can_view_area(user, activity.community) or ActivitySignup.objects.filter(
        activity=activity, user=user
    ).exists()


def can_manage_activity(user: User, activity_or_community: ServiceActivity | Area) -> bool:
    area = activity_or_community.community if isinstance(activity_or_community, ServiceActivity) else activity_or_community
    return can(user, Action.MANAGE_PEOPLE, area)


def is_eligible_for_activity(user: User, activity: ServiceActivity) -> bool:
    """Confirmed Party members of the activity's community, and approved volunteers who
    serve there (the community is among, inside or above the areas they serve)."""
    member = PartyMemberRegistration.objects.filter(
        user=user, community=activity.community, status=PartyRegistrationStatus.CONFIRMED
    ).exists()
    if member:
        return True
    volunteer = Volunteer.objects.filter(user=user, status=VolunteerStatus.APPROVED).first()
    if volunteer is None:
        return False
    community_path = activity.community.path
    return any(
        community_path.startswith(a.path) or a.path.startswith(community_path) for a in _volunteer_areas(volunteer)
    )


# --- service hours ------------------------------------------------------------------------
def can_view_community_hours(user: User, community: Area) -> bool:
    return can(user, Action.VIEW_PEOPLE, community)


def can_correct_hours(user: User, community: Area) -> bool:
    return can(user, Action.MANAGE_PEOPLE, community)


# --- home areas ---------------------------------------------------------------------------
def home_area_paths(user: User) -> list[str]:
    """An approved volunteer belongs to the areas they signed up in and serve; a confirmed
    Party member to the community they registered with. Someone still pending (or
    suspended) sees their own records, not the area's alerts, modes and activities: signing
    up must not be a way into any area one names. Registered with
    community.permissions.register_home_area_provider in apps.py."""
    if user is None or not user.is_authenticated:
        return []
    approved = VolunteerStatus.APPROVED
    paths = list(
        Area.objects.filter(
            Q(signed_up_volunteers__user=user, signed_up_volunteers__status=approved)
            | Q(volunteers__user=user, volunteers__status=approved)
            | Q(party_registrations__user=user, party_registrations__status=PartyRegistrationStatus.CONFIRMED)
        ).values_list("path", flat=True).distinct()
    )
    return paths


# --- tasks, offers, assignments -----------------------------------------------------------
def can_manage_task(user: User, task_or_area: Task | Area) -> bool:
    """Create, edit, cancel, close, staff: MANAGE_TASKS over the task's area (its grid
    workers, the community's admins, commanders above)."""
    area = task_or_area.area if isinstance(task_or_area, Task) else task_or_area
    return can(user, Action.MANAGE_TASKS, area)


def can_see_task_personal_data(user: User, task: Task) -> bool:
    return can(user, Action.VIEW_PERSONAL_DATA, task.area)


def personal_data_in_own_right(viewer: User, user_field: str = "user_id") -> Combinable:
    """An annotation for rows naming a person (`user_field`): may `viewer` see that person's
    personal data in their own right — themself, or staff holding VIEW_PERSONAL_DATA where
    the person is a volunteer (signed up or serving), a Party member or a resident?

    Dispatch shows people to a task's staff; this is what keeps it from showing them people
    their role does not cover (a volunteer of another community offered a task through
    mutual aid): those see a masked phone until the person takes a place (see
    phone_shown_on_task)."""
    if not viewer.is_authenticated:
        return Value(False)
    if scope_paths(viewer, Action.VIEW_PERSONAL_DATA) is None:
        return Value(True)
    person = OuterRef(user_field)
    volunteer = Volunteer.objects.filter(user_id=person).filter(_volunteer_scope_q(viewer, Action.VIEW_PERSONAL_DATA))
    member = PartyMemberRegistration.objects.filter(user_id=person).filter(
        scope_q(viewer, Action.VIEW_PERSONAL_DATA, "community__path"))
    resident = Resident.objects.filter(user_id=person).filter(scope_q(viewer, Action.VIEW_PERSONAL_DATA, "grid__path"))
    mine = Q(**{user_field: viewer.pk})
    return ExpressionWrapper(mine | Q(Exists(volunteer)) | Q(Exists(member)) | Q(Exists(resident)),
                             output_field=BooleanField())


def sees_person_in_own_right(viewer: User, user_id: int) -> bool:
    """personal_data_in_own_right for one person (where no annotation was made)."""
    return bool(User.objects.filter(pk=user_id).annotate(shown=personal_data_in_own_right(viewer, "pk"))
                .values_list("shown", flat=True).first())


def phone_shown_on_task(viewer: User, task: Task, *, in_own_right: bool, serving: bool) -> bool:
    """A person's phone on a task's offers, places and timeline: for themself and staff who
    may see them in their own right; for the task's staff with the personal-data right too
    once the person holds (or held to completion) a place, while the task is open — the
    number is for reaching a helper on the way, not a directory."""
    if in_own_right:
        return True
    return serving and not task.is_closed and can_see_task_personal_data(viewer, task)


def visible_tasks(user: User) -> QuerySet[Task]:
    """Staff see the tasks of their areas; anyone sees tasks they were offered or are on."""

    if not user.is_authenticated:
        return Task.objects.none()
    if _everywhere(user, Action.MANAGE_TASKS):
        return Task.objects.all()
    offered = Offer.objects.filter(task_id=OuterRef("pk"), user=user)
    on_it = TaskAssignment.objects.filter(task_id=OuterRef("pk"), user=user)
    return Task.objects.filter(scope_q(user, Action.MANAGE_TASKS, "area__path") | Q(Exists(offered)) | Q(Exists(on_it)))


def visible_offers(user: User) -> QuerySet[Offer]:
    """A person sees their own offers; staff those of their areas' tasks."""

    if not user.is_authenticated:
        return Offer.objects.none()
    if _everywhere(user, Action.MANAGE_TASKS):  # an empty scope Q would be OR-ed away
        return Offer.objects.all()
    return Offer.objects.filter(Q(user=user) | scope_q(user, Action.MANAGE_TASKS, "task__area__path"))


def visible_assignments(user: User) -> QuerySet[TaskAssignment]:
    if not user.is_authenticated:
        return TaskAssignment.objects.none()
    if _everywhere(user, Action.MANAGE_TASKS):
        return TaskAssignment.objects.all()
    return TaskAssignment.objects.filter(Q(user=user) | scope_q(user, Action.MANAGE_TASKS, "task__area__path"))


# --- teams --------------------------------------------------------------------------------
def visible_teams(user: User) -> QuerySet[Team]:
    """Staff see the teams of their areas; a leader their own team, a member with an
    account the teams they belong to."""
    if not user.is_authenticated:
        return Team.objects.none()
    if _everywhere(user, Action.VIEW_PEOPLE):
        return Team.objects.all()
    return Team.objects.filter(Q(leader=user) | Q(members__user=user) | scope_q(user, Action.VIEW_PEOPLE, "area__path")).distinct()


def can_manage_team(user: User, team_or_area: Team | Area) -> bool:
    """Keep the roster and details: staff of the team's area."""
    area = team_or_area.area if isinstance(team_or_area, Team) else team_or_area
    return can(user, Action.MANAGE_RESOURCES, area)


def can_set_team_duty(user: User, team: Team) -> bool:
    """The leader reports their team's duty status; staff of its area may too."""
    return team.leader_id == user.pk or can_manage_team(user, team)


def can_see_team_members(user: User, team: Team) -> bool:
    """Members' phones: the leader, and staff who may see personal data there."""
    return team.leader_id == user.pk or can(user, Action.VIEW_PERSONAL_DATA, team.area)
