from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from .models import Area, ModeSwitch, RoleAssignment, User


class RoleInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    autocomplete_fields = ["area"]


@admin.register(User)
class LinliUserAdmin(UserAdmin):
    fieldsets = UserAdmin.fieldsets + (("Linli", {"fields": ("phone", "display_name", "preferred_language")}),)
    list_display = ("username", "display_name", "phone", "is_staff")
    search_fields = ("username", "display_name", "phone")
    inlines = [RoleInline]


@admin.register(Area)
class AreaAdmin(TreeAdmin):
    form = movenodeform_factory(Area)
    list_display = ("name", "kind", "code", "mode")
    search_fields = ("name", "code")


@admin.register(ModeSwitch)
class ModeSwitchAdmin(admin.ModelAdmin):
    list_display = ("area", "from_mode", "to_mode", "is_drill", "switched_by", "switched_at")
    list_filter = ("is_drill", "to_mode")
    readonly_fields = [f.name for f in ModeSwitch._meta.fields]
