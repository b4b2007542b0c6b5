"""Volunteers-app services: the only code that changes volunteers, registrations,
activities and the service-hours ledger. Each do_* owns its transaction and raises
django ValidationError(code=VolunteersErrorCode...) on bad input, changing nothing."""

from .activities import (
    ActivitySpec,
    close_forgotten_checkouts,
    do_cancel_activity_signup,
    do_cancel_service_activity,
    do_check_in,
    do_check_out,
    do_publish_service_activity,
    do_sign_up_for_activity,
)
from .export import ExportFile, ExportFormat, export_service_hours
from .hours import (
    HoursSummary,
    Period,
    entries_for,
    hours_summary,
    ledger_community,
    net_hours,
    record_service_hours,
    resolve_range,
)
from .party import RegistrationSpec, do_decide_registration, do_register_party_member
from .profiles import (
    ProfileChanges,
    SkillClaim,
    WindowSpec,
    do_decide_volunteer,
    do_set_on_duty,
    do_set_temporary_location,
    do_sign_up_as_volunteer,
    do_update_volunteer_profile,
    record_offer_outcome,
)

__all__ = [
    "ActivitySpec",
    "ExportFile",
    "ExportFormat",
    "HoursSummary",
    "Period",
    "ProfileChanges",
    "RegistrationSpec",
    "SkillClaim",
    "WindowSpec",
    "close_forgotten_checkouts",
    "do_cancel_activity_signup",
    "do_cancel_service_activity",
    "do_check_in",
    "do_check_out",
    "do_decide_registration",
    "do_decide_volunteer",
    "do_publish_service_activity",
    "do_register_party_member",
    "do_set_on_duty",
    "do_set_temporary_location",
    "do_sign_up_as_volunteer",
    "do_sign_up_for_activity",
    "do_update_volunteer_profile",
    "entries_for",
    "export_service_hours",
    "hours_summary",
    "ledger_community",
    "net_hours",
    "record_offer_outcome",
    "record_service_hours",
    "resolve_range",
]
