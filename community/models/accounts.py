"""Account security: a resident's new SMS number awaiting proof, and staff second factors
(a TOTP authenticator and one-time recovery codes)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class PhoneVerification(models.Model):
    """A code texted to a number a resident wants as their SMS number (community/phone.py).
    Stored only as an HMAC; a newer request supersedes the older one."""

    resident = models.ForeignKey("community.Resident", on_delete=models.CASCADE, related_name="phone_verifications")
    phone = models.CharField(max_length=20)
    code_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    superseded = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["resident", "phone", "created_at"])]

    def __str__(self) -> str:
        return f"phone verification {self.pk} of resident {self.resident_id}"


class TotpDevice(models.Model):
    """A staff member's authenticator app (RFC 6238, 30 s, 6 digits; community/otp.py). The
    secret must be readable to check codes, like a password-reset key; confirmed once the
    first code from the app matched. `last_counter` refuses a code used before."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp_device")
    secret = models.CharField(max_length=64)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_counter = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "TOTP device"

    def __str__(self) -> str:
        return f"TOTP device of user {self.user_id}"


class RecoveryCode(models.Model):
    """A one-time code for a staff member who lost their authenticator: stored as SHA-256
    (the codes carry 50 random bits; a slow hash adds nothing), used once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64, unique=True)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"recovery code {self.pk} of user {self.user_id}"
