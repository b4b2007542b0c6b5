"""Sending through the real twilio library against the fake Twilio server: retries with
backoff, permanent failures, pacing, and exactly one message however the work is re-run."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications import delivery, receipts, routing
from notifications.consent import is_opted_out, opt_out
from notifications.lanes import Lane
from notifications.models import SmsMessage, SmsStatus, SmsStatusEvent
from notifications.outbox import queue_sms, queue_sms_bulk
from notifications.tasks import drain_outbox, send_sms, sweep_outbox
from notifications.templates import register_template

pytestmark = pytest.mark.django_db

register_template("test.alert", zh="【邻里】{text}", en="Linli: {text}")
PHONE = "+8613900000001"


def queue(key="k1", phone=PHONE, text="请注意防汛"):
    return queue_sms(template="test.alert", context={"text": text}, purpose="test", idempotency_key=key, phone=phone)


def make_due(message):
    SmsMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())


def test_a_message_is_created_at_twilio_with_its_status_callback(fake_twilio, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = queue()
    message.refresh_from_db()
    [created] = fake_twilio.messages
    assert created["to"] == PHONE and created["body"] == "【邻里】请注意防汛"
    assert created["messaging_service_sid"].startswith("MG")
    assert created["status_callback"] == f"https://linli.example/sms/status/{message.pk}/"
    assert message.status == SmsStatus.SENT and message.provider_sid == created["sid"]
    assert message.provider_status == "accepted" and message.attempts == 1
    assert list(message.events.values_list("from_status", "to_status")) == [("queued", "sending"), ("sending", "sent")]


def test_running_the_send_task_twice_sends_once(fake_twilio):
    message = queue()
    send_sms(message.pk)
    send_sms(message.pk)
    drain_outbox()
    assert len(fake_twilio.messages) == 1


def test_a_429_is_sent_again_after_a_moment_without_losing_an_attempt(fake_twilio, settings):
    """A 429 is the account's pace, not the message's fault: with no other provider the same
    claimed message goes again once the window has moved on."""
    settings.SMS_PROVIDER_THROTTLE_SECONDS = 0.05
    fake_twilio.script("429")
    message = queue()
    send_sms(message.pk)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (SmsStatus.SENT, 1)
    assert len(fake_twilio.requests) == 2 and len(fake_twilio.messages) == 1


def test_a_429_that_persists_pauses_the_provider_and_the_message_waits(fake_twilio, settings, monkeypatch):
    monkeypatch.setattr("notifications.handover.THROTTLE_RETRIES", 0)  # it persists: no second try
    settings.SMS_PROVIDER_THROTTLE_SECONDS = 5
    fake_twilio.script("429")
    message = queue()
    before = timezone.now()
    delivery.send_claimed([delivery._claim(message.pk)], routing.providers_for("*"), paced=False)
    message.refresh_from_db()
    assert message.status == SmsStatus.QUEUED and message.error_code == "20429" and message.attempts == 0
    assert before + timedelta(seconds=4) <= message.next_attempt_at <= timezone.now() + timedelta(seconds=6)
    assert message.reconcile_since is None  # a 429 was certainly not accepted
    assert fake_twilio.messages == [] and routing.is_paused("default")
    send_sms(message.pk)  # too early: nothing happens
    assert len(fake_twilio.requests) == 1
    routing.resume(["default"])
    make_due(message)
    send_sms(message.pk)
    message.refresh_from_db()
    assert message.status == SmsStatus.SENT and message.attempts == 1 and len(fake_twilio.messages) == 1


def test_backoff_grows_exponentially_with_jitter_and_is_capped(settings):
    settings.SMS_RETRY_BASE_SECONDS, settings.SMS_RETRY_MAX_SECONDS = 5, 60
    delays = [[delivery.backoff_delay(n) for _ in range(50)] for n in (1, 2, 3, 4, 5, 6)]
    assert all(2.5 <= d <= 5 for d in delays[0]) and all(10 <= d <= 20 for d in delays[2])
    assert max(delays[5]) <= 60 and len(set(delays[1])) > 1


def test_500_is_retried_after_asking_twilio_whether_it_was_sent(fake_twilio):
    fake_twilio.script("500")
    message = queue()
    send_sms(message.pk)
    message.refresh_from_db()
    assert message.status == SmsStatus.QUEUED and message.reconcile_since is not None
    make_due(message)
    send_sms(message.pk)
    message.refresh_from_db()
    methods = [r.method for r in fake_twilio.requests]
    assert methods == ["POST", "GET", "POST"]  # asked before resending
    assert message.status == SmsStatus.SENT and len(fake_twilio.messages) == 1


def test_a_500_after_twilio_accepted_does_not_send_twice(fake_twilio):
    fake_twilio.script("accept_then_500")
    message = queue()
    send_sms(message.pk)
    make_due(message)
    send_sms(message.pk)
    message.refresh_from_db()
    assert len(fake_twilio.messages) == 1
    assert message.status == SmsStatus.SENT and message.provider_sid == fake_twilio.messages[0]["sid"]
    assert message.events.last().source == "reconcile"


def test_unsubscribed_21610_is_permanent_records_the_opt_out_and_is_not_retried(fake_twilio):
    fake_twilio.fail_to(PHONE, 21610)
    message = queue()
    send_sms(message.pk)
    message.refresh_from_db()
    assert message.status == SmsStatus.FAILED and message.error_code == "21610" and message.attempts == 1
    assert is_opted_out(PHONE)
    make_due(message)
    send_sms(message.pk)
    sweep_outbox()
    assert len(fake_twilio.requests) == 1
    assert queue(key="later").status == SmsStatus.REFUSED


@pytest.mark.parametrize("code", [21211, 21614, 30007])
def test_other_permanent_errors_are_recorded_and_not_retried(fake_twilio, code):
    fake_twilio.fail_to(PHONE, code)
    message = queue()
    send_sms(message.pk)
    message.refresh_from_db()
    assert message.status == SmsStatus.FAILED and message.error_code == str(code)
    assert len(fake_twilio.requests) == 1 and not is_opted_out(PHONE)


def test_transient_failures_give_up_after_the_attempt_limit(fake_twilio, settings):
    settings.SMS_MAX_ATTEMPTS = 3
    fake_twilio.script("503", "503", "503", "503")
    message = queue()
    for _ in range(5):
        make_due(message)
        send_sms(message.pk)
    message.refresh_from_db()
    assert message.status == SmsStatus.FAILED and message.attempts == 3
    assert "Gave up after 3 attempts" in message.error_message
    assert len([r for r in fake_twilio.requests if r.method == "POST"]) == 3


def test_a_number_that_opts_out_after_queueing_is_not_texted(fake_twilio):
    message = queue()
    opt_out(PHONE)
    send_sms(message.pk)
    message.refresh_from_db()
    assert message.status == SmsStatus.REFUSED and message.error_code == "opted_out"
    assert fake_twilio.requests == []


def test_a_worker_killed_after_twilio_accepted_does_not_cause_a_second_send(fake_twilio, settings):
    """The worker claimed the row and Twilio accepted the message, but the worker died
    before storing the SID. The sweep finds the row stuck in sending, asks Twilio, adopts."""
    message = queue()
    stale = timezone.now() - timedelta(seconds=settings.SMS_CLAIM_TIMEOUT_SECONDS + 5)
    SmsMessage.objects.filter(pk=message.pk).update(status=SmsStatus.SENDING, claimed_at=stale, attempts=1, claim_token="dead")
    fake_twilio.create_message(PHONE, message.body)
    sweep_outbox()
    message.refresh_from_db()
    assert len(fake_twilio.messages) == 1
    assert message.status == SmsStatus.SENT and message.provider_sid == fake_twilio.messages[0]["sid"]
    send_sms(message.pk)
    drain_outbox()
    assert len(fake_twilio.messages) == 1


def test_a_worker_killed_before_twilio_had_it_is_resent_once_by_the_sweep(fake_twilio, settings):
    message = queue()
    stale = timezone.now() - timedelta(seconds=settings.SMS_CLAIM_TIMEOUT_SECONDS + 5)
    SmsMessage.objects.filter(pk=message.pk).update(status=SmsStatus.SENDING, claimed_at=stale, attempts=1, claim_token="dead")
    sweep_outbox()
    sweep_outbox()
    message.refresh_from_db()
    assert message.status == SmsStatus.SENT and len(fake_twilio.messages) == 1


def test_the_same_body_sent_earlier_to_the_same_phone_is_not_adopted(fake_twilio, settings):
    earlier = queue(key="earlier")
    send_sms(earlier.pk)
    message = queue(key="again")  # same body, same phone
    stale = timezone.now() - timedelta(seconds=settings.SMS_CLAIM_TIMEOUT_SECONDS + 5)
    SmsMessage.objects.filter(pk=message.pk).update(status=SmsStatus.SENDING, claimed_at=stale, attempts=1)
    sweep_outbox()
    message.refresh_from_db()
    assert len(fake_twilio.messages) == 2 and message.provider_sid != SmsMessage.objects.get(pk=earlier.pk).provider_sid


def test_a_young_claim_is_left_alone_by_the_sweep(fake_twilio):
    message = queue()
    SmsMessage.objects.filter(pk=message.pk).update(status=SmsStatus.SENDING, claimed_at=timezone.now(), attempts=1)
    sweep_outbox()
    assert fake_twilio.requests == [] and SmsMessage.objects.get(pk=message.pk).status == SmsStatus.SENDING


def test_the_sweep_resends_rows_whose_task_was_lost(fake_twilio, settings):
    message = queue()  # the on-commit enqueue never happened (a lost broker message)
    SmsMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=settings.SMS_REQUEUE_AFTER_SECONDS + 1))
    assert sweep_outbox() == {"recovered": 0, "overdue": True, "inbound": 0}
    assert len(fake_twilio.messages) == 1


def test_a_burst_is_paced_at_the_set_rate_across_the_whole_batch(fake_twilio, settings, django_capture_on_commit_callbacks):
    settings.SMS_RATE_PER_SECOND, settings.SMS_RATE_BURST = 20.0, 1.0
    items = [dict(template="test.alert", context={"text": str(i)}, purpose="t", idempotency_key=f"b{i}",
                  phone=f"+86139{i:08d}") for i in range(30)]
    with django_capture_on_commit_callbacks(execute=True):
        queue_sms_bulk(items)
    times = fake_twilio.create_times
    assert len(times) == 30 and SmsMessage.objects.filter(status=SmsStatus.SENT).count() == 30
    assert times[-1] - times[0] >= (30 - 1) / 20.0 * 0.95
    for i in range(len(times) - 20):  # never more than rate + burst in any one second
        assert times[i + 20] - times[i] >= 0.95 * 19 / 20.0


def test_every_transition_is_recorded_once(fake_twilio):
    fake_twilio.script("500")
    message = queue()
    send_sms(message.pk)
    make_due(message)
    send_sms(message.pk)
    events = list(SmsStatusEvent.objects.filter(message=message).values_list("from_status", "to_status", "source"))
    assert events == [("queued", "sending", "worker"), ("sending", "queued", "retry"),
                      ("queued", "sending", "worker"), ("sending", "sent", "worker")]


def test_login_code_bodies_are_masked_once_sent(fake_twilio):
    message = queue_sms(template="login.code", context={"code": "123456", "minutes": 5}, purpose="login_code", idempotency_key="l",
                        phone=PHONE, redact=("code",))
    send_sms(message.pk)
    message.refresh_from_db()
    assert "123456" in fake_twilio.messages[0]["body"]
    assert "123456" not in message.body and "******" in message.body


def login_code_to(phone, key):
    return queue_sms(template="login.code", context={"code": "123456", "minutes": 5}, purpose="login_code",
                     idempotency_key=key, phone=phone, redact=("code",))


def test_a_login_code_never_sent_keeps_no_code_either(fake_twilio):
    opt_out("+8613900000032", source="keyword")
    refused = login_code_to("+8613900000032", "l-refused")
    assert refused.status == SmsStatus.REFUSED and "123456" not in refused.body
    fake_twilio.fail_to("+8613900000033", 21211)  # invalid number: a permanent failure
    failed = login_code_to("+8613900000033", "l-failed")
    send_sms(failed.pk)
    failed.refresh_from_db()
    assert failed.status == SmsStatus.FAILED and "123456" not in failed.body and "******" in failed.body


def test_a_status_callback_before_the_workers_own_write_still_masks_and_records_the_send(fake_twilio, monkeypatch):
    from notifications.transports.twilio import TwilioTransport

    original = TwilioTransport.send

    def send_then_callback(self, *, to, body, status_callback=None):
        result = original(self, to=to, body=body, status_callback=status_callback)
        receipts.record_provider_status(sid=result.sid, provider_status="sent",
                                        message_id=int(status_callback.rstrip("/").rsplit("/", 1)[1]))
        return result

    monkeypatch.setattr(TwilioTransport, "send", send_then_callback)
    message = login_code_to(PHONE, "l-race")
    send_sms(message.pk)
    message.refresh_from_db()
    assert message.status == SmsStatus.SENT and message.provider_sid
    assert "123456" not in message.body and message.sent_at is not None


def test_a_login_code_never_waits_behind_a_burst(fake_twilio, settings):
    settings.SMS_RATE_PER_SECOND, settings.SMS_RATE_BURST = 1000.0, 1000.0
    queue_sms_bulk([dict(template="test.alert", context={"text": str(i)}, purpose="alert", idempotency_key=f"b{i}",
                         phone=f"+86139{i:08d}") for i in range(30)])
    code = login_code_to("+8613800009999", "l-urgent")
    assert code.lane == Lane.LOGIN
    claimed = delivery._claim_batch(5)
    assert claimed[0].pk == code.pk and [m.purpose for m in claimed[1:]] == ["alert"] * 4
    assert [m.idempotency_key for m in claimed[1:]] == ["b0", "b1", "b2", "b3"]  # the rest in written order


def test_a_drainer_whose_time_is_up_gives_back_what_it_claimed(fake_twilio, settings):
    settings.SMS_RATE_PER_SECOND, settings.SMS_RATE_BURST = 40.0, 1.0  # claims 10 at a time
    queue_sms_bulk([dict(template="test.alert", context={"text": str(i)}, purpose="t", idempotency_key=f"d{i}",
                         phone=f"+86139{i:08d}") for i in range(10)])
    report = delivery.drain(max_seconds=0.06)
    # It stops at its deadline, or just before when the next tokens would come after it.
    assert (report.exhausted_time or 0 < report.come_back_in) and 1 <= report.attempted < 10
    assert SmsMessage.objects.filter(status=SmsStatus.SENDING).count() == 0
    back = SmsMessage.objects.filter(status=SmsStatus.QUEUED)
    assert back.count() == 10 - report.attempted and set(back.values_list("attempts", flat=True)) == {0}
    assert len(fake_twilio.messages) == report.attempted


def test_at_most_the_configured_number_of_drainers_run_at_once(settings):
    settings.SMS_MAX_DRAINERS = 2
    first, second = delivery.take_drain_slot(), delivery.take_drain_slot()
    assert first and second and delivery.take_drain_slot() is None
    delivery.release_drain_slot(first)
    assert delivery.take_drain_slot() is not None


def test_an_ambiguous_failure_waits_for_the_provider_to_settle_before_looking_again(fake_twilio, settings):
    """A read time-out or 5xx may still have created the message: the retry waits long enough
    for that to show in the provider's list, so reconciling can find it instead of resending."""
    from notifications.delivery import deliver

    settings.SMS_AMBIGUOUS_SETTLE_SECONDS = 30
    message = queue()
    fake_twilio.script("500")
    outcome = deliver(message.pk, pace=False)
    assert outcome.status == "retry" and outcome.retry_in >= 30
    row = SmsMessage.objects.get(pk=message.pk)
    assert row.reconcile_since is not None
    assert (row.next_attempt_at - timezone.now()).total_seconds() > 25
