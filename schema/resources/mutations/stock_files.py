"""Stock to and from Excel: export an area's stock; import a stocktake (dry run first)."""

from __future__ import annotations

import base64

import graphene

from community.models import Area
from resources import access
from resources.error_codes import ResourcesErrorCode
from resources.excel import StockImport, export_stock, import_stock

from ...core.errors import Error, PermissionDenied
from ...core.lookup import get_node_or_error
from ...core.mutations import BaseMutation
from ...core.permissions import current_user
from ...core.uploads import Upload
from ...volunteers.activity_types import ExportedFile


def _camel(name: str | None) -> str | None:
    if not name:
        return name
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


class StockImportProblem(graphene.ObjectType):
    column = graphene.String(description="warehouse, item, quantity or threshold; null for the whole file.")
    code = graphene.String(required=True, description="An ErrorCode value, e.g. unknown_item, invalid_quantity.")
    message = graphene.String(required=True)


class StockImportRow(graphene.ObjectType):
    row = graphene.Int(required=True, description="As the spreadsheet numbers it (header = 1).")
    action = graphene.String(required=True, description="adjust, unchanged or error")
    warehouse = graphene.String(required=True)
    item = graphene.String(required=True)
    counted = graphene.Int()
    change = graphene.Int(required=True, description="The ADJUSTED movement it makes (counted - on the shelf).")
    problems = graphene.List(graphene.NonNull(StockImportProblem), required=True)


class StockImportReport(graphene.ObjectType):
    dry_run = graphene.Boolean(required=True)
    applied = graphene.Boolean(required=True)
    adjusted = graphene.Int(required=True)
    unchanged = graphene.Int(required=True)
    error_rows = graphene.Int(required=True)
    file_problems = graphene.List(graphene.NonNull(StockImportProblem), required=True)
    rows = graphene.List(graphene.NonNull(StockImportRow), required=True, description="Every row (at most 1000).")


def _report(report: StockImport) -> StockImportReport:
    def problem(p):
        return StockImportProblem(column=_camel(p.column), code=str(p.code), message=p.message)

    return StockImportReport(
        dry_run=report.dry_run, applied=report.applied, adjusted=report.count("adjust"), unchanged=report.count("unchanged"),
        error_rows=report.count("error"), file_problems=[problem(p) for p in report.file_problems],
        rows=[StockImportRow(row=r.row, action=r.action, warehouse=r.warehouse, item=r.item, counted=r.counted,
                             change=r.change, problems=[problem(p) for p in r.problems]) for r in report.rows[:1000]],
    )


class ImportStock(BaseMutation):
    """Upload a stocktake (.xlsx or .csv: 仓库编码, 物资编码, 库存[, 预警线]) for the warehouses of an
    area. dryRun (the default) reports; a real import writes every row or none."""

    report = graphene.Field(StockImportReport)

    class Arguments:
        area_id = graphene.ID(required=True)
        file = Upload(required=True)
        dry_run = graphene.Boolean(default_value=True)

    @classmethod
    def perform_mutation(cls, root, info, area_id, file, dry_run=True):
        user = current_user(info)
        area = get_node_or_error(Area, area_id, "area_id")
        if not access.can_manage_stock(user, area):
            raise PermissionDenied()
        report = import_stock(area, file, by=user, dry_run=dry_run)
        if not dry_run and not report.applied:
            error = Error(field="file", code=ResourcesErrorCode.IMPORT_HAS_ERRORS.value,
                          message="Nothing was imported: fix the problems listed in the report.")
            return cls(errors=[error], report=_report(report))
        return cls(errors=[], report=_report(report))


class ExportStock(BaseMutation):
    """The stock of an area's warehouses as .xlsx (base64 in the payload), in your language."""

    file = graphene.Field(ExportedFile)

    class Arguments:
        area_id = graphene.ID(required=True)

    @classmethod
    def perform_mutation(cls, root, info, area_id):
        user = current_user(info)
        area = get_node_or_error(Area, area_id, "area_id")
        if not access.can_manage_stock(user, area):
            raise PermissionDenied()
        exported = export_stock(area, user.preferred_language)
        return cls(errors=[], file=ExportedFile(filename=exported.filename, content_type=exported.content_type,
                                                content_base64=base64.b64encode(exported.content).decode("ascii"),
                                                row_count=exported.row_count))
