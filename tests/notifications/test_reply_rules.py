"""What a reply may answer: a bare "1"/"是" only a prompt the person could have seen — delivered
before the reply, or handed over at least SMS_BARE_REPLY_MIN_AGE_SECONDS before it — and
otherwise the person is asked which; a code always picks its prompt. The opt-out words of
Chinese SMS (T, TD, 回复TD退订, 退订) opt out; 取消 answers about the task, it never opts out."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications import receipts
from notifications.consent import is_opted_out
from notifications.inbound import register_reply_handler
from notifications.models import InboundSms, SmsMessage, SmsStatus
from notifications.outbox import queue_sms
from notifications.tasks import send_sms
from notifications.templates import register_template
from tests.notifications.helpers import PUBLIC, inbound_params, signed_post

pytestmark = pytest.mark.django_db

PHONE = "+8613900000301"
register_template("test.rule.ask", zh="【邻里】接单吗？回复 是 {code}", en="Linli: take it? Reply Y {code}")
answers: list[tuple[int, str]] = []


def handler(prompt, reply):
    answers.append((prompt.pk, reply.intent))
    return "好的"


register_reply_handler("test.rule", handler, wants_cancel=True)
register_reply_handler("test.rule.plain", handler)


@pytest.fixture(autouse=True)
def _setup(settings):
    settings.TWILIO_AUTH_TOKEN = "fake-twilio-auth-token-0123456789"
    settings.PUBLIC_BASE_URL = PUBLIC
    settings.SMS_BARE_REPLY_MIN_AGE_SECONDS = 60
    answers.clear()


def ask(key, *, sent_ago: float, purpose="test.rule"):
    prompt = queue_sms(template="test.rule.ask", purpose=purpose, idempotency_key=key, phone=PHONE, expects_reply=True,
                       reply_until=timezone.now() + timedelta(hours=1))
    send_sms(prompt.pk)
    SmsMessage.objects.filter(pk=prompt.pk).update(sent_at=timezone.now() - timedelta(seconds=sent_ago))
    prompt.refresh_from_db()
    return prompt


def text_in(client, body, capture, sid="SM" + "3" * 32):
    with capture(execute=True):
        assert signed_post(client, "/sms/inbound/", inbound_params(PHONE, body, sid)).status_code == 200
    return InboundSms.objects.get(message_sid=sid)


def test_a_bare_yes_does_not_answer_an_offer_handed_over_seconds_ago(client, django_capture_on_commit_callbacks):
    prompt = ask("fresh", sent_ago=10)
    inbound = text_in(client, "1", django_capture_on_commit_callbacks)
    assert inbound.outcome == "sms.reply.which" and answers == []
    assert prompt.reply_code in SmsMessage.objects.get(purpose="sms_reply").body  # asked which, with the code


def test_a_resent_yes_goes_to_the_prompt_seen_not_the_one_just_sent(client, django_capture_on_commit_callbacks):
    seen = ask("seen", sent_ago=600)
    ask("fresh", sent_ago=10)
    assert text_in(client, "是", django_capture_on_commit_callbacks).outcome == "answered"
    assert answers == [(seen.pk, "yes")]


def test_a_delivered_prompt_takes_a_bare_answer_at_once(client, django_capture_on_commit_callbacks):
    prompt = ask("delivered", sent_ago=5)
    receipts.record_provider_status(sid=prompt.provider_sid, provider_status="delivered", message_id=prompt.pk)
    assert text_in(client, "1", django_capture_on_commit_callbacks).outcome == "answered"
    assert answers == [(prompt.pk, "yes")]


def test_a_code_answers_even_a_prompt_just_sent(client, django_capture_on_commit_callbacks):
    prompt = ask("fresh", sent_ago=2)
    assert text_in(client, f"是 {prompt.reply_code}", django_capture_on_commit_callbacks).outcome == "answered"
    assert answers == [(prompt.pk, "yes")]


def test_a_prompt_still_queued_is_never_answered(client, django_capture_on_commit_callbacks):
    queue_sms(template="test.rule.ask", purpose="test.rule", idempotency_key="queued", phone=PHONE, expects_reply=True)
    assert text_in(client, "1", django_capture_on_commit_callbacks).outcome == "sms.reply.nothing_pending"


@pytest.mark.parametrize("word", ["T", "TD", "回复TD退订", "退订", "STOP"])
def test_opt_out_words_from_twilio_are_not_confirmed_by_us(client, word, django_capture_on_commit_callbacks):
    assert text_in(client, word, django_capture_on_commit_callbacks).outcome == "opted_out"
    assert is_opted_out(PHONE) and not SmsMessage.objects.filter(purpose="sms_opt_out_confirmation").exists()


def test_cancel_answers_a_task_offer_as_cancel(client, django_capture_on_commit_callbacks):
    prompt = ask("offer", sent_ago=600)
    assert text_in(client, "取消", django_capture_on_commit_callbacks).outcome == "answered"
    assert answers == [(prompt.pk, "cancel")] and not is_opted_out(PHONE)


def test_cancel_to_a_question_that_does_not_take_it_is_explained(client, django_capture_on_commit_callbacks):
    prompt = ask("question", sent_ago=600, purpose="test.rule.plain")
    assert text_in(client, "取消", django_capture_on_commit_callbacks).outcome == "unrecognised"
    prompt.refresh_from_db()
    assert answers == [] and prompt.answered_at is None and not is_opted_out(PHONE)
    assert SmsMessage.objects.filter(purpose="sms_reply").get().status in (SmsStatus.QUEUED, SmsStatus.SENT)
