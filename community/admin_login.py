"""The Django admin's login follows the API's password login: the same limits (per username
and address, per address, per username from unknown devices; a known device's own budget)
and the same second factor for staff (community/login.py, community/otp.py).

A browser is a device like a phone: after a successful login it keeps the known-device
token in a cookie (HttpOnly, for /admin/ only, Secure in production).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from .login import known_device, known_device_token, password_login_wait
from .models import User
from .otp import SecondFactorError, check_second_factor

DEVICE_COOKIE = "linli_admin_device"
_SECOND_FACTOR_MESSAGES = {
    "otp_required": "请输入身份验证器中的验证码（或一个恢复码）。Enter the code of your authenticator app (or a recovery code).",
    "otp_invalid": "验证码错误或已使用。Wrong or already used code.",
    "otp_enrolment_required": ("此账号须先设置身份验证器：用应用登录（tokenAuth → beginTotpEnrolment）。"
                               "Set up an authenticator app first: log in through the app (tokenAuth, then beginTotpEnrolment)."),
}


_NOT_SUPERUSER = ("管理后台仅限超级管理员使用；请使用工作台 /console/。"
                  "The admin is for superusers only; staff work in the console at /console/.")


def superusers_only(request: HttpRequest) -> bool:
    """AdminSite.has_permission: the admin is not scoped by area or role, so only an active
    superuser may use it (README, "Django admin"); staff use the console and the API."""
    user = request.user
    return bool(user.is_active and user.is_superuser)


class SecondFactorAuthenticationForm(AdminAuthenticationForm):
    otp = forms.CharField(label="验证码 Code", required=False, max_length=32,
                          widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}))

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if not user.is_superuser:
            # The admin is not scoped by area (it shows every resident): superusers only.
            raise forms.ValidationError(_NOT_SUPERUSER, code="superuser_only")
        try:
            check_second_factor(user, self.cleaned_data.get("otp"))
        except SecondFactorError as exc:
            raise forms.ValidationError(_SECOND_FACTOR_MESSAGES[exc.code], code=exc.code) from None


def throttled_admin_login(request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponseBase:
    device = None
    if request.method == "POST":
        username = request.POST.get("username") or ""
        device = known_device(request.COOKIES.get(DEVICE_COOKIE), username)
        seconds = password_login_wait(username, request.META.get("REMOTE_ADDR", ""), device)
        if seconds:
            response = HttpResponse(f"Too many login attempts; try again in {seconds} seconds.", status=429,
                                    content_type="text/plain; charset=utf-8")
            response["Retry-After"] = str(seconds)
            return response
    response = admin.site.login(request, extra_context)
    user = getattr(request, "user", None)
    if request.method == "POST" and isinstance(user, User) and user.is_authenticated:
        response.set_cookie(DEVICE_COOKIE, known_device_token(user, device), max_age=settings.KNOWN_DEVICE_DAYS * 86400,
                            path="/admin/", secure=not settings.DEBUG, httponly=True, samesite="Lax")
    return response
