"""Safety checks (报平安): one row per resident, the question by push and SMS (vulnerable
first), answers from the app, by SMS reply through the signed webhook, or by someone allowed
to answer for the person; never lost or counted twice; need help becomes a life-safety task at
once and a vulnerable resident's silence a welfare-check task at the set time."""

import datetime as dt

import pytest
from django.utils import timezone

from community.models import EmergencyContact, Household
from emergency.models import SafetyAnswer, SafetyCheck, SafetyStatus
from emergency.safety import safety_counts, start_safety_check
from emergency.safety_answers import answer_safety_check, request_welfare_checks
from notifications.models import Notification, SmsMessage
from notifications.tasks import process_inbound
from tests.notifications.helpers import PUBLIC, inbound_params, signed_post
from tests.operations import operation
from volunteers.models import Task

from .emergency_support import _emergency_isolation, gid, resident, run_jobs  # noqa: F401

pytestmark = pytest.mark.django_db
START = operation("emergency/StartSafetyCheck")
MINE = operation("emergency/MySafetyStatuses")
ANSWER = operation("emergency/AnswerSafetyCheck")
CHECK = operation("emergency/SafetyCheck")
CLOSE = operation("emergency/CloseSafetyCheck")


@pytest.fixture
def area(world):
    people = {
        "app": resident(world.grid_a1, "张用App", app=True),
        "sms": resident(world.grid_a1, "李无App"),
        "old": resident(world.grid_a2, "王独居", elderly_living_alone=True),
        "old_app": resident(world.grid_a2, "赵轮椅", app=True, disabled=True),
        "silent": resident(world.grid_a2, "孙无电话", phone=False),
    }
    return people


def started(world, **kwargs) -> SafetyCheck:
    check = start_safety_check(world.com_a, by=world.admin_a, title="暴雨报平安", **kwargs)
    run_jobs()
    check.refresh_from_db()
    return check


def row(check, person) -> SafetyStatus:
    return SafetyStatus.objects.select_related("resident__user", "grid", "safety_check").get(safety_check=check, resident=person)


def test_starting_creates_one_unanswered_row_per_resident_and_asks_them(world, area):
    outsider = resident(world.grid_b1, "乙社区居民", app=True)
    check = started(world)
    assert SafetyStatus.objects.filter(safety_check=check).count() == 5 == check.resident_count
    assert not SafetyStatus.objects.filter(resident=outsider).exists()
    pushed = set(Notification.objects.filter(kind="safety_check").values_list("user_id", flat=True))
    assert pushed == {area["app"].user_id, area["old_app"].user_id}
    sms = list(SmsMessage.objects.filter(purpose="safety_check").order_by("id"))
    # vulnerable first (both of them, the app user too), then those without the app
    assert [m.phone for m in sms] == [str(area["old"].phone), str(area["old_app"].phone), str(area["sms"].phone)]
    assert all(m.expects_reply and "回复1" in m.body for m in sms)
    assert check.fanout_status == "DONE" and check.fanout_counts["unreachable"] == 1


def test_the_push_names_the_check_by_the_id_the_api_takes_back(world, area, gql):
    started(world)
    push = Notification.objects.get(kind="safety_check", user=area["app"].user)
    answered = gql.data(ANSWER, {"safetyCheckId": push.data["safetyCheckId"], "status": "SAFE", "key": "p"},
                        user=area["app"].user)["answerSafetyCheck"]
    assert answered["errors"] == [] and push.data["areaId"] == gid("Area", world.com_a)


def test_a_resident_who_texted_stop_counts_as_unreachable_not_as_asked(world, area):
    from notifications.consent import opt_out

    opt_out(str(area["sms"].phone), source="keyword")
    check = started(world)
    sms = SmsMessage.objects.get(purpose="safety_check", phone=str(area["sms"].phone))
    assert sms.status == "refused" and sms.error_code == "opted_out"
    assert row(check, area["sms"]).asked_by_sms is False
    assert check.fanout_counts["unreachable"] == 2 and check.fanout_counts["sms"] == 2  # + the one with no phone


def test_a_drill_safety_check_sms_carries_the_drill_marker(world, area):
    started(world, is_drill=True)
    assert all(m.body.startswith("【演练】") for m in SmsMessage.objects.filter(purpose="safety_check"))
    assert Notification.objects.filter(kind="safety_check", is_drill=True).count() == 2


