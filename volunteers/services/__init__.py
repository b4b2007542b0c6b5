"""Volunteers-app services: the only code that changes volunteers, registrations,
activities, the service-hours ledger, tasks, offers and assignments. Each writing function
owns its transaction and raises django ValidationError(code=VolunteersErrorCode...) on bad
input, changing nothing.

Tasks for other apps (a response plan, a safety check): create_task(TaskSpec(...), area=...); dispatch
parameters per area and priority: dispatch_parameters(...), set_area_dispatch_override(...),
clear_area_dispatch_override(...); metrics for an after-action review: task_metrics(task),
area_dispatch_metrics(area, ...)."""

from ..dispatch.parameters import (
    DispatchParameters,
    clear_area_dispatch_override,
    dispatch_parameters,
    set_area_dispatch_override,
)
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
from .assignments import (
    check_in_on_site,
    complete_assignment,
    mark_en_route,
    remove_person,
    withdraw_from_task,
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
from .offers import AnswerOutcome, OfferAnswer, handle_offer_reply, respond_to_offer
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
from .task_closing import ClosingResult, close_tasks, is_held, join_help_request, stop_recruiting
from .task_metrics import (
    AreaDispatchMetrics,
    DrillFilter,
    TaskMetrics,
    area_dispatch_metrics,
    task_metrics,
)
from .task_people import add_person, offer_task_to
from .tasks import (
    TaskChanges,
    TaskSpec,
    cancel_task,
    close_task,
    create_task,
    create_task_from_report,
    edit_task,
    resident_reported_safe,
    set_task_headcount,
    start_dispatch,
)

__all__ = [
    "ActivitySpec",
    "ClosingResult",
    "close_tasks",
    "is_held",
    "join_help_request",
    "stop_recruiting",
    "AnswerOutcome",
    "AreaDispatchMetrics",
    "DrillFilter",
    "TaskMetrics",
    "area_dispatch_metrics",
    "task_metrics",
    "DispatchParameters",
    "OfferAnswer",
    "TaskChanges",
    "add_person",
    "cancel_task",
    "check_in_on_site",
    "clear_area_dispatch_override",
    "close_task",
    "complete_assignment",
    "TaskSpec",
    "create_task",
    "create_task_from_report",
    "dispatch_parameters",
    "edit_task",
    "handle_offer_reply",
    "mark_en_route",
    "offer_task_to",
    "remove_person",
    "resident_reported_safe",
    "respond_to_offer",
    "set_area_dispatch_override",
    "set_task_headcount",
    "start_dispatch",
    "withdraw_from_task",
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
