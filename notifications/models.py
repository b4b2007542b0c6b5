"""Notifications: SMS consent (opt-out) now; the outbox, inbound log and push history follow."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField


class SmsOptOut(models.Model):
    """A phone number that texted STOP (or was reported unsubscribed by the provider, 21610).

    While the row exists nothing is sent to the number; START removes it. Keyed by number, not
    by user, because residents registered by staff may have a phone but no account.
    """

    phone = PhoneNumberField(unique=True)
    source = models.CharField(max_length=32, default="keyword", help_text="keyword, provider or staff")
    keyword = models.CharField(max_length=32, blank=True)
    opted_out_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        from community.models import mask_phone

        return f"opt-out {mask_phone(str(self.phone))}"
