import json
from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html
from shapely.geometry import shape
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from privacy import access
from privacy.access import collecting
from privacy.models import Channel, SubjectKind

from .admin_login import SecondFactorAuthenticationForm, superusers_only
from .area_index import metric
from .models import Area, ModeSwitch, RoleAssignment, User
from .privacy import record_resident_reads

# Everything the resident's admin page shows that is sensitive.
ADMIN_RESIDENT_FIELDS = ("phone", "address", "location", "vulnerability", "careNotes", "emergencyContacts")

# The login follows the API's: the same limits (community/admin_login.py) and second factor.
admin.site.login_form = SecondFactorAuthenticationForm
admin.site.login_template = "community/admin_login.html"
# Not scoped by area or role like the API: superusers only, staff are kept out (README).
admin.site.has_permission = superusers_only  # type: ignore[method-assign]


class RoleInline(admin.TabularInline[RoleAssignment, User]):
    model = RoleAssignment
    extra = 0
    autocomplete_fields = ["area"]


def _admin_reads(request: HttpRequest, response: HttpResponse, operation: str,
                 reads: Callable[[Any], list[access.Read]]) -> None:
    """Record what an admin page showed (its context's object or list) in the access log."""
    context = getattr(response, "context_data", None) or {}
    shown = [context["original"]] if context.get("original") is not None else []
    changelist = context.get("cl")
    if changelist is not None:
        shown = list(changelist.result_list)
    found = [read for obj in shown for read in reads(obj)]
    if found:
        access.record(request.user, Channel.ADMIN, operation, found)


def _user_reads(user: Any) -> list[access.Read]:
    return [access.Read(SubjectKind.USER, user.pk, {"phone"}, subject_user_id=user.pk)] if user.phone else []


def _household_reads(household: Any) -> list[access.Read]:
    return [access.Read(SubjectKind.HOUSEHOLD, household.pk, {"address"}, area_path=household.grid.path)] \
        if household.address else []


@admin.register(User)
class LinliUserAdmin(UserAdmin[User]):
    # django-stubs types the base's fieldsets as optional; Django's UserAdmin always sets them.
    fieldsets = (*(UserAdmin.fieldsets or ()), ("Linli", {"fields": ("phone", "display_name", "preferred_language")}))
    list_display = ("username", "display_name", "phone", "is_staff")
    search_fields = ("username", "display_name", "phone")
    inlines = [RoleInline]

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        _admin_reads(request, response, "admin:user.change", _user_reads)
        return response

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        _admin_reads(request, response, "admin:user.list", _user_reads)  # the list shows phones
        return response


@admin.register(Area)
class AreaAdmin(TreeAdmin[Area]):
    form = movenodeform_factory(Area)
    list_display = ("name", "kind", "code", "mode", "has_boundary")
    search_fields = ("name", "code")
    # Boundaries are checked on the way in (community.boundaries): set them with the
    # setAreaBoundary mutation or `manage.py import_boundaries`, never by hand here.
    readonly_fields = ("boundary_summary", "boundary_updated_at", "boundary_geojson")

    @admin.display(boolean=True, description="boundary")
    def has_boundary(self, obj: Area) -> bool:
        return obj.boundary is not None

    @admin.display(description="boundary")
    def boundary_summary(self, obj: Area) -> str:
        if obj.boundary is None:
            return "none (a grid without one is found by its nearest centre)"
        geometry = shape(obj.boundary)
        points = sum(len(p.exterior.coords) + sum(len(i.coords) for i in p.interiors) for p in geometry.geoms)
        return f"{len(geometry.geoms)} polygon(s), {points} points, {metric(geometry).area / 1e6:.3f} km² (WGS-84)"

    @admin.display(description="boundary as GeoJSON (WGS-84)")
    def boundary_geojson(self, obj: Area) -> str:
        if obj.boundary is None:
            return "—"
        return format_html("<pre style='max-height: 20em; overflow: auto'>{}</pre>", json.dumps(obj.boundary)[:50_000])


