"""Reaching every resident (issue "Reach I"): questions and warnings in the life-safety lane,
vulnerable first; each resident's silence counted from when THEIR question reached them;
those nobody can reach counted at once and, if vulnerable, visited at once; texts that stopped
being true — an alert updated or cancelled, a question answered or closed — never sent."""

import datetime as dt

import pytest

from emergency.alerts import cancel_alert, issue_alert, update_alert
from emergency.models import SafetyCheck, SafetyStatus
from emergency.safety import close_safety_check, safety_counts, start_safety_check
from emergency.safety_answers import answer_safety_check, request_welfare_checks
from emergency.tasks import run_pending_emergency_jobs
from notifications import delivery
from notifications.consent import opt_out
from notifications.lanes import Lane
from notifications.models import SmsMessage, SmsStatus
from tests.fake_twilio import fake_twilio  # noqa: F401 - fixture
from tests.operations import operation
from volunteers.models import Task

from .emergency_support import (  # noqa: F401
    ALERT_PARAMS,
    _emergency_isolation,
    gid,
    resident,
    run_jobs,
)

pytestmark = pytest.mark.django_db
CHECK = operation("emergency/SafetyCheck")
ALERT = {k: v for k, v in ALERT_PARAMS.items() if k != "expires_in_minutes"}


@pytest.fixture
def people(world):
    return {
        # Consent to be contacted: Moderate and Minor alerts are not emergencies (community.consent).
        "sms": resident(world.grid_a1, "李无App", consent_to_contact=True),
        "old": resident(world.grid_a2, "王独居", elderly_living_alone=True, consent_to_contact=True),
        "old_app": resident(world.grid_a2, "赵轮椅", app=True, disabled=True, consent_to_contact=True),
        "app": resident(world.grid_a1, "张用App", app=True),
        "old_no_phone": resident(world.grid_a2, "孙独居无电话", phone=False, elderly_living_alone=True),
    }


@pytest.fixture
def eager():
    """Background work after commit runs at once in the test's thread."""
    from backend.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


def close_in_time(a, b, seconds=2.0) -> bool:
    return a is not None and b is not None and abs((a - b).total_seconds()) <= seconds


def start(world, **kwargs) -> SafetyCheck:
    check = start_safety_check(world.com_a, by=world.admin_a, title="暴雨报平安", **kwargs)
    run_pending_emergency_jobs()  # the fan-out only: the questions wait in the outbox
    check.refresh_from_db()
    return check


def row(check, person) -> SafetyStatus:
    return SafetyStatus.objects.select_related("resident", "safety_check").get(safety_check=check, resident=person)


def question(check, person) -> SmsMessage:
    return SmsMessage.objects.get(idempotency_key=f"safety:{check.pk}:{person.pk}")


# --- lanes ------------------------------------------------------------------------------------
def test_safety_questions_go_in_the_life_safety_lane_vulnerable_first(world, people):
    check = start(world)
    rows = SmsMessage.objects.filter(purpose="safety_check")
    assert {m.lane for m in rows} == {Lane.LIFE_SAFETY}
    assert {m.phone: m.is_vulnerable for m in rows} == {
        str(people["old"].phone): True, str(people["old_app"].phone): True, str(people["sms"].phone): False}
    claimed = delivery._claim_batch(10)
    assert [m.is_vulnerable for m in claimed] == [True, True, False]
    assert question(check, people["sms"]).status == SmsStatus.QUEUED or claimed


@pytest.mark.parametrize(("severity", "lane"), [("Extreme", Lane.LIFE_SAFETY), ("Severe", Lane.LIFE_SAFETY),
                                                 ("Moderate", Lane.STANDARD), ("Minor", Lane.STANDARD)])
def test_alert_texts_take_the_lane_of_their_severity(world, people, severity, lane):
    issue_alert(world.com_a, {**ALERT, "severity": severity}, by=world.admin_a)
    run_pending_emergency_jobs()
    texts = SmsMessage.objects.filter(purpose="alert")
    assert texts.count() == 3 and {m.lane for m in texts} == {lane}
    assert texts.filter(is_vulnerable=True).count() == 2


# --- the silence clock --------------------------------------------------------------------------
def test_the_clock_starts_when_the_question_is_handed_to_a_carrier(world, people):
    from tests.notifications.helpers import send_pushes

    check = start(world)
    assert row(check, people["app"]).asked_at is None  # its push waits in the push outbox
    send_pushes()
    assert row(check, people["app"]).asked_at is not None  # the push went to the provider: the clock runs
    assert row(check, people["old"]).asked_at is None  # its SMS is still queued
    delivery.deliver(question(check, people["old"]).pk, pace=False)
    sent = question(check, people["old"])
    assert close_in_time(row(check, people["old"]).asked_at, sent.sent_at)


