import json

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.html import format_html
from shapely.geometry import shape
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from .admin_login import SecondFactorAuthenticationForm, superusers_only
from .area_index import metric
from .models import Area, ModeSwitch, RoleAssignment, User

# The login follows the API's: the same limits (community/admin_login.py) and second factor.
admin.site.login_form = SecondFactorAuthenticationForm
admin.site.login_template = "community/admin_login.html"
# Not scoped by area or role like the API: superusers only, staff are kept out (README).
admin.site.has_permission = superusers_only  # type: ignore[method-assign]


class RoleInline(admin.TabularInline[RoleAssignment, User]):
    model = RoleAssignment
    extra = 0
    autocomplete_fields = ["area"]


@admin.register(User)
class LinliUserAdmin(UserAdmin[User]):
    # django-stubs types the base's fieldsets as optional; Django's UserAdmin always sets them.
    fieldsets = (*(UserAdmin.fieldsets or ()), ("Linli", {"fields": ("phone", "display_name", "preferred_language")}))
    list_display = ("username", "display_name", "phone", "is_staff")
    search_fields = ("username", "display_name", "phone")
    inlines = [RoleInline]


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


@admin.register(Household)
class HouseholdAdmin(admin.ModelAdmin[Household]):
    list_display = ("label", "grid", "address")
    search_fields = ("label", "address")
    autocomplete_fields = ["grid"]


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
