"""The service-hours ledger: append only, corrections as new entries, totals per period
that equal the sum of the entries, and exports for staff."""

import base64
import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Sum
from openpyxl import load_workbook

from core.errors import ValidationError
from tests.operations import operation
from volunteers.models import LOCAL_TZ, ServiceHoursEntry, ServiceHoursKind
from volunteers.models.hours import AppendOnlyError
from volunteers.services import Period, hours_summary, net_hours, record_service_hours

from .conftest import gid, make_activity, new_user

pytestmark = pytest.mark.django_db

MINE = operation("volunteers/MyServiceHours")
COMMUNITY = operation("volunteers/ServiceHours")
CORRECT = operation("volunteers/CorrectServiceHours")
EXPORT = operation("volunteers/ExportServiceHours")

ACTIVITY = ServiceHoursKind.ACTIVITY
MANUAL = ServiceHoursKind.MANUAL
CORRECTION = ServiceHoursKind.CORRECTION


def at(y, m, d, h=10):
    return dt.datetime(y, m, d, h, tzinfo=LOCAL_TZ)


def codes(payload):
    return sorted(e["code"].lower() for e in payload["errors"])


def code_of(excinfo):
    return {e.code for errs in excinfo.value.error_dict.values() for e in errs} if hasattr(excinfo.value, "error_dict") else {excinfo.value.code}


@pytest.fixture
def ledger(world):
    """Two members of community A and one of B, entries across three months of 2026."""
    a1, a2, b1 = new_user("甲成员一"), new_user("甲成员二"), new_user("乙成员")
    entries = {
        "jan": record_service_hours(a1, world.com_a, "2.5", kind=MANUAL, occurred_at=at(2026, 1, 10)),
        "feb": record_service_hours(a1, world.com_a, "3", kind=MANUAL, occurred_at=at(2026, 2, 3)),
        "feb2": record_service_hours(a2, world.grid_a1, "1.25", kind=MANUAL, occurred_at=at(2026, 2, 28, 23)),
        "mar": record_service_hours(a1, world.com_a, "4", kind=MANUAL, occurred_at=at(2026, 3, 1, 0)),
        "b": record_service_hours(b1, world.com_b, "8", kind=MANUAL, occurred_at=at(2026, 2, 5)),
    }
    return {"a1": a1, "a2": a2, "b1": b1, **entries}


def test_a_grids_hours_count_for_its_community(world, ledger):
    assert ledger["feb2"].community == world.com_a


def test_entries_are_append_only(world, ledger):
    entry = ledger["jan"]
    entry.hours = Decimal("99")
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        ServiceHoursEntry.objects.filter(pk=entry.pk).update(hours=1)
    with pytest.raises(AppendOnlyError):
        ServiceHoursEntry.objects.all().delete()
    assert ServiceHoursEntry.objects.get(pk=entry.pk).hours == Decimal("2.50")