def test_a_delivery_receipt_moves_the_clock_to_the_delivery(world, people):
    from notifications.receipts import record_provider_status

    check = start(world)
    message = question(check, people["old"])
    delivery.deliver(message.pk, pace=False)
    message.refresh_from_db()
    record_provider_status(sid=message.provider_sid, provider_status="delivered", message_id=message.pk)
    message.refresh_from_db()
    assert row(check, people["old"]).asked_at == message.status_changed_at


def test_a_welfare_visit_is_due_after_their_own_question_not_the_checks_start(world, people):
    check = start(world, welfare_after_minutes=30)
    answer_safety_check(row(check, people["old_app"]), "SAFE", by=people["old_app"].user, channel="APP")
    SafetyStatus.objects.filter(pk=row(check, people["old_no_phone"]).pk).update(unreachable_at=None)
    late = check.started_at + dt.timedelta(minutes=25)  # the question left 25 minutes after the start
    SafetyStatus.objects.filter(pk=row(check, people["old"]).pk).update(asked_at=late)
    assert request_welfare_checks(now=check.started_at + dt.timedelta(minutes=31)) == 0
    assert request_welfare_checks(now=late + dt.timedelta(minutes=29)) == 0
    assert request_welfare_checks(now=late + dt.timedelta(minutes=31)) == 1
    task = Task.objects.get(source="SAFETY_CHECK")
    assert "询问送达30分钟后仍未答复" in task.description and row(check, people["old"]).welfare_task_id == task.pk


def test_nobody_is_visited_for_a_question_that_never_left(world, people):
    check = start(world, welfare_after_minutes=30)
    answer_safety_check(row(check, people["old_app"]), "SAFE", by=people["old_app"].user, channel="APP")
    SafetyStatus.objects.filter(safety_check=check).update(unreachable_at=None)
    assert request_welfare_checks(now=check.started_at + dt.timedelta(minutes=45)) == 0
    # ... unless it still has not left at twice the time (every provider down): then someone goes.
    assert request_welfare_checks(now=check.started_at + dt.timedelta(minutes=61)) == 2  # 王独居, 孙独居无电话
    assert all("仍未能询问到" in t.description for t in Task.objects.all())


