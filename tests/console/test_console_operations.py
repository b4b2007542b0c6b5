"""The console in a real browser for what follows an emergency and what surrounds it: bulk
close with a dry-run preview, the staff second factor at login, warnings that propose a mode
switch, shelters with their occupancy, the after-action report's files, and the daily round
(a report becomes a task, an overdue inspection is recorded, a Party member's check-in is
confirmed)."""

from __future__ import annotations

import pyotp
import pytest
from graphql_relay import to_global_id
from playwright.sync_api import expect

from community.models import Area
from emergency.models import WarningProposal, WarningSource
from resources.facilities import check_in, check_out
from tests.console.conftest import elsewhere
from tests.emergency.cap_documents import cap, post_signed
from tests.emergency.emergency_support import _emergency_isolation  # noqa: F401
from tests.resources.conftest import household, shelter
from tests.shapes import draw_world
from tests.volunteers.conftest import make_volunteer, new_task, new_user
from volunteers.models import Task
from volunteers.services import add_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def gid(type_name: str, obj) -> str:
    return to_global_id(type_name, obj.pk)


def test_a_commander_closes_what_an_emergency_left_open_after_a_dry_run(world, open_console):
    held = new_task(world.grid_a1, title="转移物资", created_by=world.worker_a1, dispatch=False)
    add_person(held, make_volunteer(new_user("老王"), world.grid_a1), by=world.worker_a1)
    unheld = [new_task(grid, title=f"巡查{grid.name}", created_by=world.admin_a, dispatch=False) for grid in (world.grid_a1, world.grid_a2)]
    drill = new_task(world.grid_a2, title="演练任务", created_by=world.admin_a, is_drill=True, dispatch=False)
    elsewhere_task = new_task(world.grid_b1, title="乙社区任务", created_by=world.worker_b1, dispatch=False)
    console = open_console()
    page = console.login(world.commander, f"#/{gid('Area', world.com_a)}/tasks")
    expect(page.locator("tr[data-task-id]")).to_have_count(4)

    page.click("#bulk-after")
    page.select_option("#bulk-form select[name=isDrill]", "false")
    page.click("#bulk-preview")
    preview = page.locator("#bulk-preview-counts")
    expect(preview).to_contain_text("1 个有人承接的任务将记为完成")
    expect(preview).to_contain_text("2 个无人承接的任务将取消")
    expect(page.locator("#bulk-result .question")).to_have_text("确认关闭“甲社区”的 3 个任务？")
    assert Task.objects.filter(status__in=["DONE", "CANCELLED"]).count() == 0  # the preview changed nothing
    console.screenshot("bulk-preview")

    page.click("#bulk-result .confirm button.danger")
    expect(page.locator("#bulk-form .notice.ok")).to_have_text("已完成 1 个、取消 2 个任务，0 个已被他人处理。")
    expect(page.locator("tr[data-task-id]")).to_have_count(1)  # only the drill's task is still open
    statuses = dict(Task.objects.values_list("title", "status"))
    assert statuses[held.title] == "DONE" and all(statuses[t.title] == "CANCELLED" for t in unheld)
    assert statuses[drill.title] not in ("DONE", "CANCELLED") and statuses[elsewhere_task.title] not in ("DONE", "CANCELLED")
    assert Task.objects.get(pk=unheld[0].pk).status_reason == "应急结束，统一收尾"


