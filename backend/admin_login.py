"""The Django admin's login, rate-limited like the API's password login (per username and per
client address, LOGIN_PASSWORD_PER_*_PER_HOUR): staff passwords guard personal data."""

from __future__ import annotations

import math

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from notifications import ratelimit


def throttled_admin_login(request: HttpRequest, extra_context=None) -> HttpResponse:
    if request.method == "POST":
        username = (request.POST.get("username") or "").strip().lower()[:150]
        for key, limit in ((f"login:password:user:{username}", settings.LOGIN_PASSWORD_PER_USER_PER_HOUR),
                           (f"login:password:addr:{request.META.get('REMOTE_ADDR', '')}",
                            settings.LOGIN_PASSWORD_PER_ADDRESS_PER_HOUR)):
            allowance = ratelimit.hit(key, limit=limit, period=3600.0)
            if not allowance.allowed:
                seconds = max(1, math.ceil(allowance.retry_after))
                response = HttpResponse(f"Too many login attempts; try again in {seconds} seconds.", status=429,
                                        content_type="text/plain; charset=utf-8")
                response["Retry-After"] = str(seconds)
                return response
    return admin.site.login(request, extra_context)
