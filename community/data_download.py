"""GET /me/data/?t=<signed>&format=json|xlsx: a person's own data (privacy.my_data; the view lives
here, above notifications, for its rate limiter).

The link names the person it was made for and lasts MY_DATA_LINK_MAX_AGE seconds; it also
carries a fragment of the password hash, so a password change (or an erased account) closes
every link made before it. Rate-limited per person: a full export is a heavy read."""

from __future__ import annotations

import logging
import math

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from core.signing import LinkExpired, LinkInvalid, unsign
from notifications import ratelimit
from privacy.my_data import SALT, DataFormat, as_json, as_xlsx, collect, link_max_age

logger = logging.getLogger(__name__)
CONTENT_TYPES = {DataFormat.JSON: "application/json; charset=utf-8",
                 DataFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _refuse(status: int, text: str) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


@never_cache
@require_safe
def download_my_data(request: HttpRequest) -> HttpResponse:
    try:
        payload = unsign(request.GET.get("t", ""), salt=SALT, max_age=link_max_age())
    except LinkExpired:
        return _refuse(410, "链接已过期，请重新获取。This link has expired; ask for a new one.")
    except LinkInvalid:
        return _refuse(403, "链接无效。This link is not valid.")
    user_id = payload.get("u")
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first() if isinstance(user_id, int) else None
    if user is None or user.password[-12:] != payload.get("p"):
        return _refuse(403, "链接无效。This link is not valid.")
    try:
        fmt = DataFormat(request.GET.get("format", DataFormat.JSON.value).lower())
    except ValueError:
        return _refuse(400, "格式无效（json、xlsx）。Unknown format; use json or xlsx.")
    allowance = ratelimit.hit(f"my-data:user:{user.pk}", limit=settings.MY_DATA_DOWNLOADS_PER_MINUTE, period=60.0)
    if not allowance.allowed:
        response = _refuse(429, "请求过于频繁，请稍后再试。Too many downloads; try again shortly.")
        response["Retry-After"] = str(max(1, math.ceil(allowance.retry_after)))
        return response
    data = collect(user)
    content = as_json(data) if fmt == DataFormat.JSON else as_xlsx(data)
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="linli-my-data-{user.pk}.{fmt.value}"'
    response["X-Content-Type-Options"] = "nosniff"
    logger.info("personal data export (%s) downloaded by user %s", fmt.value, user.pk)
    return response
