"""Password login for staff (the API's tokenAuth and the Django admin share these limits).

Staff passwords guard personal data, so a password cannot be guessed at the speed of the
network; and staff usernames are predictable (commander1), so nobody else's guesses may keep
the real person out. Every attempt counts against:
- from a device that never logged in as this user: the (username, address) pair, the
  address, and the username across all addresses (LOGIN_PASSWORD_PER_USER_ADDRESS_PER_HOUR,
  …_PER_ADDRESS_…, …_PER_USER_…): guessing from many addresses stays bounded, and what it
  uses up slows only unknown devices;
- from a known device: that device alone (…_PER_DEVICE_…). A device is known by the token
  it received at its last successful login (known_device_token): signed, for one user, and
  void once the password changes. Someone guessing commander1's password from elsewhere uses
  up other buckets, so the commander's own phone still logs in.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.utils.crypto import salted_hmac

from core.signing import LinkInvalid, sign, unsign
from notifications import ratelimit

from .models import User

DEVICE_SALT = "linli.known-device"


@dataclass(frozen=True)
class KnownDevice:
    user_id: int
    device_id: str


def _password_stamp(user: User) -> str:
    # Changes with the password: a new password forgets every known device.
    return salted_hmac(DEVICE_SALT, user.password).hexdigest()[:16]


def known_device_token(user: User, device: KnownDevice | None = None) -> str:
    """The token a device keeps after logging in as `user` (the same device id on renewal)."""
    device_id = device.device_id if device is not None and device.user_id == user.pk else secrets.token_hex(8)
    return sign({"u": user.pk, "d": device_id, "p": _password_stamp(user)}, salt=DEVICE_SALT)


def known_device(token: str | None, username: str) -> KnownDevice | None:
    """The device `token` names, if it logged in as `username` before and is still valid."""
    if not token:
        return None
    try:
        payload = unsign(token, salt=DEVICE_SALT, max_age=settings.KNOWN_DEVICE_DAYS * 86400)
    except LinkInvalid:
        return None
    user_id = payload.get("u")
    if not isinstance(user_id, int):
        return None
    user = User.objects.filter(pk=user_id).only("pk", "username", "password").first()
    if user is None or user.username.lower() != (username or "").strip().lower():
        return None
    if not secrets.compare_digest(str(payload.get("p", "")), _password_stamp(user)):
        return None
    return KnownDevice(user_id=user.pk, device_id=str(payload.get("d", "")))


def password_login_wait(username: str, address: str, device: KnownDevice | None = None) -> int:
    """Count one password attempt (API or admin); 0 if allowed, else seconds to wait."""
    name = (username or "").strip().lower()[:150]
    if device is not None:
        keys = [(f"login:password:device:{device.user_id}:{device.device_id}", settings.LOGIN_PASSWORD_PER_DEVICE_PER_HOUR)]
    else:
        keys = [(f"login:password:user-addr:{name}:{address or 'unknown'}", settings.LOGIN_PASSWORD_PER_USER_ADDRESS_PER_HOUR),
                (f"login:password:addr:{address or 'unknown'}", settings.LOGIN_PASSWORD_PER_ADDRESS_PER_HOUR),
                (f"login:password:user:{name}", settings.LOGIN_PASSWORD_PER_USER_PER_HOUR)]
    for key, limit in keys:
        allowance = ratelimit.hit(key, limit=limit, period=3600.0)
        if not allowance.allowed:
            return max(1, math.ceil(allowance.retry_after))
    return 0
