"""The escalation ladder of an alert (issue 15): a resident reached by push only whose alert
nobody opens is texted the alert's SMS sms_after_seconds after the push was handed over —
once, with the fan-out's own idempotency key — or at once when every push to them failed;
a plan may change the delay; a replaced, cancelled or expired alert stops climbing."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from community.models import Mode
from emergency import alerts as alerts_module
from emergency.alert_escalation import escalate_alert_to_sms, sweep_alert_escalation
from emergency.alerts import alert_ladder, cancel_alert, issue_alert, update_alert
from emergency.fanout import add_counts
from emergency.models import Alert, AlertEscalation
from emergency.plans import save_plan_version
from emergency.review import after_action_report
from emergency.switching import switch_mode
from emergency.tasks import run_pending_emergency_jobs, sweep_escalation_task
from notifications.ladder import ladder_for
from notifications.models import DevicePush, Notification, PushStatus, SmsMessage
from notifications.push import PushError
from notifications.push import locmem as push_locmem
from notifications.push_outbox import acknowledge
from tests.notifications.helpers import send_pushes

from .emergency_support import ALERT_PARAMS, _emergency_isolation, resident, run_jobs  # noqa: F401

pytestmark = pytest.mark.django_db
DATA = {k: v for k, v in ALERT_PARAMS.items() if k != "expires_in_minutes"}  # Severe: an emergency
DELAY = dt.timedelta(seconds=180)


@pytest.fixture
def people(world):
    return {
        "app": resident(world.grid_a1, "张用App", app=True),
        "app_old": resident(world.grid_a1, "钱独居用App", app=True, elderly_living_alone=True),
        "sms": resident(world.grid_a2, "李无App"),
    }


def issue(world, **kwargs) -> Alert:
    alert = issue_alert(world.com_a, kwargs.pop("data", DATA), by=world.admin_a, **kwargs)
    run_pending_emergency_jobs()
    send_pushes()
    alert.refresh_from_db()
    return alert


def alert_sms(alert, person) -> list[SmsMessage]:
    return list(SmsMessage.objects.filter(idempotency_key=f"alert:{alert.pk}:{person.pk}"))


def ladder_row(alert, person) -> AlertEscalation:
    return AlertEscalation.objects.get(alert=alert, resident=person)


def clock(alert, person) -> dt.datetime:
    """When the person's push was handed to the provider: the ladder's clock starts."""
    handed_over = ladder_row(alert, person).handed_over_at
    assert handed_over is not None
    return handed_over


def test_a_pushed_resident_is_texted_after_the_ladder_time_not_before(world, people):
    alert = issue(world)
    assert not alert_sms(alert, people["app"])  # a live device: push only, for now
    assert alert_sms(alert, people["sms"]) and alert_sms(alert, people["app_old"])  # at once
    start = clock(alert, people["app"])
    assert sweep_alert_escalation(now=start + DELAY - dt.timedelta(seconds=1)) == 0
    assert sweep_alert_escalation(now=start + DELAY) == 1
    [sms] = alert_sms(alert, people["app"])
    assert sms.purpose == "alert" and sms.lane == 1 and "台风" in sms.body and not sms.is_drill
    assert ladder_row(alert, people["app"]).texted
    alert.refresh_from_db()
    assert alert.fanout_counts["sms_escalated"] == 1 and alert.fanout_counts["sms"] == 2


def test_the_clock_starts_when_the_push_was_written_if_no_provider_took_it(world, people):
    issue_alert(world.com_a, DATA, by=world.admin_a)
    run_pending_emergency_jobs()  # the pushes stay queued: no provider has them
    alert = Alert.objects.get()
    row = ladder_row(alert, people["app"])
    assert row.handed_over_at is None
    assert sweep_alert_escalation(now=row.pushed_at + DELAY - dt.timedelta(seconds=1)) == 0
    assert sweep_alert_escalation(now=row.pushed_at + DELAY) == 1


def test_an_opened_alert_is_not_texted(world, people):
    alert = issue(world)
    notification = Notification.objects.get(kind="alert", user=people["app"].user)
    acknowledge(people["app"].user, notification.pk)
    assert ladder_row(alert, people["app"]).acknowledged_at is not None
    assert sweep_alert_escalation(now=clock(alert, people["app"]) + DELAY * 10) == 0
    assert not alert_sms(alert, people["app"])


def test_an_opening_the_handler_missed_is_still_seen_by_the_sweep(world, people):
    alert = issue(world)
    Notification.objects.filter(kind="alert", user=people["app"].user).update(acknowledged_at=timezone.now())
    assert sweep_alert_escalation(now=clock(alert, people["app"]) + DELAY) == 0
    assert ladder_row(alert, people["app"]).acknowledged_at is not None and not alert_sms(alert, people["app"])


def test_the_vulnerable_texted_at_once_are_not_texted_again(world, people):
    alert = issue(world)
    assert not AlertEscalation.objects.filter(resident=people["app_old"]).exists()  # no rung left to climb
    sweep_alert_escalation(now=clock(alert, people["app"]) + DELAY * 10)
    assert len(alert_sms(alert, people["app_old"])) == 1


def test_the_sweep_run_twice_or_two_at_once_text_once(world, people):
    alert = issue(world)
    due = clock(alert, people["app"]) + DELAY
    row = ladder_row(alert, people["app"])
    assert escalate_alert_to_sms(alert, [row.pk], due, reason="test") == 1
    assert escalate_alert_to_sms(alert, [row.pk], due, reason="test") == 0  # the other sweep's claim
    assert sweep_alert_escalation(now=due) == 0 and sweep_alert_escalation(now=due + DELAY) == 0
    assert len(alert_sms(alert, people["app"])) == 1
    alert.refresh_from_db()
    assert alert.fanout_counts["sms_escalated"] == 1


def test_the_beat_task_sweeps_alerts_too(world, people, settings):
    settings.ESCALATION_LADDERS = {"alert": {"sms_after_seconds": 0}}
    alert = issue(world)
    assert sweep_escalation_task()["alert_sms"] == 1
    assert sweep_escalation_task()["alert_sms"] == 0
    assert len(alert_sms(alert, people["app"])) == 1


def test_every_push_failing_means_the_sms_at_once(world, people):
    token = people["app"].user.devices.get().token
    push_locmem.fail_token(token, PushError("Unregistered", "Unregistered", invalid_token=True))
    alert = issue(world)
    assert DevicePush.objects.get(user=people["app"].user).status == PushStatus.FAILED
    assert len(alert_sms(alert, people["app"])) == 1  # no sweep needed
    assert ladder_row(alert, people["app"]).escalated_at is not None
    alert.refresh_from_db()
    assert alert.fanout_counts["sms_escalated"] == 1


def test_no_sms_rung_for_an_alert_that_sends_no_sms(world, people):
    alert = issue(world, data={**DATA, "send_sms": False})
    assert not AlertEscalation.objects.filter(alert=alert).exists()
    assert sweep_alert_escalation(now=timezone.now() + DELAY * 10) == 0
    assert not SmsMessage.objects.exists()


def test_an_updated_alert_stops_climbing_its_update_climbs_instead(world, people):
    alert = issue(world)
    start = clock(alert, people["app"])
    update = update_alert(alert, {"headline": "台风已登陆"}, by=world.admin_a)
    run_pending_emergency_jobs()
    send_pushes()
    assert sweep_alert_escalation(now=timezone.now() + DELAY * 2) == 1
    assert not alert_sms(alert, people["app"])  # the superseded alert's rung stopped
    [sms] = alert_sms(update, people["app"])
    assert "【更新】" in sms.body
    assert start is not None


def test_a_cancelled_alert_is_not_escalated_nor_its_all_clear(world, people):
    alert = issue(world)
    cancel = cancel_alert(alert, by=world.admin_a)
    run_pending_emergency_jobs()
    send_pushes()
    assert not AlertEscalation.objects.filter(alert=cancel).exists()
    assert sweep_alert_escalation(now=timezone.now() + DELAY * 2) == 0
    assert not alert_sms(alert, people["app"]) and not alert_sms(cancel, people["app"])


def test_an_expired_alert_is_not_escalated(world, people):
    alert = issue(world)
    Alert.objects.filter(pk=alert.pk).update(expires=timezone.now())
    assert sweep_alert_escalation(now=clock(alert, people["app"]) + DELAY) == 0
    assert not alert_sms(alert, people["app"])


def test_a_drill_alert_climbs_the_same_ladder_under_the_drill_rules(world, people):
    people["app"].consent_to_contact = True
    people["app"].save()
    silent = resident(world.grid_a1, "孙未同意", app=True)  # no consent: a drill never texts them
    alert = issue(world, is_drill=True)
    assert not AlertEscalation.objects.filter(resident=silent).exists()  # nothing the ladder may send them
    assert sweep_alert_escalation(now=clock(alert, people["app"]) + DELAY) == 1
    [sms] = alert_sms(alert, people["app"])
    assert sms.is_drill and "演练" in sms.body
    assert not alert_sms(alert, silent)


ALERT_WITH_LADDER = {"type": "ALERT", "params": {**ALERT_PARAMS, "ladder": {"sms_after_seconds": 30}}}


def test_a_plan_may_change_an_alerts_ladder(world, people):
    save_plan_version(world.com_a, Mode.EMERGENCY, name="台风预案", actions=[ALERT_WITH_LADDER], by=world.admin_a)
    switch_mode(world.com_a, Mode.EMERGENCY, by=world.admin_a)
    run_jobs()
    alert = Alert.objects.get(plan_step__isnull=False)
    assert alert_ladder(alert).sms_after_seconds == 30
    start = clock(alert, people["app"])
    assert sweep_alert_escalation(now=start + dt.timedelta(seconds=29)) == 0
    assert sweep_alert_escalation(now=start + dt.timedelta(seconds=30)) == 1
    update = update_alert(alert, {"headline": "台风已登陆"}, by=world.admin_a)
    assert alert_ladder(update).sms_after_seconds == 30  # the chain keeps its plan's ladder


def test_the_settings_ladder_for_alerts_has_no_voice_rung(settings):
    settings.ESCALATION_LADDERS = {"alert": {"sms_after_seconds": 60, "voice_after_seconds": 30, "voice_for": "all"}}
    ladder = ladder_for("alert")
    assert ladder.sms_after_seconds == 60 and not ladder.wants_voice(is_vulnerable=True)
    assert ladder_for("safety_check").wants_voice(is_vulnerable=True)  # its own defaults


@pytest.mark.parametrize("ladder, field", [
    ({"voice_after_seconds": 60}, "actions.0.params.ladder.voice_after_seconds"),
    ({"voice_for": "all"}, "actions.0.params.ladder.voice_for"),
    ({"sms_after_seconds": -1}, "actions.0.params.ladder.sms_after_seconds"),
    ({"sms_after_seconds": True}, "actions.0.params.ladder.sms_after_seconds"),
    ({"sms_at_once_for": "everyone"}, "actions.0.params.ladder.sms_at_once_for"),
    ({"smsAfter": 60}, "actions.0.params.ladder.smsAfter"),
    ([60], "actions.0.params.ladder"),
])
def test_a_bad_alert_ladder_in_a_plan_is_a_typed_error(world, ladder, field):
    action = {"type": "ALERT", "params": {**ALERT_PARAMS, "ladder": ladder}}
    with pytest.raises(ValidationError) as caught:
        save_plan_version(world.com_a, Mode.EMERGENCY, name="预案", actions=[action], by=world.admin_a)
    assert list(caught.value.error_dict) == [field]
    assert caught.value.error_dict[field][0].code == "invalid_plan_action"


def test_the_after_action_report_shows_the_alerts_sms_rung(world, people):
    since = timezone.now() - dt.timedelta(minutes=1)
    alert = issue(world)
    sweep_alert_escalation(now=clock(alert, people["app"]) + DELAY)
    report = after_action_report(world.com_a, since, timezone.now() + dt.timedelta(minutes=1), viewer=world.admin_a)
    [entry] = [e for e in report.timeline if e.kind == "escalation"]
    assert entry.codes == {"rung": "sms", "n": 1} and entry.detail == alert.headline


def test_a_ladder_may_wait_for_the_vulnerable_too(world, people, settings):
    settings.ESCALATION_LADDERS = {"alert": {"sms_after_seconds": 180, "sms_at_once_for": "none"}}
    alert = issue(world)
    assert not alert_sms(alert, people["app_old"])  # pushed, not texted beside the push
    start = clock(alert, people["app_old"])
    assert sweep_alert_escalation(now=start + DELAY) == 2  # the vulnerable first, then the others
    assert len(alert_sms(alert, people["app_old"])) == 1 and len(alert_sms(alert, people["app"])) == 1


def test_the_fan_out_never_writes_back_an_older_count_of_the_ladder(world, people, monkeypatch):
    alert = issue_alert(world.com_a, DATA, by=world.admin_a)
    queue = alerts_module.queue_sms_bulk

    def ladder_counts_meanwhile(items):  # the ladder texts someone while the chunk is under way
        add_counts(Alert, alert.pk, sms_escalated=4)  # as the ladder does
        return queue(items)

    monkeypatch.setattr(alerts_module, "queue_sms_bulk", ladder_counts_meanwhile)
    run_pending_emergency_jobs()
    alert.refresh_from_db()
    assert alert.fanout_counts["residents"] == 3 and alert.fanout_counts["sms_escalated"] == 4 * 2  # two chunks


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_the_same_instant_text_once_on_postgres(world, people):
    import threading

    from django.db import connection

    alert = issue(world)
    due = clock(alert, people["app"]) + DELAY
    barrier, results = threading.Barrier(2), []

    def sweep():
        try:
            barrier.wait()
            results.append(sweep_alert_escalation(now=due))
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == [0, 1] and len(alert_sms(alert, people["app"])) == 1
    alert.refresh_from_db()
    assert alert.fanout_counts["sms_escalated"] == 1