def test_counts_per_area_and_grid(world, area):
    check = started(world)
    answer_safety_check(row(check, area["app"]), "SAFE", by=area["app"].user, channel="APP")
    answer_safety_check(row(check, area["old"]), "NEED_HELP", by=world.worker_a1, channel="STAFF")
    counts = safety_counts(check)
    assert (counts.overall.total, counts.overall.safe, counts.overall.need_help, counts.overall.unanswered) == (5, 1, 1, 3)
    assert (counts.overall.vulnerable, counts.overall.vulnerable_accounted) == (2, 1)
    grids = {g.area.pk: g.tally for g in counts.by_grid}
    assert (grids[world.grid_a1.pk].accounted_for, grids[world.grid_a1.pk].total) == (1, 2)
    assert (grids[world.grid_a2.pk].accounted_for, grids[world.grid_a2.pk].total) == (1, 3)
    assert [a.area for a in counts.by_area] == [world.com_a]


def test_an_app_answer_replayed_with_its_key_counts_once(world, area, gql):
    check = started(world)
    variables = {"safetyCheckId": gid("SafetyCheck", check), "status": "SAFE", "key": "same-key"}
    first = gql.data(ANSWER, variables, user=area["app"].user)["answerSafetyCheck"]
    second = gql.data(ANSWER, variables, user=area["app"].user)["answerSafetyCheck"]
    assert first == second and first["status"]["status"] == "SAFE" and first["status"]["channel"] == "APP"
    assert SafetyAnswer.objects.count() == 1
    assert safety_counts(check).overall.safe == 1


def test_the_service_itself_is_idempotent_on_the_client_key(world, area):
    check = started(world)
    answer_safety_check(row(check, area["app"]), "SAFE", by=area["app"].user, channel="APP", client_key="k")
    again = answer_safety_check(row(check, area["app"]), "NEED_HELP", by=area["app"].user, channel="APP", client_key="k")
    assert again.replayed and row(check, area["app"]).status == "SAFE" and SafetyAnswer.objects.count() == 1


def test_need_help_creates_one_life_safety_task_at_once_and_a_later_change_is_recorded(world, area, gql):
    check = started(world)
    variables = {"safetyCheckId": gid("SafetyCheck", check), "status": "SAFE", "key": "a1"}
    gql.data(ANSWER, variables, user=area["app"].user)
    result = gql.data(ANSWER, {**variables, "status": "NEED_HELP", "key": "a2", "note": "家里进水，腿脚不便",
                               "location": {"latitude": 30.2715, "longitude": 120.1515, "datum": "WGS84"}},
                      user=area["app"].user)["answerSafetyCheck"]
    status = result["status"]
    assert status["status"] == "NEED_HELP" and status["needHelpTaskId"] and status["location"]["latitude"] == 30.2715
    task = Task.objects.get(source="SAFETY_CHECK")
    assert (task.priority, task.is_drill, task.area_id) == ("LIFE_SAFETY", False, world.grid_a1.pk)
    assert [a.previous_status for a in SafetyAnswer.objects.order_by("id")] == ["UNANSWERED", "SAFE"]
    gql.data(ANSWER, {**variables, "status": "NEED_HELP", "key": "a3"}, user=area["app"].user)
    assert Task.objects.filter(source="SAFETY_CHECK").count() == 1  # one per resident and check


def test_sms_replies_1_and_2_through_the_signed_webhook(world, area, client, settings, django_capture_on_commit_callbacks):
    settings.TWILIO_AUTH_TOKEN = "fake-twilio-auth-token-0123456789"
    settings.PUBLIC_BASE_URL = PUBLIC
    check = started(world)
    with django_capture_on_commit_callbacks(execute=True):
        assert signed_post(client, "/sms/inbound/", inbound_params(str(area["sms"].phone), "1", "SM" + "a" * 32)).status_code == 200
        assert signed_post(client, "/sms/inbound/", inbound_params(str(area["old"].phone), "２", "SM" + "b" * 32)).status_code == 200
        # Twilio retries the same message: deduplicated by MessageSid
        signed_post(client, "/sms/inbound/", inbound_params(str(area["old"].phone), "２", "SM" + "b" * 32))
    for sid in ("SM" + "a" * 32, "SM" + "b" * 32):
        from notifications.models import InboundSms

        process_inbound(InboundSms.objects.get(message_sid=sid).pk)
    assert row(check, area["sms"]).status == "SAFE" and row(check, area["sms"]).channel == "SMS"
    assert row(check, area["old"]).status == "NEED_HELP"
    assert SafetyAnswer.objects.count() == 2
    assert Task.objects.filter(source="SAFETY_CHECK", priority="LIFE_SAFETY").count() == 1
    replies = list(SmsMessage.objects.filter(purpose="sms_reply").values_list("body", flat=True))
    assert any("已记录您平安" in r for r in replies) and any("需要帮助" in r for r in replies)


