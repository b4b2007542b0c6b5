"""The console in a real browser, as grid workers and commanders use it: what they do goes
through the public API, and what others do reaches their screen without a reload."""

from __future__ import annotations

import pytest
from graphql_relay import to_global_id
from playwright.sync_api import expect

from emergency.models import SafetyStatus
from emergency.plans import save_plan_version
from emergency.safety_answers import answer_safety_check
from notifications import events
from tests.console.conftest import api, elsewhere, until_subscribed
from tests.emergency.emergency_support import _emergency_isolation, resident, run_jobs  # noqa: F401
from tests.operations import operation
from tests.shapes import draw_world
from tests.volunteers.conftest import make_volunteer, new_task, new_user
from volunteers.models import Task

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def gid(type_name: str, obj) -> str:
    return to_global_id(type_name, obj.pk)


def test_a_grid_worker_creates_a_task_on_the_map_sees_the_acceptance_live_and_closes_it(world, open_console, gql):
    draw_world(world)
    helper = make_volunteer(new_user("小王"), world.grid_a1)
    console = open_console()
    page = console.login(world.worker_a1)
    expect(page.locator("#area-badge")).to_contain_text("平时")

    expect(page.locator("path.grid-boundary")).to_have_count(1)  # its own grid, drawn from the API's boundary
    page.click("#task-map", position={"x": 260, "y": 300})
    expect(page.locator("#task-where")).to_contain_text("地图上点选")
    expect(page.locator("#pin-grid")).to_have_text("该点位于“甲一网格”网格内。")  # areaAt, by the boundary
    page.fill("input[name=title]", "帮独居老人搬运物资")
    page.fill("input[name=address]", "甲社区3幢")
    page.click(".task-form button[type=submit]")
    expect(page.locator("#detail-status")).to_have_text("待派单")
    task = Task.objects.get(title="帮独居老人搬运物资")
    assert task.area_id == world.grid_a1.pk and task.point is not None and not task.is_drill
    until_subscribed(events.task_group(task.pk))  # the page's taskUpdated listens: nothing is missed

    # A volunteer accepts, through the API (the grid worker's offer, the volunteer's answer).
    offer = api(gql, operation("tasks/OfferTaskToVolunteer"), {"taskId": gid("Task", task), "volunteerId": gid("Volunteer", helper)},
                world.worker_a1)["offerTaskToVolunteer"]["offer"]
    answer = api(gql, operation("tasks/RespondToOffer"), {"offerId": offer["id"], "accept": True}, helper.user)["respondToOffer"]
    assert answer["outcome"] == "ACCEPTED"
    expect(page.locator("#task-people")).to_contain_text("小王")
    expect(page.locator("#detail-status")).to_have_text("人员已满")
    expect(page.locator("tr[data-task-id] .task-filled")).to_have_text("1/1")
    console.screenshot("accepted")

    page.click("#close-task")
    page.click(".confirm button.primary")
    expect(page.locator("#detail-status")).to_have_text("已完成")
    task.refresh_from_db()
    assert task.status == "DONE"


