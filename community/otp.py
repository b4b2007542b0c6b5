"""A second factor for staff: TOTP (an authenticator app, RFC 6238: 6 digits, 30 s) and
one-time recovery codes.

Who: everyone with a staff role (staff flag, superuser, or any role assignment — they see
personal data) who enrolled; with STAFF_TOTP_REQUIRED, every one of them. The password login
(tokenAuth, the admin) then also needs `otp`: the app's current code (each code works once:
the time step it matched is recorded) or an unused recovery code (then spent).

Enrolment: begin_enrolment gives the secret and an otpauth:// URI for the app (a QR code);
confirm_enrolment takes the first code the app shows and returns the recovery codes, shown
once and stored hashed. A staff member who must enrol and has none yet gets, for the right
password, an enrolment token (valid ENROLMENT_SECONDS) that allows only enrolling: they need
no access token to set up their app. An operator resets a lost authenticator with
`manage.py reset_second_factor <username>`.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
import unicodedata
from dataclasses import dataclass

import pyotp
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from core.signing import LinkInvalid, sign, unsign
from notifications import ratelimit

from .error_codes import CommunityErrorCode
from .models import RecoveryCode, TotpDevice, User

ENROLMENT_SALT = "linli.otp-enrolment"
ENROLMENT_SECONDS = 600
_RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed by hand
_TOTP = re.compile(r"[0-9]{6}")
_RECOVERY = re.compile(f"[{_RECOVERY_ALPHABET}]{{10}}")


class SecondFactorError(Exception):
    def __init__(self, code: CommunityErrorCode, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry_after = retry_after  # seconds, with RATE_LIMITED


@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str


def is_staff_member(user: User) -> bool:
    return bool(user.is_staff or user.is_superuser or user.roles.exists())


def confirmed_device(user: User) -> TotpDevice | None:
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).first()


def needs_second_factor(user: User) -> bool:
    if confirmed_device(user) is not None:
        return True
    return bool(settings.STAFF_TOTP_REQUIRED) and is_staff_member(user)


def check_second_factor(user: User, otp: str | None) -> None:
    """Passes when `user` needs no second factor or `otp` is one; SecondFactorError otherwise."""
    if not needs_second_factor(user):
        return
    device = confirmed_device(user)
    if device is None:
        raise SecondFactorError(CommunityErrorCode.OTP_ENROLMENT_REQUIRED,
                                "Staff accounts need an authenticator app: enrol with the enrolment token.")
    code = _normalise(otp)
    if not code:
        raise SecondFactorError(CommunityErrorCode.OTP_REQUIRED, "Give the code of your authenticator app (otp).")
    if not (_use_totp(device, code) or _use_recovery_code(user, code)):
        raise SecondFactorError(CommunityErrorCode.OTP_INVALID, "Wrong or already used code.")


def _normalise(otp: str | None) -> str:
    # Full-width digits from Chinese keyboards; spaces and dashes as people copy them.
    return re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", otp or "")).upper()


def _matching_step(secret: str, code: str) -> int | None:
    """The time step whose code `code` is, allowing one step of clock drift either way."""
    if not _TOTP.fullmatch(code):
        return None
    totp = pyotp.TOTP(secret)
    now = totp.timecode(timezone.now())
    for step in (now - 1, now, now + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _use_totp(device: TotpDevice, code: str) -> bool:
    step = _matching_step(device.secret, code)
    # A conditional UPDATE: a code (and any older one) works once, even for two requests at once.
    return step is not None and TotpDevice.objects.filter(pk=device.pk, last_counter__lt=step).update(last_counter=step) == 1


def _hash_recovery(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _use_recovery_code(user: User, code: str) -> bool:
    if not _RECOVERY.fullmatch(code):
        return False
    return RecoveryCode.objects.filter(user=user, code_hash=_hash_recovery(code), used_at__isnull=True).update(
        used_at=timezone.now()) == 1


# --- enrolment ---------------------------------------------------------------------------------
def begin_enrolment(user: User) -> Enrolment:
    """A fresh secret for the app (an unconfirmed earlier one is replaced)."""
    if not is_staff_member(user):
        raise SecondFactorError(CommunityErrorCode.INVALID, "Only staff accounts use an authenticator app.")
    if confirmed_device(user) is not None:
        raise SecondFactorError(CommunityErrorCode.ALREADY_ENROLLED, "An authenticator app is already set up.")
    secret = pyotp.random_base32()
    TotpDevice.objects.update_or_create(user=user, defaults={"secret": secret, "confirmed_at": None, "last_counter": 0})
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=settings.TOTP_ISSUER)
    return Enrolment(secret=secret, uri=uri)


def confirm_enrolment(user: User, code: str) -> list[str]:
    """The app works (its code matched): the device is confirmed; the recovery codes, once."""
    allowance = ratelimit.hit(f"otp:enrol:{user.pk}", limit=10, period=3600)
    if not allowance.allowed:
        raise SecondFactorError(CommunityErrorCode.RATE_LIMITED, "Too many tries; begin again later.",
                                retry_after=max(1, math.ceil(allowance.retry_after)))
    device = TotpDevice.objects.filter(user=user, confirmed_at__isnull=True).first()
    if device is None:
        raise SecondFactorError(CommunityErrorCode.NOT_FOUND, "Begin the enrolment first.")
    step = _matching_step(device.secret, _normalise(code))
    if step is None:
        raise SecondFactorError(CommunityErrorCode.OTP_INVALID, "Wrong code: check the app's time and try the next one.")
    with transaction.atomic():
        if not TotpDevice.objects.filter(pk=device.pk, confirmed_at__isnull=True).update(
                confirmed_at=timezone.now(), last_counter=step):
            raise SecondFactorError(CommunityErrorCode.ALREADY_ENROLLED, "An authenticator app is already set up.")
        return new_recovery_codes(user)


def new_recovery_codes(user: User) -> list[str]:
    """TOTP_RECOVERY_CODES fresh codes (the old ones stop working), e.g. "K7QPX-M3WTA"."""
    codes = ["".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10)) for _ in range(settings.TOTP_RECOVERY_CODES)]
    with transaction.atomic():
        RecoveryCode.objects.filter(user=user).delete()
        RecoveryCode.objects.bulk_create([RecoveryCode(user=user, code_hash=_hash_recovery(c)) for c in codes])
    return [f"{c[:5]}-{c[5:]}" for c in codes]


def regenerate_recovery_codes(user: User, otp: str) -> list[str]:
    """New recovery codes for a staff member who shows a code of their app (or a recovery code)."""
    allowance = ratelimit.hit(f"otp:regenerate:{user.pk}", limit=10, period=3600)
    if not allowance.allowed:
        raise SecondFactorError(CommunityErrorCode.RATE_LIMITED, "Too many tries; try again later.",
                                retry_after=max(1, math.ceil(allowance.retry_after)))
    if confirmed_device(user) is None:
        raise SecondFactorError(CommunityErrorCode.NOT_FOUND, "Set up an authenticator app first.")
    check_second_factor(user, otp)
    return new_recovery_codes(user)


def reset_second_factor(user: User) -> None:
    """An operator's answer to a lost authenticator: the next login enrols again."""
    with transaction.atomic():
        TotpDevice.objects.filter(user=user).delete()
        RecoveryCode.objects.filter(user=user).delete()


def enrolment_token(user: User) -> str:
    return sign({"u": user.pk, "p": _password_stamp(user)}, salt=ENROLMENT_SALT)


def user_for_enrolment(token: str | None) -> User | None:
    """The staff member an enrolment token was given to (right password, no app yet)."""
    try:
        payload = unsign(token or "", salt=ENROLMENT_SALT, max_age=ENROLMENT_SECONDS)
    except LinkInvalid:
        return None
    user_id = payload.get("u")
    if not isinstance(user_id, int):
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not secrets.compare_digest(str(payload.get("p", "")), _password_stamp(user)):
        return None
    return user


def _password_stamp(user: User) -> str:
    return salted_hmac(ENROLMENT_SALT, user.password).hexdigest()[:16]
