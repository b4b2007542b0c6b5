"""The after-action report over GraphQL, with the HTML document as a field (`html`)."""

from __future__ import annotations

import graphene
from django.conf import settings
from django.core.exceptions import ValidationError
from graphene.types.generic import GenericScalar

from community.models import Area
from community.permissions import Action
from emergency.review import after_action_report
from emergency.review_download import report_link
from emergency.review_html import render_report_html

from ..community.types import AreaType
from ..core.errors import UserFacingError
from ..core.lookup import get_node_or_error
from ..core.permissions import require
from .review_resources_types import ShelterReviewType, SuppliesReviewType, WarningsReviewType
from .types import SafetyCheckType


class TimelineEntryType(graphene.ObjectType):
    at = graphene.DateTime(required=True)
    kind = graphene.String(required=True, description="switch, alert, safety_check, warning or facility")
    area = graphene.String(required=True)
    title = graphene.String(required=True)
    detail = graphene.String(required=True)


class CurvePoint(graphene.ObjectType):
    minutes = graphene.Float(required=True, description="Since the check started.")
    share = graphene.Float(required=True, description="Share of residents accounted for, 0..1.")


class SafetyCheckReviewType(graphene.ObjectType):
    safety_check = graphene.Field(SafetyCheckType, required=True)
    total = graphene.Int(required=True)
    accounted_for = graphene.Int(required=True)
    safe = graphene.Int(required=True)
    need_help = graphene.Int(required=True)
    unanswered = graphene.Int(required=True)
    vulnerable = graphene.Int(required=True)
    vulnerable_accounted_for = graphene.Int(required=True)
    welfare_tasks = graphene.Int(required=True)
    need_help_tasks = graphene.Int(required=True)
    seconds_to_90_percent = graphene.Float()
    seconds_to_100_percent = graphene.Float()
    curve = graphene.List(graphene.NonNull(CurvePoint), required=True)

    @staticmethod
    def build(r) -> SafetyCheckReviewType:
        return SafetyCheckReviewType(
            safety_check=r.check, total=r.total, accounted_for=r.accounted_for, safe=r.safe, need_help=r.need_help,
            unanswered=r.unanswered, vulnerable=r.vulnerable, vulnerable_accounted_for=r.vulnerable_accounted,
            welfare_tasks=r.welfare_tasks, need_help_tasks=r.need_help_tasks, seconds_to_90_percent=r.seconds_to_90,
            seconds_to_100_percent=r.seconds_to_100, curve=[CurvePoint(minutes=m, share=s) for m, s in r.curve],
        )


class TaskReviewType(graphene.ObjectType):
    created = graphene.Int(required=True)
    staffed = graphene.Int(required=True)
    done = graphene.Int(required=True)
    unstaffed = graphene.Int(required=True)
    cancelled = graphene.Int(required=True)
    by_source = GenericScalar(required=True)
    median_seconds_to_staff = graphene.Float()
    p90_seconds_to_staff = graphene.Float()


class PeopleReviewType(graphene.ObjectType):
    volunteers_on_tasks = graphene.Int(required=True)
    party_members_on_tasks = graphene.Int(required=True)
    volunteers_called = graphene.Int(required=True)
    party_members_called = graphene.Int(required=True)
    answered_available = graphene.Int(required=True)
    answered_unavailable = graphene.Int(required=True)


class MessageReviewType(graphene.ObjectType):
    pushes = graphene.Int(required=True)
    sms_written = graphene.Int(required=True)
    sms_sent = graphene.Int(required=True)
    sms_delivered = graphene.Int(required=True)
    sms_failed = graphene.Int(required=True)
    sms_refused = graphene.Int(required=True)
    by_purpose = GenericScalar(required=True, description='{"alert": {"written": 10, "sent": 9, ...}, ...}')


class AfterActionReportType(graphene.ObjectType):
    area = graphene.Field(AreaType, required=True)
    since = graphene.DateTime(required=True)
    until = graphene.DateTime(required=True)
    drills = graphene.Boolean(required=True)
    timeline = graphene.List(graphene.NonNull(TimelineEntryType), required=True)
    safety_checks = graphene.List(graphene.NonNull(SafetyCheckReviewType), required=True)
    tasks = graphene.Field(TaskReviewType, required=True)
    people = graphene.Field(PeopleReviewType, required=True)
    messages = graphene.Field(MessageReviewType, required=True)
    supplies = graphene.Field(SuppliesReviewType, required=True, description="Supplies used and distributed.")
    shelters = graphene.List(graphene.NonNull(ShelterReviewType), required=True, description="Shelter occupancy over time.")
    warnings = graphene.Field(WarningsReviewType, required=True, description="Warnings received and the time to decide.")
    html = graphene.String(required=True, description="The report as a self-contained HTML document with SVG charts.")
    download_url = graphene.String(
        required=True,
        description="A link to the same document as a file, for a browser to open or save without the token: "
                    "made for you, valid for AFTER_ACTION_LINK_MAX_AGE seconds (10 minutes by default).",
    )

    def resolve_html(self, info):
        return render_report_html(self._report)

    def resolve_download_url(self, info):
        r = self._report
        return report_link(info.context.user, r.area, r.since, r.until, r.drills, base=public_base(info.context))


def public_base(context) -> str:
    """Scheme and host as the client reached us: PUBLIC_BASE_URL when set (behind a proxy),
    else the HTTP request's own, else the WebSocket handshake's."""
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL
    if hasattr(context, "build_absolute_uri"):
        return context.build_absolute_uri("/")
    scope = getattr(getattr(context, "consumer", None), "scope", None) or {}
    headers = dict(scope.get("headers") or [])
    host = headers.get(b"host", b"").decode("latin-1") or "127.0.0.1:8000"
    return f"{'https' if scope.get('scheme') == 'wss' else 'http'}://{host}"


def resolve_after_action_report(info, area_id, since, until, drills):
    area = get_node_or_error(Area, area_id, "area_id")
    require(info, Action.VIEW_AREA, area)
    try:
        report = after_action_report(area, since, until, drills=drills)
    except ValidationError as exc:
        raise UserFacingError("; ".join(exc.messages), "INVALID_PERIOD")
    m = report.messages
    result = AfterActionReportType(
        area=area, since=since, until=until, drills=drills,
        timeline=[TimelineEntryType(at=e.at, kind=e.kind, area=e.area, title=e.title, detail=e.detail) for e in report.timeline],
        safety_checks=[SafetyCheckReviewType.build(r) for r in report.safety_checks],
        tasks=TaskReviewType(**vars(report.tasks)), people=PeopleReviewType(**vars(report.people)),
        messages=MessageReviewType(pushes=m.pushes, sms_written=m.total("written"), sms_sent=m.total("sent"),
                                   sms_delivered=m.total("delivered"), sms_failed=m.total("failed"),
                                   sms_refused=m.total("refused"), by_purpose=m.by_purpose),
        supplies=SuppliesReviewType.build(report.supplies),
        shelters=[ShelterReviewType.build(s) for s in report.shelters],
        warnings=WarningsReviewType.build(report.warnings),
    )
    result._report = report
    return result