def test_an_sms_answer_can_be_changed_by_replying_again(world, area, client, settings, django_capture_on_commit_callbacks):
    # The SAFE confirmation says "reply 2 if you need help": a second reply must count.
    settings.TWILIO_AUTH_TOKEN = "fake-twilio-auth-token-0123456789"
    settings.PUBLIC_BASE_URL = PUBLIC
    check = started(world)
    for body, sid in (("1", "SM" + "c" * 32), ("2", "SM" + "d" * 32)):
        with django_capture_on_commit_callbacks(execute=True):
            assert signed_post(client, "/sms/inbound/", inbound_params(str(area["sms"].phone), body, sid)).status_code == 200
        from notifications.models import InboundSms

        assert process_inbound(InboundSms.objects.get(message_sid=sid).pk) == "answered"
    assert row(check, area["sms"]).status == "NEED_HELP"
    assert SafetyAnswer.objects.filter(status_row=row(check, area["sms"])).count() == 2
    assert Task.objects.filter(source="SAFETY_CHECK", priority="LIFE_SAFETY").count() == 1
    replies = list(SmsMessage.objects.filter(purpose="sms_reply").order_by("id").values_list("body", flat=True))
    assert "如需帮助请再回复2" in replies[0] and "需要帮助" in replies[1]


def test_help_while_asked_says_how_to_answer(world, area, client, settings, django_capture_on_commit_callbacks):
    settings.TWILIO_AUTH_TOKEN = "fake-twilio-auth-token-0123456789"
    settings.PUBLIC_BASE_URL = PUBLIC
    started(world)
    with django_capture_on_commit_callbacks(execute=True):
        signed_post(client, "/sms/inbound/", inbound_params(str(area["sms"].phone), "帮助", "SM" + "e" * 32))
    from notifications.models import InboundSms

    process_inbound(InboundSms.objects.get(message_sid="SM" + "e" * 32).pk)
    reply = SmsMessage.objects.filter(purpose="sms_reply", phone=str(area["sms"].phone)).latest("id").body
    assert "回复2表示否/需要帮助" in reply


def test_need_help_for_a_resident_with_a_long_address_still_makes_the_task(world, area):
    long_address = "解放路" + "1" * 240  # as long as a resident's address may be (255)
    area["sms"].address = long_address
    area["sms"].save(update_fields=["address"])
    check = started(world)
    answer_safety_check(row(check, area["sms"]), "NEED_HELP", by=None, channel="SMS")
    task = Task.objects.get(source="SAFETY_CHECK", priority="LIFE_SAFETY")
    assert task.address == long_address and row(check, area["sms"]).need_help_task_id == task.pk


def test_a_household_member_or_linked_contact_may_answer_for_someone(world, area, gql):
    home = Household.objects.create(grid=world.grid_a2, label="3幢")
    SafetyStatus.objects.none()
    for key in ("old", "old_app"):
        area[key].household = home
        area[key].save()
    neighbour = resident(world.grid_a1, "邻居", app=True)
    EmergencyContact.objects.create(resident=area["sms"], name="邻居", linked_user=neighbour.user)
    check = started(world)
    by_member = gql.data(ANSWER, {"safetyCheckId": gid("SafetyCheck", check), "status": "SAFE",
                                  "residentId": gid("Resident", area["old"])}, user=area["old_app"].user)["answerSafetyCheck"]
    assert by_member["status"]["channel"] == "PROXY"
    by_contact = gql.data(ANSWER, {"safetyCheckId": gid("SafetyCheck", check), "status": "SAFE",
                                   "residentId": gid("Resident", area["sms"])}, user=neighbour.user)["answerSafetyCheck"]
    assert by_contact["status"]["channel"] == "PROXY"
    listed = gql.data(MINE, {}, user=neighbour.user)["mySafetyStatuses"]["edges"]
    assert {e["node"]["resident"]["displayName"] for e in listed} == {"邻居", "李无App"}


@pytest.mark.parametrize("who", ["other_resident", "worker_b1"])
def test_nobody_else_may_answer_for_a_resident_and_nothing_changes(world, area, gql, who):
    check = started(world)
    status, body = gql(ANSWER, {"safetyCheckId": gid("SafetyCheck", check), "status": "SAFE",
                                "residentId": gid("Resident", area["old"])}, user=getattr(world, who))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert row(check, area["old"]).status == "UNANSWERED" and not SafetyAnswer.objects.exists()


def test_bad_answers_are_typed_errors(world, area, gql):
    check = started(world)
    base = {"safetyCheckId": gid("SafetyCheck", check), "status": "UNANSWERED"}
    result = gql.data(ANSWER, base, user=area["app"].user)["answerSafetyCheck"]
    assert result["errors"][0]["code"] == "INVALID"
    result = gql.data(ANSWER, {**base, "status": "SAFE", "note": "x" * 501}, user=area["app"].user)["answerSafetyCheck"]
    assert result["errors"][0]["code"] == "TOO_LONG"
    result = gql.data(ANSWER, {**base, "status": "SAFE"}, user=world.other_resident)["answerSafetyCheck"]
    assert result["errors"][0]["code"] == "NOT_IN_SAFETY_CHECK"
    assert not SafetyAnswer.objects.exists()