@admin.register(ModeSwitch)
class ModeSwitchAdmin(admin.ModelAdmin[ModeSwitch]):
    list_display = ("area", "from_mode", "to_mode", "is_drill", "switched_by", "switched_at")
    list_filter = ("is_drill", "to_mode")
    readonly_fields = [f.name for f in ModeSwitch._meta.fields]


# --- community data ------------------------------------------------------------------------
from .models import (  # noqa: E402
    EmergencyContact,
    GeocodeCacheEntry,
    HazardPoint,
    Household,
    Inspection,
    Resident,
    ResidentReport,
)


class EmergencyContactInline(admin.TabularInline[EmergencyContact, Resident]):
    model = EmergencyContact
    fk_name = "resident"
    extra = 0
    raw_id_fields = ["linked_resident", "linked_user"]


@admin.register(Resident)
class ResidentAdmin(admin.ModelAdmin[Resident]):
    list_display = ("display_name", "grid", "is_vulnerable", "geocode_status", "created_at")
    list_filter = ("is_vulnerable", "geocode_status", "grid_overridden", "consent_to_contact")
    search_fields = ("display_name", "phone", "address")
    raw_id_fields = ["user", "household", "created_by"]
    autocomplete_fields = ["grid"]
    readonly_fields = ["is_vulnerable", "h3_cell", "geocode_attempts", "geocode_error", "created_at", "updated_at"]
    inlines = [EmergencyContactInline]

    # The admin is a way in like the API: what it shows goes to the access log (issue 21).
    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        with collecting(request.user, channel=Channel.ADMIN, operation="admin:resident.change"):
            response = super().change_view(request, object_id, form_url, extra_context)
            resident = getattr(response, "context_data", {}).get("original") if response.status_code == 200 else None
            if isinstance(resident, Resident):
                record_resident_reads(request.user, [resident], ADMIN_RESIDENT_FIELDS)  # type: ignore[arg-type]
        return response

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        with collecting(request.user, channel=Channel.ADMIN, operation="admin:resident.list"):
            response = super().changelist_view(request, extra_context)
            changelist = getattr(response, "context_data", {}).get("cl")
            if changelist is not None:  # the list shows is_vulnerable
                record_resident_reads(request.user, changelist.result_list.select_related("grid"),  # type: ignore[arg-type]
                                      {"vulnerability"})
        return response


@admin.register(Household)
class HouseholdAdmin(admin.ModelAdmin[Household]):
    list_display = ("label", "grid", "address")
    search_fields = ("label", "address")
    autocomplete_fields = ["grid"]

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        _admin_reads(request, response, "admin:household.change", _household_reads)
        return response

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        _admin_reads(request, response, "admin:household.list", _household_reads)
        return response


class InspectionInline(admin.TabularInline[Inspection, HazardPoint]):
    model = Inspection
    extra = 0
    raw_id_fields = ["inspected_by"]


@admin.register(HazardPoint)
class HazardPointAdmin(admin.ModelAdmin[HazardPoint]):
    list_display = ("name", "kind", "severity", "grid", "next_inspection_due", "is_active")
    list_filter = ("kind", "severity", "is_active")
    search_fields = ("name", "address")
    autocomplete_fields = ["grid"]
    raw_id_fields = ["created_by"]
    readonly_fields = ["h3_cell", "last_inspected_at"]
    inlines = [InspectionInline]


@admin.register(ResidentReport)
class ResidentReportAdmin(admin.ModelAdmin[ResidentReport]):
    list_display = ("id", "kind", "status", "grid", "created_at")
    list_filter = ("kind", "status")
    search_fields = ("description",)
    raw_id_fields = ["reporter", "resident", "handled_by", "hazard_point"]
    autocomplete_fields = ["grid"]
    readonly_fields = ["h3_cell", "client_key", "photo_content_type", "converted_at", "status_changed_at"]


@admin.register(GeocodeCacheEntry)
class GeocodeCacheEntryAdmin(admin.ModelAdmin[GeocodeCacheEntry]):
    list_display = ("address", "provider", "found", "lat", "lng", "created_at")
    search_fields = ("address",)
    readonly_fields = [f.name for f in GeocodeCacheEntry._meta.fields]
