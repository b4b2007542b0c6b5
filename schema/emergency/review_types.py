"""The after-action report over GraphQL, with the HTML document as a field (`html`)."""

from __future__ import annotations

import graphene
from django.conf import settings
from django.core.exceptions import ValidationError
from graphene.types.generic import GenericScalar
from graphql_relay import to_global_id

from community.models import Area
from community.permissions import Action
from emergency.review import after_action_report
from emergency.review_download import report_link
from emergency.review_files import ReportFormat
from emergency.review_html import render_report_html
from emergency.review_labels import labels

from ..community.types import AreaType
from ..core.errors import UserFacingError
from ..core.lookup import get_node_or_error
from ..core.permissions import require
from ..core.types import plain
from .review_resources_types import ShelterReviewType, SuppliesReviewType, WarningsReviewType
from .types import SafetyCheckType

ReportFormatEnum = graphene.Enum("AfterActionReportFormat", [(f.name, f.value) for f in ReportFormat],
                                 description="HTML (default), PDF (the same document, server-rendered) or XLSX (its tables).")


class TimelineEntryType(graphene.ObjectType):
    at = graphene.DateTime(required=True)
    kind = graphene.String(required=True, description="switch, alert, safety_check, wind_down, warning or facility")
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
    """Counted when the report was made: `smsQueuedNow` is what is still waiting then."""

    pushes = graphene.Int(required=True, description="Device pushes handed to APNs, FCM or JPush (not rows written).")
    sms_written = graphene.Int(required=True)
    sms_sent = graphene.Int(required=True)
    sms_delivered = graphene.Int(required=True)
    sms_failed = graphene.Int(required=True)
    sms_refused = graphene.Int(required=True)
    sms_queued_now = graphene.Int(required=True, description="Still queued (or being sent) at report time.")
    sms_superseded = graphene.Int(required=True, description="Dropped unsent: no longer true when their turn came.")
    by_purpose = GenericScalar(required=True, description='{"alert": {"written": 10, "sent": 9, ...}, ...}')
    by_lane = GenericScalar(required=True, description='SMS by urgency lane: {"life_safety": {"written": .., "queued_now": .., '
                                                       '"sent": .., "delivered": .., "failed": .., "refused": .., "superseded": ..}, '
                                                       '"offers": {...}, "courtesy": {...}}')
    by_channel = GenericScalar(required=True, description='{"sms": {...same keys}, "push": {... + "acknowledged"}, "voice": {...}}: '
                                                          'push sent = handed to the provider, delivered = shown, '
                                                          'acknowledged = opened; voice sent = placed, delivered = answered by key')


class AreaReviewRowType(graphene.ObjectType):
    """One area of the breakdown; level 0 is the report's area (the total)."""

    area = graphene.Field(AreaType, required=True)
    level = graphene.Int(required=True)
    residents = graphene.Int(required=True, description="Safety-check rows (a resident in a check).")
    asked = graphene.Int(required=True)
    reached = graphene.Int(required=True, description="Answered, the question's SMS delivered, or its push opened in the app.")
    safe = graphene.Int(required=True)
    need_help = graphene.Int(required=True)
    silent = graphene.Int(required=True)
    unreachable = graphene.Int(required=True, description="Could not be asked (no app, no usable number) or the SMS failed.")
    vulnerable = graphene.Int(required=True)
    vulnerable_accounted_for = graphene.Int(required=True)
    welfare_visits = graphene.Int(required=True)
    welfare_visits_done = graphene.Int(required=True)
    tasks_created = graphene.Int(required=True)
    tasks_staffed = graphene.Int(required=True)
    tasks_done = graphene.Int(required=True)
    tasks_open = graphene.Int(required=True)
    median_seconds_to_staff = graphene.Float()
    help_to_site_p50_seconds = graphene.Float(description="Help request to the first volunteer on site, median.")
    help_to_site_p90_seconds = graphene.Float()

    @staticmethod
    def build(row) -> AreaReviewRowType:
        names = ("residents", "asked", "reached", "safe", "need_help", "silent", "unreachable", "vulnerable",
                 "welfare_visits", "welfare_visits_done", "tasks_created", "tasks_staffed", "tasks_done", "tasks_open",
                 "median_seconds_to_staff")
        return AreaReviewRowType(area=row.area, level=row.level, vulnerable_accounted_for=row.vulnerable_accounted,
                                 help_to_site_p50_seconds=row.help_to_site_p50, help_to_site_p90_seconds=row.help_to_site_p90,
                                 **{n: getattr(row, n) for n in names})