def test_a_commander_starts_a_drill_and_watches_the_safety_board_fill(world, open_console, settings):
    settings.SAFETY_PUSH_INTERVAL_SECONDS = 0.05
    save_plan_version(world.com_a, "EMERGENCY", name="甲社区防汛预案", by=world.commander,
                      actions=[{"type": "SAFETY_CHECK", "params": {"title": "防汛报平安", "welfare_after_minutes": 30}}])
    grandma = resident(world.grid_a1, "王奶奶", elderly_living_alone=True, address="甲社区1幢101")
    neighbour = resident(world.grid_a1, "李明", app=True)
    resident(world.grid_a2, "赵强", app=True)
    console = open_console()
    page = console.login(world.commander, f"#/{gid('Area', world.com_a)}/modes")

    page.select_option("#target-mode", "EMERGENCY")
    page.check("#is-drill")
    page.click("#preview-switch")
    expect(page.locator("#plan-preview")).to_contain_text("甲社区防汛预案")
    expect(page.locator("#plan-preview")).to_contain_text("报平安")
    console.screenshot("drill-preview")
    page.click(".confirm button.primary")
    expect(page.locator(".notice.ok")).to_contain_text("已切换")
    elsewhere(run_jobs)  # what the Celery workers do after the commit: the plan runs and asks everyone

    console.go(f"#/{gid('Area', world.com_a)}/safety")
    safe = page.locator('[data-count="safe"] strong')
    expect(page.locator("#check-picker")).to_contain_text("演练")
    expect(safe).to_have_text("0")
    expect(page.locator(".safety-board[data-live=true]")).to_be_attached()  # the server listens: no answer is missed
    expect(page.locator('[data-count="vulnerable"] strong')).to_have_text("0/1")
    expect(page.locator("#silent-masked")).to_be_visible()  # who is vulnerable: not a commander's to see

    row = SafetyStatus.objects.select_related("resident", "grid", "safety_check").get(resident=neighbour)
    assert row.safety_check.is_drill
    elsewhere(answer_safety_check, row, "SAFE", by=neighbour.user, channel="APP")
    expect(safe).to_have_text("1")

    # The community's admin sees the silent vulnerable resident with her address, and answers for her.
    admin = open_console()
    admin_page = admin.login(world.admin_a, f"#/{gid('Area', world.com_a)}/safety")
    expect(admin_page.locator("#silent-vulnerable")).to_contain_text("王奶奶")
    expect(admin_page.locator("#silent-vulnerable")).to_contain_text("甲社区1幢101")
    admin_page.get_by_role("button", name="代为报平安: 王奶奶").click()
    expect(safe).to_have_text("2")
    expect(page.locator('[data-count="vulnerable"] strong')).to_have_text("1/1")
    expect(page.locator("#safety-grids")).to_contain_text("甲一网格")
    assert SafetyStatus.objects.get(resident=grandma).status == "SAFE"
    console.screenshot("safety-board")

    # The mode screen shows the drill beside the real mode; ending it winds down what it started.
    console.go(f"#/{gid('Area', world.com_a)}/modes")
    expect(page.locator("#drill-state")).to_contain_text("演练 · 应急")
    expect(page.locator("#drill-state")).to_contain_text("真实模式仍为“平时”")
    expect(page.locator("#area-badge")).to_contain_text("演练")
    page.click("#end-drill")
    page.click("#drill-state .confirm button.danger")
    expect(page.locator("#no-drill")).to_be_visible()
    elsewhere(run_jobs)  # the wind-down runs in the background; the screen follows it until DONE
    wind_down = page.locator("#wind-downs .wind-down").first
    expect(wind_down).to_contain_text("演练结束")
    expect(wind_down).to_contain_text("已完成")
    expect(wind_down.locator("tr", has_text="结束的报平安").locator("td")).to_have_text("1")
    expect(page.locator("#area-badge")).not_to_contain_text("演练")
    console.screenshot("drill-wound-down")
    # The run's own tasks (none: nobody vulnerable stayed silent long enough) by closeTasks' dry run.
    page.get_by_role("button", name="批量关闭此次执行生成的任务").click()
    page.click("#bulk-preview")
    expect(page.locator("#bulk-form .notice.ok")).to_have_text("没有符合条件的未结束任务。")


def test_a_grid_worker_opening_another_grids_url_sees_nothing_of_it(world, open_console):
    new_task(world.grid_b1, title="乙一网格的秘密任务", created_by=world.worker_b1)
    resident(world.grid_b1, "乙网格居民")
    console = open_console()
    page = console.login(world.worker_a1)
    for screen in ("tasks", "residents", "safety", "reports", "modes", "warnings", "facilities", "review"):
        console.go(f"#/{gid('Area', world.grid_b1)}/{screen}")
        expect(page.locator("#no-access")).to_be_visible()
        content = page.content()
        assert "乙一网格" not in content and "秘密任务" not in content and "乙网格居民" not in content
    console.screenshot("other-grid")


def test_a_community_admin_checks_a_roster_before_importing_it(world, open_console):
    from community.models import Resident

    header = "姓名,手机号,住址,网格,户号,独居老人\n"
    good = "张三,13800138001,甲社区1幢101,甲一网格,1幢101,是\n"
    bad = "李四,12345,甲社区2幢,甲一网格,,\n"  # not a phone number

    def roster(*rows: str) -> list[dict]:
        return [{"name": "roster.csv", "mimeType": "text/csv", "buffer": (header + "".join(rows)).encode("utf-8-sig")}]

    console = open_console()
    page = console.login(world.admin_a, f"#/{gid('Area', world.com_a)}/residents")
    page.click("#open-import")
    page.set_input_files("input[type=file]", files=roster(good, bad))
    page.select_option("select[name=legalBasis]", "STATUTORY_DUTY")  # 独居老人 without consent (PIPL)
    page.click("#import-dry-run")
    expect(page.locator("#import-report")).to_contain_text("共 2 行")
    expect(page.locator(".card table")).to_contain_text("手机号码无效")
    expect(page.locator("#import-apply")).to_be_disabled()  # only a clean dry run may be imported
    assert not Resident.objects.exists()

    page.set_input_files("input[type=file]", files=roster(good))
    page.click("#import-dry-run")
    expect(page.locator("#import-report")).to_contain_text("新增 1")
    page.click("#import-apply")
    expect(page.locator(".notice.ok")).to_contain_text("已导入")
    assert Resident.objects.get().display_name == "张三"


def test_the_console_fits_a_phone_and_speaks_english_on_request(world, open_console):
    console = open_console({"width": 390, "height": 844})
    page = console.login(world.worker_a1)
    page.get_by_role("button", name="English").click()
    expect(page.locator("nav.screens")).to_contain_text("Safety check")
    expect(page.locator("#area-badge")).to_contain_text("Normal")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    console.screenshot("phone-english")
    page.get_by_role("link", name="Shelters").click()
    expect(page.locator("#facility-list")).to_contain_text("No facilities in this area.")
    page.get_by_role("link", name="Account").click()
    expect(page.get_by_role("button", name="Set up an authenticator app")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
