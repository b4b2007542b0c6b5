"""Staff import a community's resident roster (.csv or .xlsx): dry run first, then for real."""

from __future__ import annotations

import graphene

from community.error_codes import CommunityErrorCode
from community.imports import ImportReport, import_roster
from community.models import Area
from community.permissions import Action

from ...core.errors import Error
from ...core.lookup import get_node_or_error
from ...core.mutations import BaseMutation
from ...core.permissions import current_user, require
from ...core.uploads import Upload
from ..people_types import LEGAL_BASIS_HELP, LegalBasisEnum


class ImportProblem(graphene.ObjectType):
    column = graphene.String(description="Canonical column name (displayName, phone, grid, ...), or null.")
    code = graphene.String(required=True, description="An ErrorCode value, e.g. invalid_phone, unknown_grid.")
    message = graphene.String(required=True)


class ImportRow(graphene.ObjectType):
    row = graphene.Int(required=True, description="Row number as the spreadsheet shows it (header = 1).")
    action = graphene.String(required=True, description="create, update, unchanged or error")
    display_name = graphene.String(required=True)
    problems = graphene.List(graphene.NonNull(ImportProblem), required=True)


class ImportResidentsReport(graphene.ObjectType):
    dry_run = graphene.Boolean(required=True)
    applied = graphene.Boolean(required=True, description="True when the rows were written.")
    total_rows = graphene.Int(required=True)
    created = graphene.Int(required=True)
    updated = graphene.Int(required=True)
    unchanged = graphene.Int(required=True)
    error_rows = graphene.Int(required=True)
    columns = graphene.List(graphene.NonNull(graphene.String), required=True)
    ignored_columns = graphene.List(graphene.NonNull(graphene.String), required=True)
    file_problems = graphene.List(graphene.NonNull(ImportProblem), required=True)
    rows_with_problems = graphene.List(graphene.NonNull(ImportRow), required=True, description="At most 1000.")


def _camel(name: str | None) -> str | None:
    if not name:
        return name
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def _problem(p) -> ImportProblem:
    return ImportProblem(column=_camel(p.column), code=str(p.code), message=p.message)


def to_graphql(report: ImportReport) -> ImportResidentsReport:
    return ImportResidentsReport(
        dry_run=report.dry_run,
        applied=report.applied,
        total_rows=len(report.rows),
        created=report.count("create"),
        updated=report.count("update"),
        unchanged=report.count("unchanged"),
        error_rows=report.count("error"),
        columns=[_camel(c) for c in report.columns],
        ignored_columns=report.ignored_columns,
        file_problems=[_problem(p) for p in report.file_problems],
        rows_with_problems=[
            ImportRow(row=r.row, action=r.action, display_name=r.display_name, problems=[_problem(p) for p in r.problems])
            for r in report.problem_rows
        ],
    )


class ImportResidents(BaseMutation):
    """Upload a roster for a community. dryRun (the default) only reports; a real import
    writes every row or none, and re-importing the same file changes nothing."""

    report = graphene.Field(ImportResidentsReport)

    class Arguments:
        community_id = graphene.ID(required=True)
        file = Upload(required=True)
        dry_run = graphene.Boolean(default_value=True)
        legal_basis = LegalBasisEnum(description=LEGAL_BASIS_HELP)

    @classmethod
    def perform_mutation(cls, root, info, community_id, file, dry_run=True, legal_basis=None):
        current_user(info)
        community = get_node_or_error(Area, community_id, "community_id")
        user = require(info, Action.MANAGE_PEOPLE, community)
        report = import_roster(file, community, by=user, dry_run=dry_run, legal_basis=getattr(legal_basis, "value", legal_basis))
        payload = to_graphql(report)
        if not dry_run and not report.applied:
            error = Error(field="file", code=CommunityErrorCode.IMPORT_HAS_ERRORS.value,
                          message="Nothing was imported: fix the problems listed in the report.")
            return cls(errors=[error], report=payload)
        return cls(errors=[], report=payload)
