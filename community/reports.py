"""Resident reports (隐患上报 / 求助): submit, move through statuses, become a task.

Events go to the report's grid and every ancestor area after commit, so staff subscribed to
any area above the grid see it (notifications.events REPORT_CREATED / REPORT_UPDATED). The
payload names the report only; subscribers re-read it through the scoped GraphQL type.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import field_error, merge_errors
from core.text import clean_text
from notifications import events
from notifications.realtime import publish_on_commit

from .error_codes import CommunityErrorCode
from .grids import require_grid_for
from .models import (
    OPEN_REPORT_STATUSES,
    REPORT_TRANSITIONS,
    ReportKind,
    ReportStatus,
    Resident,
    ResidentReport,
    User,
)
from .uploads import PHOTO_TYPES, sniff_photo


def report_groups(report: ResidentReport) -> list[str]:
    return [events.area_group(pk) for pk in report.grid.ancestors_and_self().values_list("pk", flat=True)]


def _publish(report: ResidentReport, event_type: str) -> None:
    publish_on_commit(
        report_groups(report),
        events.make_event(
            event_type,
            reportId=report.pk,
            gridId=report.grid_id,
            kind=report.kind,
            status=report.status,
            at=timezone.now().isoformat(),
        ),
    )


def check_report(kind: str, description: str, photo: File[bytes] | None) -> tuple[str, str, str]:
    errors: list[ValidationError] = []
    kind = getattr(kind, "value", kind)
    if kind not in ReportKind.values:
        errors.append(field_error("kind", "Unknown report kind.", CommunityErrorCode.INVALID))
    try:
        description = clean_text(description, "description", 2000, required=True)
    except ValidationError as exc:
        errors.append(exc)
    content_type = ""
    if photo is not None:
        try:
            content_type = sniff_photo(photo, settings.REPORT_PHOTO_MAX_BYTES)
        except ValidationError as exc:
            errors.append(exc)
    merge_errors(errors)
    return kind, description, content_type


def do_submit_report(
    reporter: User, *, kind: str, description: str, location: tuple[float, float], photo: File[bytes] | None = None,
    client_key: str = "",
) -> ResidentReport:
    """File a report at `location` (its grid is derived). The same client key returns the
    first report (a retried upload does not file twice)."""
    kind, description, content_type = check_report(kind, description, photo)
    if client_key:
        existing = ResidentReport.objects.filter(reporter=reporter, client_key=client_key).first()
        if existing is not None:
            return existing
    grid = require_grid_for(*location)
    with transaction.atomic():
        report = ResidentReport(
            kind=kind, description=description, reporter=reporter, grid=grid, client_key=client_key[:255],
            resident=Resident.objects.filter(user=reporter).first(), photo_content_type=content_type,
        )
        report.set_location(*location)
        if photo is not None:
            report.photo.save(f"photo.{PHOTO_TYPES[content_type]}", photo, save=False)
        try:
            with transaction.atomic():
                report.save()
        except IntegrityError:  # the same key committed by a concurrent retry: that one wins
            report.photo.delete(save=False)
            return ResidentReport.objects.get(reporter=reporter, client_key=report.client_key)
        _publish(report, events.REPORT_CREATED)
    return report


def check_transition(report: ResidentReport, to_status: str) -> str:
    to_status = getattr(to_status, "value", to_status)
    if to_status not in REPORT_TRANSITIONS.get(report.status, frozenset()):
        code = (
            CommunityErrorCode.ALREADY_CONVERTED
            if report.status == ReportStatus.CONVERTED_TO_TASK and to_status == ReportStatus.CONVERTED_TO_TASK
            else CommunityErrorCode.INVALID_TRANSITION
        )
        raise field_error("status", f"A report that is {report.status} cannot become {to_status}.", code)
    return to_status


def do_set_report_status(report: ResidentReport, to_status: str, *, by: User, note: str = "") -> ResidentReport:
    """Move a report to a new status; a conditional UPDATE on the old status decides races."""
    to_status = check_transition(report, to_status)
    note = clean_text(note, "note", 500)
    now = timezone.now()
    values = dict(status=to_status, status_note=note, handled_by=by, status_changed_at=now)
    if to_status == ReportStatus.CONVERTED_TO_TASK:
        values["converted_at"] = now
    with transaction.atomic():
        changed = ResidentReport.objects.filter(pk=report.pk, status=report.status).update(**values)
        if changed != 1:
            report.refresh_from_db()
            check_transition(report, to_status)  # explains why (e.g. already converted)
            raise field_error("status", "The report changed meanwhile; reload it.", CommunityErrorCode.INVALID_TRANSITION)
        report.refresh_from_db()
        _publish(report, events.REPORT_UPDATED)
    return report


def mark_converted_to_task(report: ResidentReport, *, by: User, note: str = "") -> ResidentReport:
    """For the dispatch issue: call inside the transaction that creates the Task (whose FK
    points back at the report). Exactly one caller wins; others get ALREADY_CONVERTED."""
    if report.status == ReportStatus.CONVERTED_TO_TASK:
        raise field_error("report_id", "This report is already a task.", CommunityErrorCode.ALREADY_CONVERTED)
    if report.status not in OPEN_REPORT_STATUSES:
        raise field_error("report_id", "Only open reports can become tasks.", CommunityErrorCode.INVALID_TRANSITION)
    return do_set_report_status(report, ReportStatus.CONVERTED_TO_TASK, by=by, note=note)
