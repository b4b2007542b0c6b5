"""Operators look at the SMS log here: why a message was refused or failed, its transitions,
and what came back. Phones are shown masked; bodies of login codes are already masked."""

from django.contrib import admin

from core.masking import mask_phone

from .models import (
    InboundSms,
    Notification,
    SmsMessage,
    SmsOptOut,
    SmsStatusEvent,
    SmsUnreachableNumber,
)


class SmsStatusEventInline(admin.TabularInline[SmsStatusEvent, SmsMessage]):
    model = SmsStatusEvent
    extra = 0
    can_delete = False
    readonly_fields = ("from_status", "to_status", "provider_status", "error_code", "source", "note", "at")


@admin.register(SmsMessage)
class SmsMessageAdmin(admin.ModelAdmin[SmsMessage]):
    list_display = ("id", "purpose", "lane", "masked", "status", "provider", "error_code", "attempts", "is_drill", "created_at")
    list_filter = ("status", "lane", "purpose", "provider", "route", "is_drill")
    search_fields = ("idempotency_key", "provider_sid")
    readonly_fields = [f.name for f in SmsMessage._meta.fields if f.name != "phone"]
    exclude = ("phone",)
    inlines = [SmsStatusEventInline]

    @admin.display(description="to")
    def masked(self, obj: SmsMessage) -> str:
        return mask_phone(obj.phone)


@admin.register(InboundSms)
class InboundSmsAdmin(admin.ModelAdmin[InboundSms]):
    list_display = ("message_sid", "provider", "masked", "outcome", "intent", "received_at", "processed_at")
    list_filter = ("outcome", "provider")
    readonly_fields = ("message_sid", "provider", "to_phone", "body", "received_at", "processed_at", "outcome", "intent",
                       "prompt")
    exclude = ("phone",)

    @admin.display(description="from")
    def masked(self, obj: InboundSms) -> str:
        return mask_phone(obj.phone)


@admin.register(SmsOptOut)
class SmsOptOutAdmin(admin.ModelAdmin[SmsOptOut]):
    list_display = ("__str__", "source", "keyword", "opted_out_at")
    list_filter = ("source",)


@admin.register(SmsUnreachableNumber)
class SmsUnreachableNumberAdmin(admin.ModelAdmin[SmsUnreachableNumber]):
    """Numbers carriers keep reporting dead; deleting a row lets the number be texted again."""

    list_display = ("__str__", "failures", "last_code", "unreachable_since", "last_failed_at")
    readonly_fields = ("failures", "last_code", "first_failed_at", "last_failed_at", "unreachable_since")
    exclude = ("phone",)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin[Notification]):
    list_display = ("id", "user", "kind", "title", "is_drill", "created_at", "read_at")
    list_filter = ("kind", "is_drill")
    raw_id_fields = ("user",)
