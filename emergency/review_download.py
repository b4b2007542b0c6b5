"""The after-action report as a file a browser downloads: a short-lived signed link.

    report_link(user, area, since, until, drills, base="https://linli.example", language="en", fmt="pdf")  -> URL
    GET /reports/after-action/?t=<signed>[&format=html|pdf|xlsx]   -> the document (attachment)

Staff ask for the report over GraphQL (with their JWT); the `downloadUrl` field gives them a
link a browser can open or save without the token. The link is signed with SECRET_KEY
(django.core.signing), names the person it was made for and the report's area and period,
and lasts AFTER_ACTION_LINK_MAX_AGE seconds (10 minutes by default). Opening it checks again
that the person is active and may still see the area — a role withdrawn since the link was
made closes it — and is rate-limited per person, because a report is a heavy query. The
token also carries the language the report was asked in; `format` (HTML by default, PDF,
XLSX) only chooses the rendering of the same report, so it stays outside the signature.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from community.models import Area, User
from community.permissions import Action, can
from core.signing import LinkExpired, LinkInvalid, sign, unsign
from notifications import ratelimit
from privacy.access import collecting
from privacy.models import Channel

from .review import after_action_report
from .review_files import ReportFormat, report_file
from .review_labels import labels

logger = logging.getLogger(__name__)
SALT = "linli.after-action-report"


def report_token(user: User, area: Area, since: dt.datetime, until: dt.datetime, drills: bool,
                 language: str = "zh-hans") -> str:
    payload = {"u": user.pk, "a": area.pk, "s": since.isoformat(), "e": until.isoformat(), "d": bool(drills),
               "l": labels(language).language}
    return sign(payload, salt=SALT)


def report_link(user: User, area: Area, since: dt.datetime, until: dt.datetime, drills: bool, *, base: str,
                language: str = "zh-hans", fmt: ReportFormat | str = ReportFormat.HTML) -> str:
    token = report_token(user, area, since, until, drills, language)
    suffix = "" if ReportFormat(fmt) == ReportFormat.HTML else f"&format={ReportFormat(fmt).value}"
    return f"{base.rstrip('/')}{reverse('after-action-report')}?t={token}{suffix}"


def _refuse(status: int, text: str) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


@dataclass(frozen=True)
class Link:
    user: User
    area: Area
    since: dt.datetime
    until: dt.datetime
    drills: bool
    language: str


def _read(token: str) -> Link | HttpResponse:
    try:
        payload = unsign(token, salt=SALT, max_age=settings.AFTER_ACTION_LINK_MAX_AGE)
    except LinkExpired:
        return _refuse(410, "链接已过期，请重新获取。This link has expired; ask for a new one.")
    except LinkInvalid:
        return _refuse(403, "链接无效。This link is not valid.")
    try:
        since, until = parse_datetime(payload["s"]), parse_datetime(payload["e"])
        user = User.objects.filter(pk=int(payload["u"]), is_active=True).first()
        area = Area.objects.filter(pk=int(payload["a"])).first()
        drills = bool(payload["d"])
        language = labels(str(payload.get("l", ""))).language  # links made before languages: Chinese
    except (KeyError, TypeError, ValueError):  # signed by us, so only an old format lands here
        return _refuse(403, "链接无效。This link is not valid.")
    if user is None or area is None or since is None or until is None or not can(user, Action.VIEW_AREA, area):
        return _refuse(403, "无权查看该报告。You may not see this report.")
    return Link(user, area, since, until, drills, language)


@never_cache
@require_safe
def download_after_action_report(request: HttpRequest) -> HttpResponse:
    read = _read(request.GET.get("t", ""))
    if isinstance(read, HttpResponse):
        return read
    try:
        fmt = ReportFormat(request.GET.get("format", ReportFormat.HTML.value).lower())
    except ValueError:
        return _refuse(400, "格式无效（html、pdf、xlsx）。Unknown format; use html, pdf or xlsx.")
    allowance = ratelimit.hit(f"report-download:user:{read.user.pk}", limit=settings.AFTER_ACTION_DOWNLOADS_PER_MINUTE,
                              period=60.0)
    if not allowance.allowed:
        response = _refuse(429, "请求过于频繁，请稍后再试。Too many downloads; try again shortly.")
        response["Retry-After"] = str(max(1, math.ceil(allowance.retry_after)))
        return response
    try:
        with collecting(read.user, channel=Channel.EXPORT, operation=f"afterActionReport.{fmt.value}"):
            report = after_action_report(read.area, read.since, read.until, drills=read.drills, viewer=read.user)
    except DjangoValidationError:  # the period was checked when the link was made; kept for safety
        return _refuse(400, "报告时段无效。The report period is not valid.")
    # The file says who took it away and when (the access log says it too).
    report.exported_by = f"{read.user.public_name} (#{read.user.pk})"
    document = report_file(report, fmt, language=read.language)
    response = HttpResponse(document.content, content_type=document.content_type)
    response["Content-Disposition"] = f'attachment; filename="{document.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    # The document is inert (no scripts, inline SVG only): forbid anything else it might try.
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    logger.info("after-action report (%s) for area %s downloaded by user %s", fmt.value, read.area.pk, read.user.pk)
    return response
