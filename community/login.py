"""Password login for staff (the API's tokenAuth and the Django admin share these limits).

Staff passwords guard personal data, so a password cannot be guessed at the speed of the
network: every attempt counts against the username and against the client's address.
"""

from __future__ import annotations

import math

from django.conf import settings

from notifications import ratelimit


def password_login_wait(username: str, address: str) -> int:
    """Count one password attempt (API or admin); 0 if allowed, else seconds to wait."""
    keys = [(f"login:password:user:{(username or '').strip().lower()[:150]}", settings.LOGIN_PASSWORD_PER_USER_PER_HOUR)]
    if address:
        keys.append((f"login:password:addr:{address}", settings.LOGIN_PASSWORD_PER_ADDRESS_PER_HOUR))
    for key, limit in keys:
        allowance = ratelimit.hit(key, limit=limit, period=3600.0)
        if not allowance.allowed:
            return max(1, math.ceil(allowance.retry_after))
    return 0
