"""Phone login: a six-digit code by SMS, then tokens. How residents and volunteers log in.

- The code is stored only as an HMAC keyed by SECRET_KEY; it expires (LOGIN_CODE_TTL_SECONDS)
  and allows LOGIN_CODE_MAX_ATTEMPTS guesses; a new request replaces the previous code.
- Requests are throttled per number and per client address, and answer the same whether or
  not the number belongs to an account (the account is created at the first verification).
- SMS pumping (fraudsters requesting codes to premium-rate numbers): codes go only to the
  country codes in LOGIN_CODE_COUNTRY_CODES (default +86), within a budget for the whole
  service per hour (LOGIN_CODES_PER_HOUR) and a limit per block of numbers that differ only
  in their last LOGIN_CODE_PREFIX_DIGITS digits (LOGIN_CODES_PER_PREFIX_PER_HOUR).
- A number that opted out (STOP/退订) is told so, with how to opt back in (OPTED_OUT): no
  code could reach it.
- The SMS goes through the outbox (lane LOGIN: before everything else); its stored body is
  masked once the provider has it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core.errors import field_error, rate_limited

from . import ratelimit
from .consent import is_opted_out
from .error_codes import NotificationsErrorCode
from .models import LoginCode
from .outbox import normalize_phone, queue_sms, supersede_messages

if TYPE_CHECKING:
    # django-stubs reads this alias as settings.AUTH_USER_MODEL (community.User), which
    # notifications may not import: community sits above it.
    from django.contrib.auth.models import _User


@dataclass(frozen=True)
class CodeRequested:
    expires_in: int
    resend_after: int


class LoginCodeError(ValidationError):
    """A ValidationError that must not roll back the attempt counter (see verify)."""


def _hash(phone: str, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"login:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def check_phone(phone: str) -> str:
    normalized = normalize_phone((phone or "").strip()[:32])
    if normalized is None:
        raise field_error("phone", "Not a valid phone number.", NotificationsErrorCode.INVALID_PHONE)
    return normalized


def _throttle(key: str, *, limit: int, period: int, field: str | None = "phone") -> None:
    allowance = ratelimit.hit(key, limit=limit, period=period)
    if not allowance.allowed:
        raise rate_limited(field, int(allowance.retry_after + 0.999), NotificationsErrorCode.RATE_LIMITED)


def check_country(phone: str) -> None:
    """Login codes only to the allowed country codes (SMS pumping goes abroad)."""
    allowed = [str(c).lstrip("+") for c in settings.LOGIN_CODE_COUNTRY_CODES]
    if not any(phone.startswith(f"+{code}") for code in allowed if code):
        shown = ", ".join(f"+{c}" for c in allowed) or "none"
        raise field_error("phone", f"Login codes are sent only to numbers of {shown}.",
                          NotificationsErrorCode.COUNTRY_NOT_SUPPORTED)


def check_not_opted_out(phone: str) -> None:
    if is_opted_out(phone):
        raise field_error(
            "phone", "This number unsubscribed from our SMS (退订), so no code can reach it. Text 订阅 (or START) "
            "to the number our messages come from, then ask for a code again. 该号码已退订短信，请发送“订阅”后重试。",
            NotificationsErrorCode.OPTED_OUT)


def request_login_code(phone: str, *, client_address: str = "") -> CodeRequested:
    """Text a fresh code to `phone`. Same answer for every valid number that may get one."""
    phone = check_phone(phone)
    check_country(phone)
    resend = settings.LOGIN_CODE_RESEND_SECONDS
    _throttle(f"login:request:address:{client_address or 'unknown'}",
              limit=settings.LOGIN_CODES_PER_ADDRESS_PER_HOUR, period=3600, field=None)
    check_not_opted_out(phone)
    _throttle(f"login:request:phone-gap:{phone}", limit=1, period=resend)
    _throttle(f"login:request:phone:{phone}", limit=settings.LOGIN_CODES_PER_PHONE_PER_HOUR, period=3600)
    digits = max(0, int(settings.LOGIN_CODE_PREFIX_DIGITS))
    block = phone[:-digits] if digits else phone
    _throttle(f"login:request:prefix:{block}", limit=settings.LOGIN_CODES_PER_PREFIX_PER_HOUR, period=3600)
    # Last, so that requests refused above never spend it.
    _throttle("login:request:all", limit=settings.LOGIN_CODES_PER_HOUR, period=3600, field=None)
    code = f"{secrets.randbelow(10**6):06d}"
    now = timezone.now()
    ttl = settings.LOGIN_CODE_TTL_SECONDS
    with transaction.atomic():
        replaced = LoginCode.objects.filter(phone=phone, used_at__isnull=True, superseded=False)
        # A code the provider does not have yet is not worth sending: the new one goes instead.
        supersede_messages(replaced, reason="a newer login code was requested")
        replaced.update(superseded=True)
        login_code = LoginCode.objects.create(phone=phone, code_hash=_hash(phone, code), expires_at=now + timedelta(seconds=ttl),
                                              client_address=client_address[:64])
        user = get_user_model().objects.filter(phone=phone).first()
        queue_sms(template="login.code", context={"code": code, "minutes": max(1, ttl // 60)}, purpose="login_code",
                  idempotency_key=f"login-code:{login_code.pk}", phone=phone, to_user=user,
                  related=login_code, redact=("code",))
    return CodeRequested(expires_in=ttl, resend_after=resend)


def verify_login_code(phone: str, code: str, *, client_address: str = "") -> _User:
    """The user (created at first login) when `code` is the number's current code.

    Wrong guesses raise LoginCodeError after counting the attempt; the caller must not roll
    that count back (a rollback would give unlimited guesses)."""
    phone = check_phone(phone)
    _throttle(f"login:verify:address:{client_address or 'unknown'}",
              limit=settings.LOGIN_VERIFY_PER_ADDRESS_PER_HOUR, period=3600, field=None)
    code = unicodedata.normalize("NFKC", code or "").strip()  # full-width digits from Chinese keyboards
    now = timezone.now()
    current = LoginCode.objects.filter(phone=phone, used_at__isnull=True, superseded=False).order_by("-created_at", "-id").first()
    if current is None or current.expires_at <= now:
        raise field_error("code", "The code has expired; request a new one.", NotificationsErrorCode.CODE_EXPIRED, LoginCodeError)
    counted = LoginCode.objects.filter(pk=current.pk, attempts__lt=settings.LOGIN_CODE_MAX_ATTEMPTS).update(attempts=F("attempts") + 1)
    if not counted:
        raise field_error("code", "Too many wrong codes; request a new one.", NotificationsErrorCode.TOO_MANY_ATTEMPTS, LoginCodeError)
    if not (code.isdigit() and hmac.compare_digest(current.code_hash, _hash(phone, code))):
        raise field_error("code", "Wrong code.", NotificationsErrorCode.INVALID_CODE, LoginCodeError)
    if not LoginCode.objects.filter(pk=current.pk, used_at__isnull=True).update(used_at=now):
        raise field_error("code", "The code was already used; request a new one.", NotificationsErrorCode.CODE_EXPIRED, LoginCodeError)
    return _user_for_phone(phone)


def _user_for_phone(phone: str) -> _User:
    User = get_user_model()
    user = User.objects.filter(phone=phone).first()
    if user is not None:
        if not user.is_active:
            raise field_error("phone", "This account is disabled.", NotificationsErrorCode.INVALID_PHONE, LoginCodeError)
        if user.is_staff or user.is_superuser or user.roles.exists():
            # Staff see personal data: a texted code alone (a SIM swap away) is not enough.
            raise field_error("phone", "Staff accounts log in with username and password.",
                              NotificationsErrorCode.USE_PASSWORD_LOGIN, LoginCodeError)
        return user
    try:
        with transaction.atomic():
            user = User(phone=phone)  # the account model gives it an opaque username
            user.set_unusable_password()
            user.save()
    except IntegrityError:
        # A concurrent first login created it.
        user = User.objects.filter(phone=phone).first()
        if user is None:
            raise
    return user
