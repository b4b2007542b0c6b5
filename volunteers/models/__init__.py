"""Volunteers, Party members, service activities and the service-hours ledger.

One module per concept; everything is importable from `volunteers.models` (a contract the
dispatch engine builds on).
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
from .party import PartyMemberRegistration, PartyRegistrationStatus
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
    "LOCAL_TZ",
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
