"""The Django admin's login, rate-limited like the API's password login (the same per-username
and per-address buckets): staff passwords guard personal data."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from .login import password_login_wait


def throttled_admin_login(request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
    if request.method == "POST":
        seconds = password_login_wait(request.POST.get("username") or "", request.META.get("REMOTE_ADDR", ""))
        if seconds:
            response = HttpResponse(f"Too many login attempts; try again in {seconds} seconds.", status=429,
                                    content_type="text/plain; charset=utf-8")
            response["Retry-After"] = str(seconds)
            return response
    return admin.site.login(request, extra_context)
