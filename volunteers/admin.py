"""Admin: administrators manage the skills list; the rest is for looking things up. State
changes (approvals, confirmations, check-ins, hours, tasks) go through the services and the API,
so the ledger and the records stay consistent — those screens are read-only."""

from typing import TypeVar

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from .models import (
    ActivityCheckIn,
    ActivitySignup,
    AreaDispatchOverride,
    AvailabilityWindow,
    Offer,
    PartyMemberRegistration,
    ServiceActivity,
    ServiceHoursEntry,
    Skill,
    Task,
    TaskAssignment,
    TaskEvent,
    Volunteer,
    VolunteerSkill,
)

_M = TypeVar("_M", bound=Model)
_P = TypeVar("_P", bound=Model)


class ReadOnlyAdmin(admin.ModelAdmin[_M]):
    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline[_M, _P]):
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin[Skill]):
    list_display = ("code", "name_zh", "name_en", "requires_certificate", "is_active", "sort_order")
    list_editable = ("is_active", "sort_order")
    search_fields = ("code", "name_zh", "name_en")

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False  # deactivate instead: volunteers' skills refer to it


class VolunteerSkillInline(ReadOnlyInline[VolunteerSkill, Volunteer]):
    model = VolunteerSkill


class AvailabilityInline(ReadOnlyInline[AvailabilityWindow, Volunteer]):
    model = AvailabilityWindow


@admin.register(Volunteer)
class VolunteerAdmin(ReadOnlyAdmin[Volunteer]):
    list_display = ("user", "status", "area", "contact_channel", "on_duty_until", "completed_count", "signed_up_at")
    list_filter = ("status", "contact_channel")
    search_fields = ("user__username", "user__display_name", "user__phone")
    list_select_related = ("user", "area")
    inlines = [VolunteerSkillInline, AvailabilityInline]


@admin.register(PartyMemberRegistration)
class PartyMemberRegistrationAdmin(ReadOnlyAdmin[PartyMemberRegistration]):
    list_display = ("name", "community", "work_unit", "party_branch", "status", "created_at", "confirmed_at")
    list_filter = ("status",)
    search_fields = ("name", "work_unit", "party_branch", "user__phone")
    list_select_related = ("community",)


class SignupInline(ReadOnlyInline[ActivitySignup, ServiceActivity]):
    model = ActivitySignup


class CheckInInline(ReadOnlyInline[ActivityCheckIn, ServiceActivity]):
    model = ActivityCheckIn


@admin.register(ServiceActivity)
class ServiceActivityAdmin(ReadOnlyAdmin[ServiceActivity]):
    list_display = ("title", "community", "starts_at", "ends_at", "capacity", "signed_up_count", "status")
    list_filter = ("status",)
    search_fields = ("title",)
    inlines = [SignupInline, CheckInInline]


@admin.register(ServiceHoursEntry)
class ServiceHoursEntryAdmin(ReadOnlyAdmin[ServiceHoursEntry]):
    list_display = ("id", "user", "community", "hours", "kind", "occurred_at", "corrects", "created_by")
    list_filter = ("kind",)
    search_fields = ("user__username", "user__display_name", "reason")
    list_select_related = ("user", "community", "created_by", "corrects")


# --- tasks and dispatch (read-only: every change goes through the services and the timeline)
class OfferInline(ReadOnlyInline[Offer, Task]):
    model = Offer
    fields = ("user", "status", "wave", "rank", "distance_m", "offered_at", "expires_at", "answered_at", "answered_via")


class AssignmentInline(ReadOnlyInline[TaskAssignment, Task]):
    model = TaskAssignment
    fields = ("user", "status", "assigned_at", "on_site_at", "completed_at", "ended_at")


class TaskEventInline(ReadOnlyInline[TaskEvent, Task]):
    model = TaskEvent
    fields = ("at", "kind", "actor", "subject", "wave", "data")


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin[Task]):
    list_display = ("title", "area", "priority", "status", "headcount", "filled_count", "wave_count", "is_drill", "created_at")
    list_filter = ("status", "priority", "source", "is_drill")
    search_fields = ("title",)
    list_select_related = ("area",)
    inlines = [AssignmentInline, OfferInline, TaskEventInline]


@admin.register(AreaDispatchOverride)
class AreaDispatchOverrideAdmin(ReadOnlyAdmin[AreaDispatchOverride]):
    list_display = ("area", "params", "reason", "set_by", "set_at")
