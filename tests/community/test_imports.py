"""Roster import: a dry run reports every row's problems; the import is all-or-nothing and
idempotent; CSV (UTF-8 or GBK) and .xlsx; over GraphQL multipart and as a command."""

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from graphql_relay import to_global_id
from openpyxl import Workbook

from community.imports import import_roster
from community.models import EmergencyContact, GeocodeStatus, Household, Resident
from tests.graphql import token_for
from tests.operations import operation

pytestmark = pytest.mark.django_db

HEADER = ["姓名", "手机号", "住址", "网格", "户号", "独居老人", "残疾", "卧床/行动不便", "慢病需电/药", "孕妇", "婴幼儿", "紧急联系人", "联系人电话"]
GOOD_ROWS = [
    ["张三", "13800138001", "甲社区1幢101", "甲一网格", "1幢101", "是", "", "", "", "", "", "张小三", "13800138002"],
    ["李四", "", "甲社区2幢", "t-d-a-1-2", "", "否", "√", "", "", "", "", "", ""],
    ["孙大娘", 13800138009.0, "甲社区3幢", "甲二网格", "", "", "", "是", "是", "", "", "", ""],
]
BAD_ROWS = [
    ["王五", "12345", "甲社区4幢", "甲一网格", "", "", "", "", "", "", "", "", ""],  # bad phone
    ["赵六", "13800138003", "甲社区5幢", "丙网格", "", "", "", "", "", "", "", "", ""],  # unknown grid
    ["", "13800138004", "甲社区6幢", "甲一网格", "", "", "", "", "", "", "", "", ""],  # missing name
    ["张三丰", "13800138001", "甲社区7幢", "甲一网格", "", "", "", "", "", "", "", "", ""],  # same phone as row 2
    ["冒名", "13900000002", "甲社区8幢", "甲一网格", "", "", "", "", "", "", "", "", ""],  # a resident of community B
    ["钱七", "13800138005", "甲社区9幢", "甲一网格", "", "也许", "", "", "", "", "", "", ""],  # bad flag value
    ["周八", "13800138006", "甲社区10幢", "甲一网格", "", "", "", "", "", "", "", "周小八", ""],  # contact without phone
]
EXPECTED_PROBLEMS = {
    5: {("phone", "invalid_phone")},
    6: {("grid", "unknown_grid")},
    7: {("display_name", "required")},
    8: {("phone", "duplicate_in_file")},
    9: {("phone", "duplicate_in_database")},
    10: {("elderly_living_alone", "bad_flag_value")},
    11: {("contact_phone", "required")},
}


def csv_file(rows, encoding="utf-8-sig", name="roster.csv"):
    buffer = io.StringIO()
    csv.writer(buffer).writerows([HEADER, *rows])
    return SimpleUploadedFile(name, buffer.getvalue().encode(encoding), content_type="text/csv")