def test_a_vulnerable_residents_silence_becomes_a_welfare_task_at_the_set_time(world, area):
    check = started(world, welfare_after_minutes=30)
    answer_safety_check(row(check, area["old_app"]), "SAFE", by=area["old_app"].user, channel="APP")
    assert request_welfare_checks(now=check.started_at + dt.timedelta(minutes=29)) == 0
    assert request_welfare_checks(now=check.started_at + dt.timedelta(minutes=31)) == 1
    task = Task.objects.get(source="SAFETY_CHECK")
    assert (task.priority, task.address, task.area_id) == ("URGENT", area["old"].address, world.grid_a2.pk)
    assert row(check, area["old"]).welfare_task_id == task.pk
    assert request_welfare_checks(now=timezone.now() + dt.timedelta(hours=2)) == 0  # once per resident
    assert Task.objects.count() == 1


def test_a_closed_check_makes_no_more_welfare_tasks_but_still_records_answers(world, area, gql):
    check = started(world, welfare_after_minutes=5)
    closed = gql.data(CLOSE, {"safetyCheckId": gid("SafetyCheck", check)}, user=world.admin_a)["closeSafetyCheck"]
    assert closed["safetyCheck"]["status"] == "CLOSED"
    assert request_welfare_checks(now=timezone.now() + dt.timedelta(hours=1)) == 0
    answer_safety_check(row(check, area["old"]), "NEED_HELP", by=None, channel="SMS")
    assert Task.objects.filter(priority="LIFE_SAFETY").count() == 1


def test_staff_see_counts_and_the_list_vulnerable_first(world, area, gql):
    data = gql.data(START, {"areaId": gid("Area", world.com_a), "title": "报平安"}, user=world.admin_a)["startSafetyCheck"]
    run_jobs()
    check = SafetyCheck.objects.get()
    answer_safety_check(row(check, area["sms"]), "NEED_HELP", by=None, channel="SMS")
    node = gql.data(CHECK, {"id": data["safetyCheck"]["id"], "first": 10}, user=world.worker_a1)["node"]
    # a grid worker sees only the people of their own grid
    assert {e["node"]["grid"]["name"] for e in node["statuses"]["edges"]} == {"甲一网格"}
    node = gql.data(CHECK, {"id": data["safetyCheck"]["id"], "first": 10}, user=world.admin_a)["node"]
    names = [e["node"]["resident"]["displayName"] for e in node["statuses"]["edges"]]
    assert names[:2] == ["王独居", "赵轮椅"] and names[2] == "李无App"  # vulnerable, then need help
    assert node["counts"]["needHelp"] == 1 and node["counts"]["total"] == 5
    assert {g["area"]["name"]: g["total"] for g in node["counts"]["byGrid"]} == {"甲一网格": 2, "甲二网格": 3}


def test_the_staff_list_runs_in_a_fixed_number_of_queries(world, area, gql, django_assert_max_num_queries):
    check = started(world)
    for i in range(20):
        resident(world.grid_a1, f"加{i}")
    start_safety_check(world.com_a, by=world.admin_a)
    run_jobs()
    big = SafetyCheck.objects.order_by("-id").first()
    with django_assert_max_num_queries(14):
        gql.data(CHECK, {"id": gid("SafetyCheck", big), "first": 25}, user=world.admin_a)
    assert check.pk != big.pk


@pytest.mark.parametrize("who", ["worker_b1", "resident", "worker_a1"])
def test_only_entitled_staff_start_a_safety_check(world, gql, who):
    status, body = gql(START, {"areaId": gid("Area", world.com_a)}, user=getattr(world, who))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN" and not SafetyCheck.objects.exists()


def test_staff_list_an_areas_safety_checks_with_counts(world, area, gql):
    gql.data(START, {"areaId": gid("Area", world.com_a), "title": "报平安"}, user=world.admin_a)
    run_jobs()
    data = gql.data(operation("emergency/SafetyChecks"), {"areaId": gid("Area", world.com_a), "activeOnly": True},
                    user=world.admin_a)["safetyChecks"]
    assert data["totalCount"] == 1
    check = data["edges"][0]["node"]
    assert check["title"] == "报平安" and check["counts"]["total"] == check["counts"]["unanswered"] > 0
    status, body = gql(operation("emergency/SafetyChecks"), {"areaId": gid("Area", world.com_a)}, user=world.admin_b)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN" and body["data"]["safetyChecks"] is None
