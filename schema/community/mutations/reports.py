"""Residents report hazards or ask for help; grid staff acknowledge, resolve or dismiss them."""

from __future__ import annotations

import graphene

from community.models import ReportStatus, ResidentReport
from community.permissions import Action
from community.reports import do_set_report_status, do_submit_report

from ...core.lookup import get_node_or_error
from ...core.mutations import BaseMutation
from ...core.permissions import current_user, require
from ...core.scalars import LocationInput, location_to_wgs84
from ...core.throttle import Throttle
from ...core.uploads import Upload
from ..hazard_types import ReportKindEnum, ReportStatusEnum, ResidentReportType


class SubmitReport(BaseMutation):
    """File a hazard report (隐患上报) or a help request (求助) at a place, with an optional
    photo (multipart upload: JPEG/PNG/WebP/HEIC, size-limited). Send an idempotency key: a
    retried upload returns the first report."""

    report = graphene.Field(ResidentReportType)

    class Arguments:
        kind = ReportKindEnum(required=True)
        description = graphene.String(required=True)
        location = LocationInput(required=True)
        photo = Upload()

    class Meta:
        idempotent = True
        throttle = Throttle("report", per_user=10)

    @classmethod
    def perform_mutation(cls, root, info, kind, description, location, photo=None, idempotency_key=""):
        user = current_user(info)
        point = location_to_wgs84(location)
        report = do_submit_report(
            user, kind=kind, description=description, location=point, photo=photo,
            # The client's key also goes on the row (unique per reporter), a second line of
            # defence behind the idempotency record for retried uploads.
            client_key=idempotency_key,
        )
        return cls(errors=[], report=report)


_STAFF_STATUSES = (ReportStatus.ACKNOWLEDGED, ReportStatus.RESOLVED, ReportStatus.DISMISSED)
StaffReportStatusEnum = graphene.Enum(
    "ReportStatusChange", [(s.name, s.value) for s in _STAFF_STATUSES],
    description="Turning a report into a task is done by the task mutation of the dispatch API.",
)


class SetReportStatus(BaseMutation):
    """Grid staff move a report: ACKNOWLEDGED, RESOLVED or DISMISSED (with a note)."""

    report = graphene.Field(ResidentReportType)

    class Arguments:
        report_id = graphene.ID(required=True)
        status = StaffReportStatusEnum(required=True)
        note = graphene.String(default_value="")

    @classmethod
    def perform_mutation(cls, root, info, report_id, status, note=""):
        current_user(info)
        report = get_node_or_error(ResidentReport.objects.select_related("grid", "reporter"), report_id, "report_id")
        user = require(info, Action.VIEW_REPORTS, report.grid)
        require(info, Action.MANAGE_TASKS, report.grid)
        return cls(errors=[], report=do_set_report_status(report, getattr(status, "value", status), by=user, note=note))


__all__ = ["ReportStatusEnum", "SetReportStatus", "SubmitReport"]
