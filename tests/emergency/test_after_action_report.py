"""The after-action report serves a commander (issue 16, finding 6): a breakdown by area down
to each grid, the work still open, the time from a call for help to the first volunteer on
site, messages by lane and channel with what is still queued, every label in Chinese (English
for an English-speaking viewer), and the same report as a PDF (CJK text, names never broken
across lines) and as a spreadsheet."""

import datetime as dt
import io
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from weasyprint import HTML

from community.models import Mode
from emergency.alerts import issue_alert
from emergency.models import SafetyStatus
from emergency.review import after_action_report
from emergency.review_html import render_report_html
from emergency.safety import start_safety_check
from emergency.safety_answers import answer_safety_check, request_welfare_checks
from emergency.switching import switch_mode
from emergency.tasks import run_pending_emergency_jobs
from notifications.delivery import deliver
from notifications.models import SmsMessage
from tests.notifications.helpers import send_pushes, send_queued
from tests.operations import operation
from tests.volunteers.conftest import make_volunteer, new_user
from volunteers.models import Task, TaskAssignment
from volunteers.services import add_person

from .emergency_support import ALERT_PARAMS, _emergency_isolation, gid, resident  # noqa: F401

pytestmark = pytest.mark.django_db
REPORT = operation("emergency/AfterActionReport")


def answer(person, status):
    row = SafetyStatus.objects.select_related("safety_check", "resident", "grid").get(resident=person)
    answer_safety_check(row, status, by=None, channel="STAFF")


@pytest.fixture
def emergency(world):
    """An emergency in 甲社区: in 甲一网格 one safe in the app, one calling for help, an elderly
    resident living alone who stays silent, one with neither app nor phone; in 甲二网格 one
    safe and two more calls for help. Volunteers reach the three callers 10, 20 and 40
    minutes after they asked. The SMS are written but, but for the elder's question, not yet
    handed to a carrier."""
    since = timezone.now() - dt.timedelta(minutes=5)
    switch_mode(world.com_a, Mode.EMERGENCY, by=world.admin_a, reason="暴雨")
    issue_alert(world.com_a, ALERT_PARAMS, by=world.admin_a)
    people = {"app": resident(world.grid_a1, "用App的", app=True), "caller": resident(world.grid_a1, "求助人"),
              "elder": resident(world.grid_a1, "独居老人", elderly_living_alone=True),
              "nobody": resident(world.grid_a1, "无联系方式", phone=False),
              "safe2": resident(world.grid_a2, "平安居民"), "caller2": resident(world.grid_a2, "求助人二"),
              "caller3": resident(world.grid_a2, "求助人三")}
    check = start_safety_check(world.com_a, by=world.admin_a, title="暴雨报平安")
    run_pending_emergency_jobs()
    for key, status in (("app", "SAFE"), ("safe2", "SAFE"), ("caller", "NEED_HELP"), ("caller2", "NEED_HELP"),
                        ("caller3", "NEED_HELP")):
        answer(people[key], status)
    # The elder's question went out (their silence counts from then); the other texts wait.
    deliver(SmsMessage.objects.get(purpose="safety_check", phone=str(people["elder"].phone)).pk, pace=False)
    request_welfare_checks(now=timezone.now() + dt.timedelta(minutes=61))
    helpers = iter(make_volunteer(new_user(f"志愿者{i}"), world.grid_a1) for i in range(3))
    for minutes, key in ((10, "caller"), (20, "caller2"), (40, "caller3")):
        task = Task.objects.get(pk=SafetyStatus.objects.get(resident=people[key]).need_help_task_id)
        add_person(task, next(helpers), by=world.admin_a)
        TaskAssignment.objects.filter(task=task).update(status="ON_SITE", on_site_at=task.created_at + dt.timedelta(minutes=minutes))
    return {"since": since, "people": people, "check": check}


def period(emergency) -> dict:
    return {"since": emergency["since"].isoformat(), "until": (timezone.now() + dt.timedelta(minutes=5)).isoformat()}


