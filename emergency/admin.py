"""Admin: administrators configure where warnings come from (feeds to poll, webhook senders
and their keys) and look up what came in. Warnings, proposals and readings change only
through ingestion and the API, so those screens are read-only."""

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from .models import IncomingWarning, Sensor, SensorReading, WarningProposal, WarningSource


@admin.register(WarningSource)
class WarningSourceAdmin(admin.ModelAdmin[WarningSource]):
    list_display = ("code", "name", "kind", "is_enabled", "last_polled_at", "last_status", "failures", "last_error")
    list_filter = ("kind", "is_enabled")
    readonly_fields = ("etag", "last_modified", "next_poll_at", "last_polled_at", "last_status", "last_error", "failures")


@admin.register(Sensor)
class SensorAdmin(admin.ModelAdmin[Sensor]):
    list_display = ("code", "name", "kind", "area", "level", "last_value", "last_reading_at", "is_active")
    readonly_fields = ("level", "current_warning", "last_value", "last_reading_at", "h3_cell")


class ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(IncomingWarning)
class IncomingWarningAdmin(ReadOnly, admin.ModelAdmin[IncomingWarning]):
    list_display = ("received_at", "sender", "identifier", "msg_type", "status", "severity", "headline")
    list_filter = ("status", "msg_type", "severity")
    search_fields = ("identifier", "headline", "sender")


@admin.register(WarningProposal)
class WarningProposalAdmin(ReadOnly, admin.ModelAdmin[WarningProposal]):
    list_display = ("created_at", "area", "mode", "status", "decided_at", "seconds_to_decide")
    list_filter = ("status",)


@admin.register(SensorReading)
class SensorReadingAdmin(ReadOnly, admin.ModelAdmin[SensorReading]):
    list_display = ("sensor", "value", "observed_at", "level")