def test_a_grid_worker_sets_up_the_authenticator_at_login_and_then_needs_its_code(world, open_console, settings):
    settings.STAFF_TOTP_REQUIRED = True
    console = open_console()
    page = console.page
    page.goto(f"{console.base_url}/console/")
    page.fill("input[name=username]", world.worker_a1.username)
    page.fill("input[name=password]", "pw-for-tests-123")
    page.click("form.login button[type=submit]")
    expect(page.locator("#enrol-title")).to_have_text("绑定身份验证器")
    expect(page.locator("#enrol-title")).to_be_focused()
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    uri = page.locator("#totp-uri").inner_text()
    assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri
    qr = page.get_by_role("img", name="绑定身份验证器的二维码")  # the same URI, to scan
    expect(qr).to_be_visible()
    modules = int(qr.get_attribute("data-modules"))
    assert modules >= 25 and (modules - 17) % 4 == 0  # a QR version big enough for the URI (version 2 and up)
    console.screenshot("enrol")
    page.fill("input[name=totp-code]", "000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    page.click("#enrol-confirm")
    expect(page.locator(".enrol-form .notice.error")).to_have_text("动态码：动态码不正确或已过期。")

    page.fill("input[name=totp-code]", pyotp.TOTP(secret).now())
    page.click("#enrol-confirm")
    codes = page.locator("#recovery-codes li")
    expect(codes).to_have_count(10)
    recovery = codes.first.inner_text().strip()
    console.screenshot("recovery-codes")
    page.click("#enrol-done")
    expect(page.locator("#area-badge")).to_contain_text("平时")

    # Signed out, the next login asks for a code: a recovery code stands in for the app's, once.
    page.get_by_role("button", name="退出").click()
    page.fill("input[name=username]", world.worker_a1.username)
    page.fill("input[name=password]", "pw-for-tests-123")
    page.click("form.login button[type=submit]")
    expect(page.locator("input[name=otp]")).to_be_focused()
    expect(page.locator("form.login .notice.error")).to_have_text("请输入身份验证器中的六位动态码。")
    page.fill("input[name=otp]", recovery)
    page.click("form.login button[type=submit]")
    expect(page.locator("#area-badge")).to_contain_text("平时")


def test_a_commander_accepts_a_warnings_proposal_after_seeing_the_plan(world, open_console, client):
    from emergency.plans import save_plan_version

    source = WarningSource.objects.create(code="weather", name="市气象台", kind="CAP_WEBHOOK", secret="bureau-secret")
    save_plan_version(world.com_a, "STANDBY", name="甲社区暴雨预警预案", by=world.commander,
                      actions=[{"type": "SAFETY_CHECK", "params": {"title": "预警报平安", "welfare_after_minutes": 60}}])
    response = elsewhere(post_signed, client, f"/warnings/cap/{source.code}/", cap("bj-c1", circle="30.270000,120.150000 2"),
                         source.secret)
    assert response.status_code == 200 and WarningProposal.objects.get().area_id == world.com_a.pk
    console = open_console()
    page = console.login(world.commander, f"#/{gid('Area', world.district)}/warnings")
    card = page.locator("#pending-proposals .proposal")
    expect(card).to_contain_text("暴雨红色预警")
    expect(card).to_contain_text("提议将“甲社区”切换为“预警”（当前：平时）")
    expect(page.locator("#incoming-warnings")).to_contain_text("市气象台")
    card.locator(".accept-proposal").click()
    expect(card.locator(".confirm")).to_contain_text("甲社区暴雨预警预案")
    expect(card.locator(".confirm")).to_contain_text("报平安")
    console.screenshot("proposal")
    card.locator(".confirm button.danger").click()
    expect(page.locator(".notice.ok")).to_contain_text("已接受")
    expect(page.locator("#pending-proposals")).to_contain_text("没有待决定的提议")
    assert Area.objects.get(pk=world.com_a.pk).mode == "STANDBY" and WarningProposal.objects.get().status == "ACCEPTED"

    # A grid worker may not switch the community: no decision is offered to them.
    worker = open_console()
    worker_page = worker.login(world.worker_a1, f"#/{gid('Area', world.grid_a1)}/warnings")
    expect(worker_page.locator("#pending-proposals > *")).not_to_have_count(0)
    expect(worker_page.locator(".accept-proposal")).to_have_count(0)


def test_shelters_show_their_occupancy_and_a_community_admin_closes_one(world, open_console):
    school = shelter(world.com_a, capacity=4, name="甲社区小学")
    shelter(world.com_b, code="b-school", capacity=10, name="乙社区小学")
    wang = household(world.grid_a1, "1幢101", ("王奶奶", {"elderly_living_alone": True}), ("王小明", {}))
    check_in(school, household=wang, by=world.admin_a)
    draw_world(world)
    console = open_console()
    page = console.login(world.admin_a, f"#/{gid('Area', world.com_a)}/facilities")
    expect(page.locator("path.grid-boundary")).to_have_count(2)  # the community's two grids on the map
    row = page.locator(f"tr[data-facility-id='{gid('Facility', school)}']")
    expect(row.locator(".occupancy")).to_contain_text("2/4")
    expect(page.locator("#shelter-total")).to_contain_text("开放的避难场所 1 处，共 2/4 人")
    expect(page.locator("#facility-list")).not_to_contain_text("乙社区小学")  # another community's shelter
    row.get_by_role("button", name="关闭").click()
    expect(row.locator(".confirm .question")).to_have_text("确认关闭“甲社区小学”？当前在场 2 人。")
    row.locator(".confirm button.danger").click()
    expect(row.locator(".notice.error")).to_have_text("状态：避难场所内还有人，请先办理离开。")  # the API refuses, in words

    # The family leaves (checked out at the door, elsewhere): the row follows without a reload.
    elsewhere(check_out, school, household=wang, by=world.admin_a)
    expect(row.locator(".occupancy")).to_contain_text("0/4")
    row.get_by_role("button", name="关闭").click()
    row.locator(".confirm button.danger").click()
    expect(row.get_by_role("button", name="开放")).to_be_visible()
    expect(page.locator("#shelter-total")).to_contain_text("开放的避难场所 0 处")
    school.refresh_from_db()
    assert school.status == "CLOSED"


def test_the_after_action_report_offers_its_pdf_and_workbook_by_signed_link(world, open_console):
    new_task(world.grid_a1, title="排水", created_by=world.worker_a1, dispatch=False)
    console = open_console()
    page = console.login(world.admin_a, f"#/{gid('Area', world.com_a)}/review")
    expect(page.locator("#review-pdf")).to_be_visible()
    for link, kind, magic in (("#review-pdf", "application/pdf", b"%PDF"), ("#review-xlsx", "spreadsheetml", b"PK")):
        href = page.locator(link).get_attribute("href")
        assert href.startswith(console.base_url) or href.startswith("/"), href
        response = page.request.get(href if href.startswith("http") else f"{console.base_url}{href}")  # no token: the link is the right
        assert response.status == 200 and kind in response.headers["content-type"] and response.body().startswith(magic)
    console.screenshot("review")


def test_a_grid_workers_round_a_report_becomes_a_task_and_an_overdue_inspection_is_recorded(world, open_console):
    import datetime as dt

    from django.utils import timezone

    from community.hazards import do_create_hazard_point
    from community.models import HazardPoint, ResidentReport
    from community.reports import do_submit_report

    report = do_submit_report(world.resident, kind="hazard", description="3幢门口井盖松动",
                              location=(world.grid_a1.center_lat, world.grid_a1.center_lng))
    underpass = do_create_hazard_point(by=world.admin_a, grid=world.grid_a1, location=(world.grid_a1.center_lat, world.grid_a1.center_lng),
                                       data={"name": "地下通道积水点", "kind": "waterlogging", "severity": 3, "inspection_interval_days": 30})
    HazardPoint.objects.filter(pk=underpass.pk).update(next_inspection_due=timezone.now() - dt.timedelta(days=3))
    console = open_console()
    page = console.login(world.worker_a1, f"#/{gid('Area', world.grid_a1)}/reports")
    item = page.locator(f"li[data-report-id='{gid('ResidentReport', report)}']")
    expect(item).to_contain_text("3幢门口井盖松动")
    item.get_by_role("button", name="转为任务").click()
    expect(page.locator("#detail-status")).to_be_visible()  # the task board opens on the new task
    task = Task.objects.get(source="REPORT")
    assert task.area_id == world.grid_a1.pk and "井盖" in task.title + task.description
    assert ResidentReport.objects.get(pk=report.pk).status == "converted_to_task"

    page.get_by_role("link", name="风险点").click()
    overdue = page.locator("section", has_text="逾期").first
    expect(overdue).to_contain_text("地下通道积水点")
    overdue.get_by_role("button", name="记录巡查").first.click()
    page.select_option("form.card select", "ISSUES_FOUND")
    page.fill("input[name=findings]", "排水口堵塞，已通知物业")
    page.click("form.card button[type=submit]")
    expect(page.locator(".notice.ok")).to_have_text("巡查已记录。")
    underpass.refresh_from_db()
    inspection = underpass.inspections.get()
    assert (inspection.result, inspection.findings) == ("issues_found", "排水口堵塞，已通知物业")
    assert underpass.next_inspection_due > timezone.now()


def test_a_community_admin_confirms_a_party_members_check_in(world, open_console):
    from tests.volunteers.conftest import make_member

    pending = make_member(new_user("党员小李"), world.com_a, status="PENDING")
    console = open_console()
    page = console.login(world.admin_a, f"#/{gid('Area', world.com_a)}/party")
    row = page.locator("tr", has_text="党员小李")
    expect(row).to_contain_text("第一党支部")
    row.get_by_role("button", name="确认报到").click()
    expect(page.locator(".notice.ok")).to_have_text("已确认。")
    expect(page.locator("tr", has_text="党员小李")).to_have_count(0)
    pending.refresh_from_db()
    assert pending.status == "CONFIRMED"


def test_a_community_admin_issues_an_alert_after_reading_its_cap_document_then_lifts_it(world, open_console):
    from emergency.models import Alert

    console = open_console()
    page = console.login(world.admin_a, f"#/{gid('Area', world.com_a)}/alerts")
    page.click("#issue-alert")
    page.fill("input[name=event]", "暴雨")
    page.fill("input[name=headline]", "甲社区暴雨红色预警")
    page.fill("textarea[name=description]", "今晚有特大暴雨。")
    page.fill("textarea[name=instruction]", "低洼住户请转移到甲社区小学。")
    page.click("form.card button[type=submit]")
    cap_document = page.locator("form.card pre.cap")
    expect(cap_document).to_contain_text("<headline>甲社区暴雨红色预警</headline>")
    expect(cap_document).to_contain_text("<status>Actual</status>")
    assert not Alert.objects.exists()  # the preview sent nothing
    page.click("form.card .confirm button.danger")
    expect(page.locator(".notice.ok")).to_have_text("预警已发布。")
    alert = Alert.objects.get()
    assert (alert.area_id, alert.headline, alert.is_drill) == (world.com_a.pk, "甲社区暴雨红色预警", False)

    issued = page.locator("section", has_text="甲社区暴雨红色预警")
    issued.get_by_role("button", name="解除").click()
    issued.locator(".confirm button.danger").click()
    expect(page.locator(".notice.ok")).to_have_text("预警已解除。")
    assert Alert.objects.filter(msg_type="Cancel").count() == 1