def test_the_report_breaks_down_by_area_down_to_each_grid(world, gql, emergency):
    report = gql.data(REPORT, {"areaId": gid("Area", world.com_a), **period(emergency)}, user=world.admin_a)["afterActionReport"]
    rows = {r["area"]["name"]: r for r in report["breakdown"]}
    assert [(r["area"]["name"], r["level"]) for r in report["breakdown"]] == [("甲社区", 0), ("甲一网格", 1), ("甲二网格", 1)]
    grid = rows["甲一网格"]
    assert (grid["residents"], grid["asked"], grid["reached"], grid["safe"], grid["needHelp"], grid["silent"],
            grid["unreachable"]) == (4, 3, 2, 1, 1, 2, 1)
    assert (grid["vulnerable"], grid["vulnerableAccountedFor"], grid["welfareVisits"], grid["welfareVisitsDone"]) == (1, 0, 1, 0)
    assert (grid["tasksCreated"], grid["tasksOpen"]) == (2, 2)
    total = rows["甲社区"]
    assert (total["residents"], total["safe"], total["needHelp"], total["tasksCreated"]) == (7, 2, 3, 4)
    # A district commander's report goes through every level on the way down.
    district = gql.data(REPORT, {"areaId": gid("Area", world.district), **period(emergency)},
                        user=world.commander)["afterActionReport"]["breakdown"]
    assert [r["area"]["kind"] for r in district][:4] == ["DISTRICT", "SUBDISTRICT", "COMMUNITY", "GRID"]


def test_a_call_for_help_to_the_first_volunteer_on_site_p50_and_p90(world, gql, emergency):
    report = gql.data(REPORT, {"areaId": gid("Area", world.com_a), **period(emergency)}, user=world.admin_a)["afterActionReport"]
    assert (report["helpToSiteP50Seconds"], report["helpToSiteP90Seconds"]) == (20 * 60, 40 * 60)
    grid = next(r for r in report["breakdown"] if r["area"]["name"] == "甲二网格")
    assert (grid["helpToSiteP50Seconds"], grid["helpToSiteP90Seconds"]) == (20 * 60, 40 * 60)


def test_the_work_still_open_is_listed_life_safety_first(world, gql, emergency):
    report = gql.data(REPORT, {"areaId": gid("Area", world.com_a), **period(emergency)}, user=world.admin_a)["afterActionReport"]
    assert report["openTasksTotal"] == 4
    assert [t["priority"] for t in report["openTasks"]] == ["LIFE_SAFETY"] * 3 + ["URGENT"]
    assert report["silentVulnerable"] == [{"name": "独居老人", "grid": "甲一网格", "safetyCheck": "暴雨报平安",
                                           "welfareVisitStatus": "OPEN"}]
    # A district commander may not see the residents' personal data: the name is masked.
    masked = gql.data(REPORT, {"areaId": gid("Area", world.com_a), **period(emergency)}, user=world.commander)
    assert masked["afterActionReport"]["silentVulnerable"][0]["name"] == "独***"


def test_messages_by_lane_and_channel_say_what_is_still_queued(world, gql, emergency):
    variables = {"areaId": gid("Area", world.com_a), **period(emergency)}
    queued = SmsMessage.objects.filter(status="queued", purpose__in=["alert", "safety_check"]).count()
    messages = gql.data(REPORT, variables, user=world.admin_a)["afterActionReport"]["messages"]
    assert queued > 0 and messages["smsQueuedNow"] == queued and messages["byLane"]["life_safety"]["queued_now"] == queued
    # Pushes count what reached a provider, not rows written (issue 15).
    push = messages["byChannel"]["push"]
    assert push["written"] == push["queued_now"] + push["superseded"] and push["queued_now"] > 0
    assert messages["pushes"] == push["sent"] == 0
    send_queued()
    send_pushes()
    later = gql.data(REPORT, variables, user=world.admin_a)["afterActionReport"]["messages"]
    assert later["smsQueuedNow"] == 0 and later["smsSent"] == messages["smsSent"] + queued
    assert later["pushes"] == later["byChannel"]["push"]["sent"] == push["queued_now"]
    assert later["byChannel"]["push"]["acknowledged"] == 0


RAW = (">EMERGENCY", "Severe", ">written<", ">switch<", "LIFE_SAFETY", "safety_check", "NEED_HELP", "DISPATCHING",
       "Immediate", ">Alert:")


def test_every_label_is_in_chinese_and_in_english_for_an_english_speaker(world, gql, emergency):
    variables = {"areaId": gid("Area", world.com_a), **period(emergency)}
    chinese = gql.data(REPORT, variables, user=world.admin_a)["afterActionReport"]
    assert chinese["language"] == "zh-hans"
    html = chinese["html"]
    assert not [raw for raw in RAW if raw in html], "raw codes in the report"
    for label in ("分区域情况", "报告时仍未完成的工作", "生命安全", "平时 → 应急", "严重 / 立即", "待发送", "求助→到场"):
        assert label in html, label
    status, body = gql(REPORT, variables, user=world.admin_a, headers={"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"})
    english = body["data"]["afterActionReport"]
    assert english["language"] == "en"
    for label in ("By area", "Work still open at report time", "Life safety", "Normal → Emergency", "Queued now"):
        assert label in english["html"], label
    assert "分区域情况" not in english["html"] and "甲一网格" in english["html"]  # names stay as they are
    asked = gql.data(REPORT, {**variables, "language": "EN"}, user=world.admin_a)["afterActionReport"]
    assert asked["language"] == "en"