def test_totals_equal_the_sum_of_entries_after_corrections(world, ledger):
    a1 = ledger["a1"]
    record_service_hours(a1, world.com_a, "-1", kind=CORRECTION, corrects=ledger["feb"], reason="提前离开")
    record_service_hours(a1, world.com_a, "0.5", kind=CORRECTION, corrects=ledger["jan"], reason="补录")
    entries = ServiceHoursEntry.objects.filter(user=a1)
    summary = hours_summary(entries, Period.MONTH, dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    assert summary.total == entries.aggregate(s=Sum("hours"))["s"] == Decimal("9.00")
    assert summary.buckets == [(dt.date(2026, 1, 1), Decimal("3.00")), (dt.date(2026, 2, 1), Decimal("2.00")), (dt.date(2026, 3, 1), Decimal("4.00"))]
    assert summary.entry_count == 5
    assert net_hours(ledger["feb"]) == Decimal("2.00")


def test_a_correction_keeps_the_original_and_belongs_to_its_period(world, ledger):
    fix = record_service_hours(ledger["a1"], world.com_a, "-3", kind=CORRECTION, corrects=ledger["feb"], reason="录错人")
    assert fix.occurred_at == ledger["feb"].occurred_at and fix.corrects == ledger["feb"]
    assert ServiceHoursEntry.objects.get(pk=ledger["feb"].pk).hours == Decimal("3.00")


def test_a_correction_of_a_correction_attaches_to_the_original(world, ledger):
    first = record_service_hours(ledger["a1"], world.com_a, "-1", kind=CORRECTION, corrects=ledger["feb"], reason="a")
    second = record_service_hours(ledger["a1"], world.com_a, "0.5", kind=CORRECTION, corrects=first, reason="b")
    assert second.corrects == ledger["feb"]


@pytest.mark.parametrize(
    "hours, kwargs, code",
    [
        ("-3.5", {"kind": CORRECTION, "reason": "x"}, "correction_below_zero"),
        ("1", {"kind": CORRECTION, "reason": ""}, "required"),
        ("1", {"kind": CORRECTION, "reason": "x", "corrects": None}, "required"),
        ("0", {"kind": MANUAL}, "invalid_hours"),
        ("-2", {"kind": MANUAL}, "invalid_hours"),
        ("25", {"kind": ACTIVITY}, "invalid_hours"),
        ("1.234", {"kind": MANUAL}, "invalid_hours"),
        ("abc", {"kind": MANUAL}, "invalid_hours"),
        ("NaN", {"kind": MANUAL}, "invalid_hours"),
        ("1", {"kind": "BONUS"}, "invalid"),
    ],
)
def test_bad_entries_are_refused(world, ledger, hours, kwargs, code):
    kwargs.setdefault("corrects", ledger["feb"] if kwargs["kind"] == CORRECTION else None)
    before = ServiceHoursEntry.objects.count()
    with pytest.raises(ValidationError) as excinfo:
        record_service_hours(ledger["a1"], world.com_a, hours, **kwargs)
    assert code in code_of(excinfo)
    assert ServiceHoursEntry.objects.count() == before


def test_a_correction_is_for_the_same_person(world, ledger):
    with pytest.raises(ValidationError):
        record_service_hours(ledger["a2"], world.com_a, "1", kind=CORRECTION, corrects=ledger["feb"], reason="x")


def test_a_source_credits_a_person_once(world):
    user = new_user("一次")
    activity = make_activity(world.com_a)
    record_service_hours(user, world.com_a, "2", kind=ACTIVITY, source=activity)
    with pytest.raises(ValidationError):
        record_service_hours(user, world.com_a, "2", kind=ACTIVITY, source=activity)
    assert ServiceHoursEntry.objects.filter(user=user).count() == 1


def test_periods_are_shanghai_days_weeks_months_and_years(world, ledger):
    a_entries = ServiceHoursEntry.objects.filter(community=world.com_a)
    # 23:00 on 28 Feb and 00:00 on 1 Mar (Shanghai) fall on different days and months.
    days = hours_summary(a_entries, Period.DAY, dt.date(2026, 2, 28), dt.date(2026, 3, 1))
    assert days.buckets == [(dt.date(2026, 2, 28), Decimal("1.25")), (dt.date(2026, 3, 1), Decimal("4.00"))]
    weeks = hours_summary(a_entries, Period.WEEK, dt.date(2026, 2, 23), dt.date(2026, 3, 1))
    assert weeks.buckets == [(dt.date(2026, 2, 23), Decimal("5.25"))]  # Monday 23 Feb - Sunday 1 Mar
    years = hours_summary(a_entries, Period.YEAR, dt.date(2025, 1, 1), dt.date(2026, 12, 31))
    assert years.buckets == [(dt.date(2025, 1, 1), Decimal("0.00")), (dt.date(2026, 1, 1), Decimal("10.75"))]


# --- over GraphQL ---------------------------------------------------------------------------
def test_a_member_sees_their_own_totals_per_month(world, gql, ledger):
    data = gql.data(MINE, {"from": "2026-01-01", "to": "2026-03-31"}, user=ledger["a1"])["myServiceHours"]
    assert data["total"] == "9.50" and data["entryCount"] == 3
    assert [p["hours"] for p in data["periods"]] == ["2.50", "3.00", "4.00"]
    assert data["entries"]["totalCount"] == 3 and data["entries"]["edges"][0]["node"]["hours"] == "4.00"


def test_the_community_total_for_staff(world, gql, ledger):
    variables = {"communityId": gid("Area", world.com_a.pk), "from": "2026-02-01", "to": "2026-02-28"}
    data = gql.data(COMMUNITY, variables, user=world.admin_a)["serviceHours"]
    assert data["total"] == "4.25" and {e["node"]["memberName"] for e in data["entries"]["edges"]} == {"甲成员一", "甲成员二"}
    one = gql.data(COMMUNITY, {**variables, "userId": gid("User", ledger["a2"].pk)}, user=world.admin_a)["serviceHours"]
    assert one["total"] == "1.25"


@pytest.mark.parametrize("who", ["admin_b", "resident", "member"])
def test_others_cannot_see_a_communitys_hours(world, gql, ledger, who):
    user = ledger["a1"] if who == "member" else getattr(world, who)
    status, body = gql(COMMUNITY, {"communityId": gid("Area", world.com_a.pk)}, user=user)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_entries_of_other_people_are_not_reachable_by_id(world, gql, ledger):
    query = "query($id: ID!) { node(id: $id) { ... on ServiceHoursEntry { hours } } }"
    entry_id = gid("ServiceHoursEntry", ledger["feb"].pk)
    assert gql.data(query, {"id": entry_id}, user=ledger["a2"]) == {"node": None}
    assert gql.data(query, {"id": entry_id}, user=world.admin_b) == {"node": None}
    assert gql.data(query, {"id": entry_id}, user=ledger["a1"]) == {"node": {"hours": "3.00"}}


@pytest.mark.parametrize(
    "variables",
    [{"from": "2026-03-01", "to": "2026-01-01"}, {"period": "DAY", "from": "2020-01-01", "to": "2026-01-01"}],
)
def test_bad_ranges_are_a_clear_error(world, gql, ledger, variables):
    status, body = gql(MINE, variables, user=ledger["a1"])
    assert status == 200 and body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_staff_correct_hours_with_a_new_entry(world, gql, ledger):
    variables = {"entryId": gid("ServiceHoursEntry", ledger["feb"].pk), "hours": "-0.5", "reason": "迟到半小时", "key": "fix-1"}
    result = gql.data(CORRECT, variables, user=world.admin_a)["correctServiceHours"]
    assert result["errors"] == [] and result["entry"]["kind"] == "CORRECTION" and result["entry"]["hours"] == "-0.50"
    assert result["entry"]["correctsId"] == variables["entryId"] and result["entry"]["recordedByName"] == "admin_a"
    assert gql.data(CORRECT, variables, user=world.admin_a)["correctServiceHours"] == result  # replay
    assert net_hours(ledger["feb"]) == Decimal("2.50")


def test_a_correction_below_zero_is_refused_over_graphql(world, gql, ledger):
    variables = {"entryId": gid("ServiceHoursEntry", ledger["feb"].pk), "hours": "-4", "reason": "x"}
    assert codes(gql.data(CORRECT, variables, user=world.admin_a)["correctServiceHours"]) == ["correction_below_zero"]


@pytest.mark.parametrize("who", ["admin_b", "commander", "a1"])
def test_only_community_staff_correct(world, gql, ledger, who):
    user = ledger["a1"] if who == "a1" else getattr(world, who)
    variables = {"entryId": gid("ServiceHoursEntry", ledger["feb"].pk), "hours": "1", "reason": "x"}
    if who == "commander":  # commanders hold MANAGE_PEOPLE over the district
        assert gql.data(CORRECT, variables, user=user)["correctServiceHours"]["errors"] == []
        return
    status, body = gql(CORRECT, variables, user=user)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert not ServiceHoursEntry.objects.filter(kind=CORRECTION).exists()


# --- export ---------------------------------------------------------------------------------
def _export(gql, user, community, **variables):
    return gql.data(EXPORT, {"communityId": gid("Area", community.pk), **variables}, user=user)["exportServiceHours"]


def test_export_csv_of_a_communitys_ledger(world, gql, ledger):
    record_service_hours(ledger["a1"], world.com_a, "-1", kind=CORRECTION, corrects=ledger["feb"], reason="=HYPERLINK(\"x\")")
    result = _export(gql, world.admin_a, world.com_a, format="CSV")
    file = result["file"]
    assert file["filename"] == f"service-hours-{world.com_a.code}-all.csv" and file["rowCount"] == 5
    text = base64.b64decode(file["contentBase64"]).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["条目编号", "服务时间", "成员"]
    assert sum(Decimal(r[5]) for r in rows[1:]) == Decimal("9.75")
    [correction] = [r for r in rows[1:] if r[4] == "更正"]  # listed next to the entry it corrects
    assert rows.index(correction) == 3
    assert correction[6] == "'=HYPERLINK(\"x\")"  # defused: a spreadsheet shows it as text
    assert correction[8] == str(ledger["feb"].pk)


def test_export_xlsx_for_a_date_range(world, gql, ledger):
    result = _export(gql, world.admin_a, world.com_a, format="XLSX", **{"from": "2026-02-01", "to": "2026-02-28"})
    assert result["file"]["rowCount"] == 2
    sheet = load_workbook(io.BytesIO(base64.b64decode(result["file"]["contentBase64"]))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 3 and sum(Decimal(str(r[5])) for r in rows[1:]) == Decimal("4.25")
    book = load_workbook(io.BytesIO(base64.b64decode(result["file"]["contentBase64"])))
    mark = dict(book["export"].iter_rows(values_only=True))  # who exported it and when (issue 21)
    assert mark["导出人"].endswith(f"(#{world.admin_a.pk})") and mark["导出时间"]


def test_export_needs_both_dates_or_neither(world, gql, ledger):
    result = _export(gql, world.admin_a, world.com_a, **{"from": "2026-02-01"})
    assert codes(result) == ["invalid_date_range"]


def test_export_is_refused_to_staff_of_another_community(world, gql, ledger):
    status, body = gql(EXPORT, {"communityId": gid("Area", world.com_a.pk)}, user=world.admin_b)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_export_management_command(world, ledger, tmp_path):
    out = tmp_path / "ledger.xlsx"
    call_command("export_service_hours", world.com_a.code, "--format", "xlsx", "--output", str(out), "--from", "2026-01-01", "--to", "2026-03-31")
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert len(rows) == 5
    csv_out = tmp_path / "ledger.csv"
    call_command("export_service_hours", world.com_a.code, "--output", str(csv_out), "--language", "en")
    assert csv_out.read_text(encoding="utf-8-sig").splitlines()[0].startswith("Entry,Served at,Member")
