"""Volunteers, Party members, service activities and the service-hours ledger.

One module per concept; everything is importable from `volunteers.models` (a contract the
dispatch engine builds on). Tasks, offers and the dispatch timeline live in task.py/offer.py.
"""

from .activities import (
    ActivityCheckIn,
    ActivitySignup,
    ActivityStatus,
    CheckInMethod,
    CheckOutMethod,
    ServiceActivity,
    SignupStatus,
)
from .hours import ServiceHoursEntry, ServiceHoursKind
from .offer import AnswerChannel, Offer, OfferPool, OfferStatus, OfferVia, WithdrawReason
from .party import PartyMemberRegistration, PartyRegistrationStatus
from .task import (
    ACTIVE_ASSIGNMENT_STATUSES,
    ACTIVE_TASK_STATUSES,
    CLOSED_TASK_STATUSES,
    DISPATCHABLE_STATUSES,
    SERVING_ASSIGNMENT_STATUSES,
    AreaDispatchOverride,
    AssignmentStatus,
    Task,
    TaskAssignment,
    TaskEvent,
    TaskEventKind,
    TaskPriority,
    TaskSource,
    TaskStatus,
)
from .team import Team, TeamDutyStatus, TeamKind, TeamMember
from .time import LOCAL_TZ, local_date, local_time
from .volunteer import (
    AvailabilityWindow,
    ContactChannel,
    OfferOutcome,
    Skill,
    SmsUnreachableReason,
    Volunteer,
    VolunteerSkill,
    VolunteerStatus,
    nearest_volunteers,
    reliability_score,
)

__all__ = [
    "ACTIVE_ASSIGNMENT_STATUSES",
    "SERVING_ASSIGNMENT_STATUSES",
    "ACTIVE_TASK_STATUSES",
    "CLOSED_TASK_STATUSES",
    "DISPATCHABLE_STATUSES",
    "LOCAL_TZ",
    "AnswerChannel",
    "AreaDispatchOverride",
    "AssignmentStatus",
    "Offer",
    "OfferPool",
    "OfferStatus",
    "OfferVia",
    "Task",
    "TaskAssignment",
    "TaskEvent",
    "TaskEventKind",
    "TaskPriority",
    "TaskSource",
    "TaskStatus",
    "Team",
    "TeamDutyStatus",
    "TeamKind",
    "TeamMember",
    "WithdrawReason",
    "ActivityCheckIn",
    "ActivitySignup",
    "ActivityStatus",
    "AvailabilityWindow",
    "CheckInMethod",
    "CheckOutMethod",
    "ContactChannel",
    "OfferOutcome",
    "PartyMemberRegistration",
    "PartyRegistrationStatus",
    "ServiceActivity",
    "ServiceHoursEntry",
    "ServiceHoursKind",
    "SignupStatus",
    "Skill",
    "SmsUnreachableReason",
    "Volunteer",
    "VolunteerSkill",
    "VolunteerStatus",
    "local_date",
    "local_time",
    "nearest_volunteers",
    "reliability_score",
]