def text_boxes(html: str) -> list[str]:
    """The runs of text as WeasyPrint laid them out, line by line (a broken name is several)."""
    document = HTML(string=html).render()
    return [box.text for page in document.pages for box in page._page_box.descendants() if getattr(box, "text", "")]


def test_the_pdf_is_the_same_report_with_chinese_fonts_and_names_on_one_line(world, gql, client, emergency):
    report = gql.data(REPORT, {"areaId": gid("Area", world.com_a), **period(emergency)}, user=world.admin_a)["afterActionReport"]
    pdf = client.get(path_of(report["pdfUrl"]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"].endswith('.pdf"') and pdf.content.startswith(b"%PDF")
    html = after_action_html(world, emergency)
    # The Chinese text is set in the CJK font (these machines have it: `make system-deps`).
    assert b"Noto-Sans-CJK-SC" in HTML(string=html).write_pdf(uncompressed_pdf=True)
    laid_out = text_boxes(html)
    for name in ("甲一网格", "甲二网格", "暴雨报平安"):
        assert name in laid_out, f"{name} is broken across lines"


def after_action_html(world, emergency) -> str:
    report = after_action_report(world.com_a, emergency["since"], timezone.now() + dt.timedelta(minutes=5),
                                 viewer=world.admin_a)
    return render_report_html(report, "zh-hans")


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_the_tables_download_as_a_spreadsheet(world, gql, client, emergency):
    report = gql.data(REPORT, {"areaId": gid("Area", world.com_a), **period(emergency)}, user=world.admin_a)["afterActionReport"]
    response = client.get(path_of(report["xlsxUrl"]))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["概况", "分区域情况", "未结束的任务", "仍未答复的重点关注居民", "时间线", "消息"]
    areas = [row[0].strip() for row in book["分区域情况"].iter_rows(min_row=2, values_only=True)]
    assert areas == ["合计 · 甲社区", "甲一网格", "甲二网格"]
    assert book["未结束的任务"].max_row == 5  # the head and the four open tasks


def test_an_unknown_format_is_refused(world, gql, client, emergency):
    report = gql.data(REPORT, {"areaId": gid("Area", world.com_a), **period(emergency)}, user=world.admin_a)["afterActionReport"]
    assert client.get(path_of(report["downloadUrl"]) + "&format=docx").status_code == 400


def test_naming_a_silent_vulnerable_resident_is_logged_as_a_read_over_the_api_and_in_the_export(world, gql, client, emergency):
    """Issue 21: the report names vulnerable people to staff with personal-data rights, so it
    is a read of their vulnerability — logged for the API answer and for the spreadsheet."""
    from privacy.models import AccessLog

    report = gql.data(REPORT, {"areaId": gid("Area", world.com_a), **period(emergency)}, user=world.admin_a)["afterActionReport"]
    api = list(AccessLog.objects.filter(channel="api", operation="AfterActionReport"))
    assert [(r.actor_id, r.fields, r.role) for r in api] == [(world.admin_a.pk, ["vulnerability"], "community_admin")]
    assert client.get(path_of(report["xlsxUrl"])).status_code == 200
    export = AccessLog.objects.get(channel="export")
    assert (export.actor_id, export.subject_id, export.operation) == (world.admin_a.pk, api[0].subject_id, "afterActionReport.xlsx")
    # A commander sees the name masked: nothing is logged for them.
    gql.data(REPORT, {"areaId": gid("Area", world.com_a), **period(emergency)}, user=world.commander)
    assert not AccessLog.objects.filter(actor_id=world.commander.pk).exists()


def test_a_downloaded_report_says_who_exported_it_and_when(world, gql, client, emergency):
    report = gql.data(REPORT, {"areaId": gid("Area", world.com_a), **period(emergency)}, user=world.admin_a)["afterActionReport"]
    html = client.get(path_of(report["downloadUrl"])).content.decode()
    assert f"导出人 admin_a (#{world.admin_a.pk})" in html
    book = load_workbook(io.BytesIO(client.get(path_of(report["xlsxUrl"])).content))
    rows = {r[0]: r[1] for r in book["概况"].iter_rows(min_row=2, values_only=True)}
    assert rows["导出人"] == f"admin_a (#{world.admin_a.pk})" and rows["生成于"]
    assert "导出人" not in report.get("html", "")  # on screen it is not an export
