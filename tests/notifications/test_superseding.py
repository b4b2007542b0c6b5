"""supersede_messages: a message no provider has been handed yet is dropped when what it says
stops being true — recorded SUPERSEDED with the reason, never sent, never answerable."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications import delivery
from notifications.models import LoginCode, SmsMessage, SmsStatus, SmsStatusEvent
from notifications.outbox import queue_sms, queue_sms_bulk, supersede_messages
from notifications.templates import register_template
from notifications.transports import locmem

pytestmark = pytest.mark.django_db

register_template("test.about", zh="【邻里】{text}", en="Linli: {text}")
register_template("test.about.ask", zh="【邻里】{text}？回复1（编号{code}）", en="Linli: {text}? Reply 1 ({code})")


def about(obj, key, phone="+8613900000050", **extra):
    template = "test.about.ask" if extra.get("expects_reply") else "test.about"
    return queue_sms(template=template, context={"text": key}, purpose="test.about", idempotency_key=key,
                     phone=phone, related=obj, **extra)


@pytest.fixture
def codes(db):
    now = timezone.now()
    return [LoginCode.objects.create(phone=f"+861390000005{i}", code_hash="x", expires_at=now + timedelta(minutes=5))
            for i in range(3)]


def test_queued_messages_about_an_object_are_superseded_with_the_reason(codes):
    first, other = about(codes[0], "a"), about(codes[1], "b")
    assert supersede_messages(codes[0], reason="alert cancelled") == 1
    first.refresh_from_db(), other.refresh_from_db()
    assert (first.status, first.error_code, first.error_message) == (SmsStatus.SUPERSEDED, "superseded", "alert cancelled")
    assert other.status == SmsStatus.QUEUED
    event = SmsStatusEvent.objects.get(message=first, to_status=SmsStatus.SUPERSEDED)
    assert (event.from_status, event.source, event.note) == (SmsStatus.QUEUED, "superseded", "alert cancelled")


def test_a_superseded_message_is_never_sent(codes):
    about(codes[0], "a")
    supersede_messages(codes[0], reason="answered")
    delivery.drain(max_seconds=5)
    assert locmem.outbox == []


def test_several_objects_and_querysets_are_accepted(codes):
    for i, code in enumerate(codes):
        about(code, f"m{i}")
    assert supersede_messages(codes[:2], reason="closed") == 2
    assert supersede_messages(LoginCode.objects.filter(pk=codes[2].pk), reason="closed") == 1
    assert set(SmsMessage.objects.values_list("status", flat=True)) == {SmsStatus.SUPERSEDED}


def test_messages_a_provider_has_or_may_have_are_left_alone(codes):
    sent, claimed, maybe = about(codes[0], "sent"), about(codes[0], "claimed"), about(codes[0], "maybe")
    delivery.deliver(sent.pk, pace=False)
    SmsMessage.objects.filter(pk=claimed.pk).update(status=SmsStatus.SENDING)
    SmsMessage.objects.filter(pk=maybe.pk).update(reconcile_since=timezone.now())  # a time-out: it may be out
    assert supersede_messages(codes[0], reason="too late") == 0
    assert dict(SmsMessage.objects.values_list("idempotency_key", "status")) == {
        "sent": SmsStatus.SENT, "claimed": SmsStatus.SENDING, "maybe": SmsStatus.QUEUED}


def test_superseding_twice_changes_nothing_the_second_time(codes):
    about(codes[0], "a")
    assert supersede_messages(codes[0], reason="once") == 1
    assert supersede_messages(codes[0], reason="twice") == 0
    assert SmsStatusEvent.objects.filter(to_status=SmsStatus.SUPERSEDED).count() == 1


def test_a_superseded_prompt_takes_no_answer_and_frees_its_code(codes):
    prompt = about(codes[0], "ask", expects_reply=True, reply_until=timezone.now() + timedelta(hours=1))
    supersede_messages(codes[0], reason="answered in the app")
    from notifications.outbox import open_codes

    assert open_codes([prompt.phone]) == {}


def test_a_secret_in_a_superseded_message_is_masked(codes):
    message = queue_sms(template="login.code", context={"code": "654321", "minutes": 5}, purpose="login_code",
                        idempotency_key="secret", phone="+8613900000050", related=codes[0], redact=("code",))
    supersede_messages(codes[0], reason="a newer code")
    message.refresh_from_db()
    assert "654321" not in message.body and message.status == SmsStatus.SUPERSEDED


def test_bulk_rows_are_superseded_in_a_few_queries(codes, django_assert_max_num_queries):
    queue_sms_bulk([dict(template="test.about", context={"text": str(i)}, purpose="t", idempotency_key=f"k{i}",
                         phone=f"+86139{i:08d}", related=codes[0]) for i in range(600)])
    with django_assert_max_num_queries(12):
        assert supersede_messages(codes[0], reason="closed") == 600


def test_a_new_login_code_supersedes_the_one_not_yet_sent(db, settings):
    from notifications import ratelimit
    from notifications.login import request_login_code

    request_login_code("+8613900000061")
    # A minute later: the per-phone bucket has refilled (fresh buckets, in-process and in Redis).
    ratelimit.clear_local()
    settings.RATE_LIMIT_PREFIX = f"{settings.RATE_LIMIT_PREFIX}later:"
    request_login_code("+8613900000061")
    assert list(SmsMessage.objects.order_by("id").values_list("status", flat=True)) == [SmsStatus.SUPERSEDED, SmsStatus.QUEUED]