# --- unreachable -------------------------------------------------------------------------------
def test_a_vulnerable_resident_nobody_can_reach_is_counted_and_visited_at_once(world, people, eager,
                                                                              django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        check = start_safety_check(world.com_a, by=world.admin_a, title="暴雨报平安")
        run_pending_emergency_jobs()
    silent = row(check, people["old_no_phone"])
    assert silent.unreachable_at is not None and silent.unreachable_reason == "NO_PHONE"
    assert silent.welfare_task_id is not None  # at once, not after the welfare time
    assert "无法联系到该居民" in Task.objects.get(pk=silent.welfare_task_id).description
    assert safety_counts(check).overall.unreachable == 1


def test_opted_out_residents_without_the_app_count_as_unreachable(world, people):
    opt_out(str(people["sms"].phone))
    check = start(world)
    assert (row(check, people["sms"]).unreachable_reason, safety_counts(check).overall.unreachable) == ("OPTED_OUT", 2)


def test_a_question_that_cannot_be_delivered_raises_the_welfare_visit_at_once(world, people, fake_twilio, eager,  # noqa: F811
                                                                              django_capture_on_commit_callbacks):
    check = start(world)
    fake_twilio.fail_to(str(people["old"].phone), 21211)  # invalid number: fails for good
    with django_capture_on_commit_callbacks(execute=True):
        delivery.deliver(question(check, people["old"]).pk, pace=False)
    old = row(check, people["old"])
    assert question(check, people["old"]).status == SmsStatus.FAILED
    assert (old.unreachable_reason, old.welfare_task_id is not None) == ("UNDELIVERABLE", True)


def test_an_app_user_whose_sms_fails_is_still_reached_by_the_app(world, people, fake_twilio):  # noqa: F811
    check = start(world)
    fake_twilio.fail_to(str(people["old_app"].phone), 21211)
    delivery.deliver(question(check, people["old_app"]).pk, pace=False)
    assert row(check, people["old_app"]).unreachable_at is None


def test_staff_see_unreachable_in_the_counts(world, people, gql):
    check = start(world)
    data = gql.data(CHECK, {"id": gid("SafetyCheck", check), "first": 10}, user=world.admin_a)["node"]
    assert data["counts"]["unreachable"] == 1 and data["counts"]["unanswered"] == 5
    grid = next(g for g in data["counts"]["byGrid"] if g["area"]["name"] == world.grid_a2.name)
    assert grid["unreachable"] == 1
    reasons = {e["node"]["resident"]["displayName"]: e["node"]["unreachableReason"] for e in data["statuses"]["edges"]}
    assert reasons["孙独居无电话"] == "NO_PHONE" and reasons["李无App"] is None


# --- superseding --------------------------------------------------------------------------------
def test_an_answer_in_the_app_drops_the_question_not_yet_sent(world, people):
    check = start(world)
    answer_safety_check(row(check, people["old_app"]), "SAFE", by=people["old_app"].user, channel="APP")
    dropped = question(check, people["old_app"])
    assert dropped.status == SmsStatus.SUPERSEDED and dropped.error_message == "answered"
    delivery.drain(max_seconds=10)
    assert SmsMessage.objects.filter(purpose="safety_check", status=SmsStatus.SENT).count() == 2


def test_closing_a_check_drops_its_questions_and_stops_its_fan_out(world, people):
    check = start_safety_check(world.com_a, by=world.admin_a, title="暴雨报平安")
    from emergency.fanout import drive
    from emergency.safety import safety_check_chunk

    drive(SafetyCheck, check.pk, safety_check_chunk, budget=0)  # the rows only
    check.refresh_from_db()
    close_safety_check(check, by=world.admin_a)
    run_pending_emergency_jobs()
    assert not SmsMessage.objects.filter(purpose="safety_check", status=SmsStatus.QUEUED).exists()


def test_closing_after_the_fan_out_supersedes_what_is_still_queued(world, people):
    check = start(world)
    close_safety_check(check, by=world.admin_a)
    assert set(SmsMessage.objects.filter(purpose="safety_check").values_list("status", flat=True)) == {SmsStatus.SUPERSEDED}


def test_switching_back_to_normal_closes_checks_and_drops_their_questions(world, people):
    from emergency.switching import switch_mode

    switch_mode(world.com_a, "EMERGENCY", by=world.admin_a, reason="暴雨")
    check = start(world)
    switch_mode(world.com_a, "RECOVERY", by=world.admin_a, reason="雨停")
    switch_mode(world.com_a, "NORMAL", by=world.admin_a, reason="恢复")
    check.refresh_from_db()
    assert check.status == "CLOSED"
    assert not SmsMessage.objects.filter(purpose="safety_check", status=SmsStatus.QUEUED).exists()


def test_an_updated_alert_drops_the_old_texts_and_the_update_goes_instead(world, people):
    alert = issue_alert(world.com_a, ALERT, by=world.admin_a)
    run_pending_emergency_jobs()
    update = update_alert(alert, {"instruction": "请立即转移到避难所"}, by=world.admin_a)
    old = SmsMessage.objects.filter(purpose="alert", related_id=str(alert.pk))
    assert set(old.values_list("status", flat=True)) == {SmsStatus.SUPERSEDED}
    run_jobs()
    new = SmsMessage.objects.filter(purpose="alert", related_id=str(update.pk))
    assert new.count() == 3 and set(new.values_list("status", flat=True)) == {SmsStatus.SENT}


def test_a_superseded_alert_stops_its_fan_out(world, people, settings):
    settings.EMERGENCY_FANOUT_CHUNK = 1
    alert = issue_alert(world.com_a, ALERT, by=world.admin_a)
    from emergency.alerts import alert_chunk
    from emergency.fanout import drive
    from emergency.models import Alert

    drive(Alert, alert.pk, alert_chunk, budget=0)  # one resident told so far
    cancel_alert(alert, by=world.admin_a)
    run_pending_emergency_jobs()
    assert SmsMessage.objects.filter(purpose="alert", related_id=str(alert.pk)).count() <= 1


def test_the_all_clear_goes_only_to_those_who_were_told(world, people):
    alert = issue_alert(world.com_a, ALERT, by=world.admin_a)
    run_pending_emergency_jobs()
    delivery.deliver(SmsMessage.objects.get(purpose="alert", phone=str(people["old"].phone)).pk, pace=False)
    cancel = cancel_alert(alert, by=world.admin_a, note="预警解除")
    run_jobs()
    all_clear = SmsMessage.objects.filter(purpose="alert", related_id=str(cancel.pk))
    assert list(all_clear.values_list("phone", flat=True)) == [str(people["old"].phone)]
    stale = SmsMessage.objects.filter(purpose="alert", related_id=str(alert.pk), status=SmsStatus.SUPERSEDED)
    assert stale.count() == 2  # never sent after the all-clear