def xlsx_file(rows, name="roster.xlsx"):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append([None if cell == "" else cell for cell in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/octet-stream")


BASIS = "statutory_duty"  # the rows carry vulnerability flags of people who never consented (PIPL)


def problems_by_row(report):
    return {r.row: {(p.column, str(p.code)) for p in r.problems} for r in report.problem_rows}


@pytest.mark.parametrize("make_file", [csv_file, xlsx_file], ids=["csv", "xlsx"])
def test_dry_run_reports_every_kind_of_bad_row_with_its_number(world, people, make_file):
    report = import_roster(make_file(GOOD_ROWS + BAD_ROWS), world.com_a, by=world.admin_a, dry_run=True)
    assert problems_by_row(report) == EXPECTED_PROBLEMS
    assert [r.action for r in report.rows[:3]] == ["create", "create", "create"]
    assert Resident.objects.count() == 3  # only the fixture's people


@pytest.mark.parametrize("make_file", [csv_file, xlsx_file], ids=["csv", "xlsx"])
def test_import_with_any_bad_row_writes_nothing(world, people, make_file):
    report = import_roster(make_file(GOOD_ROWS + BAD_ROWS), world.com_a, by=world.admin_a)
    assert not report.applied
    assert Resident.objects.count() == 3 and not Household.objects.filter(label="1幢101", grid=world.grid_a1).exclude(pk=people["home"].pk).exists()


@pytest.mark.parametrize("make_file", [csv_file, xlsx_file], ids=["csv", "xlsx"])
def test_a_clean_import_writes_everything_and_reimporting_changes_nothing(world, people, make_file):
    first = import_roster(make_file(GOOD_ROWS), world.com_a, by=world.admin_a, legal_basis=BASIS)
    assert first.applied and first.count("create") == 3
    zhang = Resident.objects.get(phone="+8613800138001")
    assert zhang.elderly_living_alone and zhang.is_vulnerable and zhang.grid == world.grid_a1 and zhang.grid_overridden
    assert zhang.household.label == "1幢101" and zhang.geocode_status == GeocodeStatus.PENDING
    assert list(zhang.emergency_contacts.values_list("name", "phone")) == [("张小三", "+8613800138002")]
    li = Resident.objects.get(display_name="李四")
    assert li.phone is None and li.disabled and li.grid == world.grid_a2
    assert Resident.objects.get(phone="+8613800138009").needs_power_or_medicine
    snapshot = sorted(Resident.objects.values_list("pk", "updated_at"))
    counts = (Resident.objects.count(), EmergencyContact.objects.count(), Household.objects.count())

    again = import_roster(make_file(GOOD_ROWS), world.com_a, by=world.admin_a)  # nothing new: no basis needed
    assert again.applied and again.count("unchanged") == 3 and again.count("create") == again.count("update") == 0
    assert sorted(Resident.objects.values_list("pk", "updated_at")) == snapshot
    assert (Resident.objects.count(), EmergencyContact.objects.count(), Household.objects.count()) == counts


def test_a_changed_row_updates_the_same_resident(world, people):
    import_roster(csv_file(GOOD_ROWS), world.com_a, by=world.admin_a, legal_basis=BASIS)
    changed = [row[:] for row in GOOD_ROWS]
    changed[0][6] = "是"  # 张三 is now also disabled
    report = import_roster(csv_file(changed), world.com_a, by=world.admin_a)  # the basis is on record now
    assert [r.action for r in report.rows] == ["update", "unchanged", "unchanged"]
    assert Resident.objects.get(phone="+8613800138001").disabled
    assert Resident.objects.filter(display_name="张三").count() == 1


def test_gbk_csv_from_excel_and_english_headers_are_read(world):
    report = import_roster(csv_file(GOOD_ROWS[:1], encoding="gb18030"), world.com_a, by=None, dry_run=True, legal_basis=BASIS)
    assert report.count("create") == 1 and not report.has_errors
    english = io.StringIO()
    csv.writer(english).writerows([["Name", "Phone", "Grid", "Lives alone"], ["Tom", "13800138077", "t-d-a-1-1", "yes"]])
    upload = SimpleUploadedFile("r.csv", english.getvalue().encode())
    report = import_roster(upload, world.com_a, by=None, legal_basis=BASIS)
    assert report.applied and Resident.objects.get(display_name="Tom").elderly_living_alone


def test_missing_required_columns_and_wrong_file_types_are_reported(world):
    no_grid = SimpleUploadedFile("r.csv", "姓名,手机号\n张三,13800138001\n".encode())
    report = import_roster(no_grid, world.com_a, by=None, dry_run=True)
    assert [(p.column, str(p.code)) for p in report.file_problems] == [("grid", "missing_column")]
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        import_roster(SimpleUploadedFile("r.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100), world.com_a, by=None)
    assert exc.value.error_dict["file"][0].code == "unsupported_file_type"


def _multipart(client, user, community, upload, dry_run, legal_basis="STATUTORY_DUTY"):
    operations = {"query": operation("community/ImportResidents"),
                  "variables": {"communityId": to_global_id("Area", community.pk), "file": None, "dryRun": dry_run,
                                "legalBasis": legal_basis}}
    response = client.post("/graphql/", data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]}), "0": upload},
                           HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
    return response.status_code, response.json()


def test_staff_import_over_graphql_multipart_dry_run_then_for_real(world, client, people):
    status, body = _multipart(client, world.admin_a, world.com_a, xlsx_file(GOOD_ROWS + BAD_ROWS), True)
    report = body["data"]["importResidents"]["report"]
    assert status == 200 and report["errorRows"] == 7 and report["created"] == 3
    assert {p["code"] for r in report["rowsWithProblems"] for p in r["problems"]} >= {"invalid_phone", "unknown_grid", "bad_flag_value"}
    assert report["rowsWithProblems"][0]["problems"][0]["column"] == "phone"
    status, body = _multipart(client, world.admin_a, world.com_a, xlsx_file(GOOD_ROWS + BAD_ROWS), False)
    assert [e["code"] for e in body["data"]["importResidents"]["errors"]] == ["IMPORT_HAS_ERRORS"]
    assert Resident.objects.count() == 3
    status, body = _multipart(client, world.admin_a, world.com_a, xlsx_file(GOOD_ROWS), False)
    assert body["data"]["importResidents"]["report"]["applied"] is True and Resident.objects.count() == 6


def test_only_staff_of_the_community_may_import(world, client):
    status, body = _multipart(client, world.admin_b, world.com_a, csv_file(GOOD_ROWS), False)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert not Resident.objects.exists()


def test_a_multipart_request_with_a_missing_file_part_is_a_bad_request(world, client):
    operations = {"query": operation("community/ImportResidents"), "variables": {"communityId": "x", "file": None}}
    response = client.post("/graphql/", data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
                           HTTP_AUTHORIZATION=f"Bearer {token_for(world.admin_a)}")
    assert response.status_code == 400


def test_management_command_dry_run_and_apply(world, tmp_path, capsys):
    path = tmp_path / "roster.csv"
    path.write_bytes(csv_file(GOOD_ROWS).read())
    call_command("import_residents", str(path), community=world.com_a.code)
    assert "Dry run" in capsys.readouterr().out and not Resident.objects.exists()
    call_command("import_residents", str(path), community=world.com_a.code, apply=True, legal_basis=BASIS)
    assert Resident.objects.count() == 3
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_file(BAD_ROWS).read())
    with pytest.raises(CommandError):
        call_command("import_residents", str(bad), community=world.com_a.code, apply=True)


def test_sensitive_rows_without_consent_need_the_legal_basis_kept_with_each_record(world, client, people):
    from community.models import ConsentRecord

    refused = import_roster(csv_file(GOOD_ROWS), world.com_a, by=world.admin_a)
    assert not refused.applied and [(p.column, str(p.code)) for p in refused.file_problems] == [("legal_basis", "legal_basis_required")]
    assert Resident.objects.count() == 3 and not ConsentRecord.objects.exists()
    status, body = _multipart(client, world.admin_a, world.com_a, csv_file(GOOD_ROWS), True, legal_basis=None)
    assert [p["code"] for p in body["data"]["importResidents"]["report"]["fileProblems"]] == ["legal_basis_required"]
    done = import_roster(csv_file(GOOD_ROWS), world.com_a, by=world.admin_a, legal_basis=BASIS)
    assert done.applied
    kept = ConsentRecord.objects.filter(legal_basis=BASIS, channel="staff", recorded_by=world.admin_a)
    assert kept.count() == 3 and set(Resident.objects.filter(consents__in=kept).values_list("sensitive_basis", flat=True)) == {BASIS}
