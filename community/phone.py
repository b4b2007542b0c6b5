"""A resident's SMS number changes only for someone who can read texts sent to it.

From the app, a resident may set their SMS number to the number they logged in with (they
proved it then) or clear it explicitly. Any other number gets a six-digit code by SMS and
becomes theirs when they type it back (check_phone_code, through
community.residents.do_confirm_my_phone). The answer to the request is the same whoever holds
the number, so it tells nothing about other residents (the PHONE_TAKEN oracle: issue 13,
point 7). Only a person who proved the number may learn that another resident is registered
with it. Staff registering residents are still told (community/residents.py): they see the
data anyway.

Codes are stored as an HMAC, expire, allow a few guesses, and are throttled per resident,
per number and per client address; like login codes they go only to the allowed country
codes (SMS pumping); the SMS goes through the outbox.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.errors import field_error, rate_limited
from notifications import ratelimit
from notifications.outbox import queue_sms

from .error_codes import CommunityErrorCode
from .models import PhoneVerification, Resident, User
from .validation import clean_phone


class PhoneCodeError(ValidationError):
    """A wrong, expired or spent code: the counted attempt must not be rolled back."""


@dataclass(frozen=True)
class PhoneCodeSent:
    phone: str
    expires_in: int
    resend_after: int


def verified_phone(user: User) -> str | None:
    """The number the person proved by logging in with a texted code, if any."""
    return str(user.phone) if user.phone else None


def _hash(resident: Resident, phone: str, code: str) -> str:
    message = f"resident-phone:{resident.pk}:{phone}:{code}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def _throttle(key: str, limit: int, period: int) -> None:
    allowance = ratelimit.hit(key, limit=limit, period=period)
    if not allowance.allowed:
        raise rate_limited("phone", int(allowance.retry_after + 0.999), CommunityErrorCode.RATE_LIMITED)


def _check_country(phone: str) -> None:
    # The login codes' allow-list (notifications/login.py, issue 13 point 9: SMS pumping goes
    # abroad); read with a default because that setting belongs to the login-code change.
    allowed = [str(c).lstrip("+") for c in getattr(settings, "LOGIN_CODE_COUNTRY_CODES", ["86"])]
    if not any(phone.startswith(f"+{code}") for code in allowed if code):
        raise field_error("phone", f"Codes are sent only to numbers of {', '.join(f'+{c}' for c in allowed)}.",
                          CommunityErrorCode.INVALID_PHONE)


def request_phone_code(resident: Resident, phone: str, *, client_address: str = "") -> PhoneCodeSent:
    """Text a code to `phone` for `resident`. Same answer whether or not the number is free."""
    ttl, resend = settings.LOGIN_CODE_TTL_SECONDS, settings.LOGIN_CODE_RESEND_SECONDS
    _check_country(phone)
    _throttle(f"phone-change:resident:{resident.pk}", settings.PHONE_CHANGES_PER_RESIDENT_PER_DAY, 86400)
    _throttle(f"phone-change:address:{client_address or 'unknown'}", settings.LOGIN_CODES_PER_ADDRESS_PER_HOUR, 3600)
    _throttle(f"phone-change:phone-gap:{phone}", 1, resend)
    _throttle(f"phone-change:phone:{phone}", settings.LOGIN_CODES_PER_PHONE_PER_HOUR, 3600)
    code = f"{secrets.randbelow(10**6):06d}"
    with transaction.atomic():
        PhoneVerification.objects.filter(resident=resident, used_at__isnull=True, superseded=False).update(superseded=True)
        pending = PhoneVerification.objects.create(resident=resident, phone=phone, code_hash=_hash(resident, phone, code),
                                                   expires_at=timezone.now() + timedelta(seconds=ttl))
        queue_sms(template="login.code", context={"code": code, "minutes": max(1, ttl // 60)}, purpose="phone_verification",
                  idempotency_key=f"phone-code:{pending.pk}", phone=phone, related=pending, redact=("code",),
                  language=resident.preferred_language)
    return PhoneCodeSent(phone=phone, expires_in=ttl, resend_after=resend)


def check_phone_code(resident: Resident, phone: str, code: str) -> str:
    """The number (E.164) proved by `code`, the one last texted to it for `resident`.

    Raises PhoneCodeError after counting a wrong guess (the caller must commit the count)."""
    target = clean_phone(phone)
    code = unicodedata.normalize("NFKC", code or "").strip()  # full-width digits from Chinese keyboards
    current = (PhoneVerification.objects.filter(resident=resident, phone=target or "", used_at__isnull=True, superseded=False)
               .order_by("-created_at", "-id").first())
    if current is None or current.expires_at <= timezone.now():
        raise field_error("code", "The code has expired; ask for a new one.", CommunityErrorCode.CODE_EXPIRED, PhoneCodeError)
    counted = PhoneVerification.objects.filter(pk=current.pk, attempts__lt=settings.LOGIN_CODE_MAX_ATTEMPTS).update(
        attempts=F("attempts") + 1)
    if not counted:
        raise field_error("code", "Too many wrong codes; ask for a new one.", CommunityErrorCode.TOO_MANY_ATTEMPTS, PhoneCodeError)
    if not (code.isascii() and code.isdigit() and hmac.compare_digest(current.code_hash, _hash(resident, current.phone, code))):
        raise field_error("code", "Wrong code.", CommunityErrorCode.INVALID_CODE, PhoneCodeError)
    if not PhoneVerification.objects.filter(pk=current.pk, used_at__isnull=True).update(used_at=timezone.now()):
        raise field_error("code", "The code was already used.", CommunityErrorCode.CODE_EXPIRED, PhoneCodeError)
    return current.phone