class OpenTaskRowType(graphene.ObjectType):
    task_id = graphene.ID(required=True)
    title = graphene.String(required=True)
    area = graphene.String(required=True)
    priority = graphene.String(required=True)
    status = graphene.String(required=True)
    filled = graphene.Int(required=True)
    headcount = graphene.Int(required=True)
    people_to_help = graphene.Int(required=True)
    created_at = graphene.DateTime(required=True)


class SilentVulnerableType(graphene.ObjectType):
    name = graphene.String(required=True, description="Masked unless you may see that grid's personal data.")
    grid = graphene.String(required=True)
    safety_check = graphene.String(required=True)
    welfare_visit_status = graphene.String(description="The welfare visit's task status; null: none raised.")


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
    breakdown = graphene.List(graphene.NonNull(AreaReviewRowType), required=True,
                              description="The area (level 0, the total), then every area below it down to the grids.")
    open_tasks = graphene.List(graphene.NonNull(OpenTaskRowType), required=True,
                               description="Tasks still open at report time, life-safety first (at most 200).")
    open_tasks_total = graphene.Int(required=True)
    silent_vulnerable = graphene.List(graphene.NonNull(SilentVulnerableType), required=True,
                                      description="Vulnerable residents still silent (at most 200).")
    silent_vulnerable_total = graphene.Int(required=True)
    help_to_site_p50_seconds = graphene.Float(description="Help request (NEED_HELP) to the first volunteer on site, median.")
    help_to_site_p90_seconds = graphene.Float()
    generated_at = graphene.DateTime(required=True)
    language = graphene.String(required=True, description="The language of html and the files: zh-hans or en.")
    supplies = graphene.Field(SuppliesReviewType, required=True, description="Supplies used and distributed.")
    shelters = graphene.List(graphene.NonNull(ShelterReviewType), required=True, description="Shelter occupancy over time.")
    warnings = graphene.Field(WarningsReviewType, required=True, description="Warnings received and the time to decide.")
    html = graphene.String(required=True, description="The report as a self-contained HTML document with SVG charts, "
                                                      "every label in `language`.")
    download_url = graphene.String(
        required=True, format=ReportFormatEnum(default_value=ReportFormat.HTML.value),
        description="A link to the same report as a file (HTML, PDF or XLSX), for a browser to open or save without "
                    "the token: made for you, valid for AFTER_ACTION_LINK_MAX_AGE seconds (10 minutes by default).",
    )

    def resolve_html(self, info):
        return render_report_html(self._report, self.language)

    def resolve_download_url(self, info, format=ReportFormat.HTML.value):
        r = self._report
        return report_link(info.context.user, r.area, r.since, r.until, r.drills, base=public_base(info.context),
                           language=self.language, fmt=plain(format))


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


def request_language(info, asked: str | None) -> str:
    """The report's language: asked for, else the request's Accept-Language, else the
    viewer's own preference; Chinese unless that is English."""
    if asked:
        return labels(asked).language
    headers = getattr(info.context, "headers", None) or {}
    accept = str(headers.get("Accept-Language", "") or "")
    first = accept.split(",")[0].strip()
    if first:
        return labels(first).language
    return labels(getattr(info.context.user, "preferred_language", None)).language


def resolve_after_action_report(info, area_id, since, until, drills, language=None):
    area = get_node_or_error(Area, area_id, "area_id")
    user = require(info, Action.VIEW_AREA, area)
    try:
        report = after_action_report(area, since, until, drills=drills, viewer=user)
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
                                   sms_refused=m.total("refused"), sms_queued_now=m.total("queued_now"),
                                   sms_superseded=m.total("superseded"), by_purpose=m.by_purpose, by_lane=m.by_lane,
                                   by_channel=m.by_channel()),
        breakdown=[AreaReviewRowType.build(row) for row in report.breakdown],
        open_tasks=[OpenTaskRowType(task_id=to_global_id("Task", t.task_id), title=t.title, area=t.area, priority=t.priority,
                                    status=t.status, filled=t.filled, headcount=t.headcount, people_to_help=t.people_to_help,
                                    created_at=t.created_at) for t in report.open_work.tasks],
        open_tasks_total=report.open_work.tasks_total,
        silent_vulnerable=[SilentVulnerableType(name=p.name, grid=p.grid, safety_check=p.check,
                                                welfare_visit_status=p.welfare_status)
                           for p in report.open_work.silent_vulnerable],
        silent_vulnerable_total=report.open_work.silent_vulnerable_total,
        help_to_site_p50_seconds=report.total.help_to_site_p50, help_to_site_p90_seconds=report.total.help_to_site_p90,
        generated_at=report.generated_at, language=request_language(info, plain(language)),
        supplies=SuppliesReviewType.build(report.supplies),
        shelters=[ShelterReviewType.build(s) for s in report.shelters],
        warnings=WarningsReviewType.build(report.warnings),
    )
    result._report = report
    return result
