"""The public CAP feed: how public warning systems and aggregators pull Linli's alerts.

    GET /cap/feed.atom[?area=<area code>]   Atom 1.0 index of recent alerts, newest first
    GET /cap/alerts/<identifier>.xml        one alert as an OASIS CAP 1.2 document

The feed follows the common practice of CAP publishers (an Atom index whose entries link to
the CAP documents, as Google Public Alerts and national feeds expect): each entry's id is
the CAP identifier, `updated` its sent time, its link the document with type
application/cap+xml. Updates and cancellations are entries of their own, as in CAP.

Public warnings are public: no login. Only real alerts (status Actual) are published — a
drill never leaves Linli unless CAP_FEED_INCLUDE_DRILLS is set — and CAP_FEED_ENABLED turns
the whole feed off for a deployment that does not publish. The feed covers CAP_FEED_DAYS
days (at most CAP_FEED_MAX_ENTRIES entries); `area` narrows it to the alerts covering that
area (issued on it, above it or within it). Responses are cacheable for a minute, carry
Last-Modified and answer conditional requests, and each address is rate-limited.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from functools import wraps
from typing import Any, Concatenate, ParamSpec

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.xmlutils import SimplerXMLGenerator
from django.views.decorators.cache import cache_control
from django.views.decorators.http import condition, require_safe

from community.models import Area
from core.text import strip_unprintable
from notifications import ratelimit

from ..models import Alert
from . import alert_to_cap

CAP_CONTENT_TYPE = "application/cap+xml"

P = ParamSpec("P")


class CapAtomFeed(Atom1Feed):
    """Atom whose entry links say they are CAP documents."""

    def add_item_elements(self, handler: SimplerXMLGenerator, item: dict[str, Any]) -> None:
        super().add_item_elements(handler, item)
        handler.addQuickElement("link", "", {"rel": "related", "type": CAP_CONTENT_TYPE, "href": item["link"]})


def published() -> QuerySet[Alert]:
    alerts = Alert.objects.all()
    if not settings.CAP_FEED_INCLUDE_DRILLS:
        alerts = alerts.filter(is_drill=False)
    return alerts


def _feed_alerts(request: HttpRequest) -> QuerySet[Alert]:
    since = timezone.now() - dt.timedelta(days=settings.CAP_FEED_DAYS)
    alerts = published().filter(sent_at__gte=since)
    code = request.GET.get("area", "").strip()
    if code:
        area = Area.objects.filter(code=code[:64]).first()
        if area is None:
            raise Http404("No such area.")
        alerts = alerts.filter(Q(area__path__startswith=area.path) | Q(area__path__in=area.ancestor_paths()))
    return alerts.select_related("area").order_by("-sent_at", "-id")


def _guarded(view: Callable[Concatenate[HttpRequest, P], HttpResponse]) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """Off switch and per-address limit, before anything else (conditional requests and
    caching included): a refusal is never cached for others."""

    @wraps(view)
    def guarded(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        if not settings.CAP_FEED_ENABLED:
            raise Http404("This deployment does not publish a CAP feed.")
        address = request.META.get("REMOTE_ADDR", "")
        allowance = ratelimit.hit(f"cap-feed:addr:{address}", limit=settings.CAP_FEED_PER_ADDRESS_PER_MINUTE,
                                  period=60.0)
        if not allowance.allowed:
            response = HttpResponse("Too many requests.", status=429, content_type="text/plain; charset=utf-8")
            response["Retry-After"] = str(max(1, math.ceil(allowance.retry_after)))
            response["Cache-Control"] = "no-store"
            return response
        return view(request, *args, **kwargs)

    return guarded


def _feed_modified(request: HttpRequest) -> dt.datetime | None:
    try:
        latest = _feed_alerts(request).values_list("sent_at", flat=True).first()
    except Http404:
        return None
    return latest


def _alert_modified(request: HttpRequest, identifier: str) -> dt.datetime | None:
    # A later update or cancellation changes nothing in this document: its sent time is it.
    return published().filter(identifier=identifier).values_list("sent_at", flat=True).first()


@require_safe
@_guarded
@cache_control(public=True, max_age=60)
@condition(last_modified_func=_feed_modified)
def cap_feed(request: HttpRequest) -> HttpResponse:
    alerts = list(_feed_alerts(request)[: settings.CAP_FEED_MAX_ENTRIES])
    feed = CapAtomFeed(
        title=f"{settings.CAP_SENDER_NAME} — CAP", link=request.build_absolute_uri(reverse("cap-feed")),
        description="OASIS CAP 1.2 alerts", feed_url=request.build_absolute_uri(request.get_full_path()),
        language="zh-CN", feed_guid=f"urn:linli:cap:{settings.CAP_SENDER}",
    )
    for alert in alerts:
        url = request.build_absolute_uri(reverse("cap-alert", args=[alert.identifier]))
        feed.add_item(
            title=strip_unprintable(alert.headline), link=url, unique_id=f"urn:linli:cap:{alert.identifier}",
            unique_id_is_permalink=False, description=strip_unprintable(alert.instruction or alert.description),
            pubdate=alert.sent_at, updateddate=alert.sent_at, author_name=settings.CAP_SENDER_NAME,
            categories=[alert.msg_type, alert.severity, alert.urgency, alert.area.name],
        )
    response = HttpResponse(content_type=f"{feed.content_type}")
    feed.write(response, "utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_safe
@_guarded
@cache_control(public=True, max_age=60)
@condition(last_modified_func=_alert_modified)
def cap_alert(request: HttpRequest, identifier: str) -> HttpResponse:
    alert = published().select_related("area", "references").filter(identifier=identifier).first()
    if alert is None:
        raise Http404("No such alert.")
    response = HttpResponse(alert_to_cap(alert), content_type=f"{CAP_CONTENT_TYPE}; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    return response
