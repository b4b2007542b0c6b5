"""Inbound SMS: a signed webhook that stores each MessageSid once and answers at once, and a
router that understands yes/no in Chinese, English and digits, codes, and STOP/START/HELP."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from twilio.request_validator import HMAC_SHA256, RequestValidator

from notifications.consent import is_opted_out, opt_out
from notifications.inbound import register_reply_handler
from notifications.models import InboundSms, SmsMessage, SmsStatus
from notifications.outbox import queue_sms
from notifications.replies import parse_reply
from notifications.tasks import process_inbound, send_sms
from notifications.templates import register_template
from tests.notifications.helpers import PUBLIC, inbound_params, signed_post

pytestmark = pytest.mark.django_db

PHONE = "+8613900000007"
register_template("test.ask", zh="【邻里】能来吗？回复 是 {code} 或 否 {code}", en="Linli: can you come? Reply Y {code} or N {code}")
handled: list[tuple[int, str, str | None]] = []


def offer_handler(prompt, reply):
    handled.append((prompt.pk, reply.intent, reply.code))
    return "谢谢，已接单。" if reply.intent == "yes" else "好的，已记录。"


register_reply_handler("test.offer", offer_handler)


@pytest.fixture(autouse=True)
def _reset_handled(settings):
    settings.TWILIO_AUTH_TOKEN = "fake-twilio-auth-token-0123456789"
    settings.PUBLIC_BASE_URL = PUBLIC
    handled.clear()


def ask(key="o1", phone=PHONE, until=timedelta(hours=1), send=True, **extra):
    """A prompt, sent through the real send task (a prompt still queued takes no answer)."""
    prompt = queue_sms(template="test.ask", purpose="test.offer", idempotency_key=key, phone=phone, expects_reply=True,
                       reply_until=timezone.now() + until if until else None, **extra)
    if send and prompt.status == SmsStatus.QUEUED:
        send_sms(prompt.pk)
        prompt.refresh_from_db()
    return prompt


def text_in(client, body, phone=PHONE, sid="SM" + "1" * 32, capture=None):
    """Deliver an inbound SMS through the signed webhook and run the task it enqueues."""
    with capture(execute=True):
        response = signed_post(client, "/sms/inbound/", inbound_params(phone, body, sid))
    assert response.status_code == 200
    return InboundSms.objects.get(message_sid=sid)


def replies_to(phone=PHONE):
    return list(SmsMessage.objects.filter(phone=phone, purpose="sms_reply").order_by("id").values_list("body", flat=True))


# --- the webhook ----------------------------------------------------------------------------
def test_a_signed_inbound_sms_is_stored_and_answered_with_empty_twiml(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = signed_post(client, "/sms/inbound/", inbound_params(PHONE, "你好"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/xml")
    assert response.content.decode().endswith("<Response></Response>")
    assert InboundSms.objects.get().body == "你好" and len(callbacks) == 1


@pytest.mark.parametrize("case", ["missing", "tampered", "wrong_token", "http_url"])
def test_unsigned_or_tampered_inbound_is_403_and_writes_nothing(client, case, django_capture_on_commit_callbacks):
    params = inbound_params(PHONE, "是")
    kwargs = {}
    if case == "wrong_token":
        kwargs["token"] = "not-the-token"
    if case == "http_url":
        kwargs["url"] = "http://linli.example/sms/inbound/"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        if case == "missing":
            response = client.post("/sms/inbound/", params)
        elif case == "tampered":
            from twilio.request_validator import RequestValidator

            signature = RequestValidator("fake-twilio-auth-token-0123456789").compute_signature(f"{PUBLIC}/sms/inbound/", params)
            response = client.post("/sms/inbound/", {**params, "Body": "STOP"}, HTTP_X_TWILIO_SIGNATURE=signature)
        else:
            response = signed_post(client, "/sms/inbound/", params, **kwargs)
    assert response.status_code == 403
    assert not InboundSms.objects.exists() and callbacks == []


SHARED_KEY = "fake-twilio-webhooks-shared-key-secret"
SHA256_SETTINGS = "key=webhooks_sharedkey_0123,algorithm=HMAC_SHA256"


def sha256_post(client, path, params, *, key=SHARED_KEY, settings_header=SHA256_SETTINGS):
    signature = RequestValidator(key).compute_signature(f"{PUBLIC}{path}", params, algorithm=HMAC_SHA256)
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature,
                       HTTP_X_TWILIO_WEBHOOKS_SIGNATURE_SETTINGS=settings_header)


def test_a_webhook_signed_with_hmac_sha256_is_accepted(client, settings):
    """X-Twilio-Webhooks-Signature-Settings names HMAC_SHA256 and the SharedKey signs it; the
    twilio library's validator checks it (issue 17.7)."""
    settings.TWILIO_WEBHOOK_SHARED_KEY = SHARED_KEY
    assert sha256_post(client, "/sms/inbound/", inbound_params(PHONE, "你好")).status_code == 200
    assert InboundSms.objects.get().body == "你好"


@pytest.mark.parametrize("case", ["wrong_key", "sha1_signature_claiming_sha256", "unknown_algorithm", "no_key_configured"])
def test_a_bad_hmac_sha256_signature_is_refused(client, settings, case):
    settings.TWILIO_WEBHOOK_SHARED_KEY = "" if case == "no_key_configured" else SHARED_KEY
    params = inbound_params(PHONE, "是")
    if case == "wrong_key":
        response = sha256_post(client, "/sms/inbound/", params, key="not-the-key")
    elif case == "sha1_signature_claiming_sha256":
        signature = RequestValidator(SHARED_KEY).compute_signature(f"{PUBLIC}/sms/inbound/", params)
        response = client.post("/sms/inbound/", params, HTTP_X_TWILIO_SIGNATURE=signature,
                               HTTP_X_TWILIO_WEBHOOKS_SIGNATURE_SETTINGS=SHA256_SETTINGS)
    elif case == "unknown_algorithm":
        response = sha256_post(client, "/sms/inbound/", params, settings_header="key=k,algorithm=HMAC_MD5")
    else:
        response = sha256_post(client, "/sms/inbound/", params)
    assert response.status_code == 403 and not InboundSms.objects.exists()


def test_webhooks_are_served_without_the_trailing_slash(client, settings):
    """Twilio does not repeat a POST after a 301: /sms/inbound is answered, not redirected."""
    response = signed_post(client, "/sms/inbound", inbound_params(PHONE, "你好"))
    assert response.status_code == 200 and InboundSms.objects.get().body == "你好"
    settings.TWILIO_WEBHOOK_SHARED_KEY = SHARED_KEY
    response = sha256_post(client, "/sms/inbound", inbound_params(PHONE, "再见", sid="SM" + "2" * 32))
    assert response.status_code == 200 and InboundSms.objects.count() == 2
    status = signed_post(client, "/sms/status", {"MessageSid": "SM" + "9" * 32, "MessageStatus": "delivered"})
    assert status.status_code in (200, 204)  # answered, not redirected (unknown message: 204)


def test_without_public_base_url_the_requests_own_url_is_validated(client, settings):
    settings.PUBLIC_BASE_URL = ""
    params = inbound_params(PHONE, "是")
    assert signed_post(client, "/sms/inbound/", params, url="http://testserver/sms/inbound/").status_code == 200


def test_the_secondary_token_is_accepted_during_rotation(client, settings):
    settings.TWILIO_AUTH_TOKEN_SECONDARY = "the-new-token"
    assert signed_post(client, "/sms/inbound/", inbound_params(PHONE, "是"), token="the-new-token").status_code == 200


def test_an_oversized_request_is_413_and_writes_nothing(client, settings):
    settings.SMS_WEBHOOK_MAX_BYTES = 1000
    response = signed_post(client, "/sms/inbound/", inbound_params(PHONE, "x" * 2000))
    assert response.status_code == 413 and not InboundSms.objects.exists()


def test_a_signed_request_without_message_sid_is_400(client):
    params = inbound_params(PHONE, "是")
    del params["MessageSid"], params["SmsSid"]
    assert signed_post(client, "/sms/inbound/", params).status_code == 400
    assert not InboundSms.objects.exists()


def test_a_replayed_message_sid_has_one_side_effect(client, django_capture_on_commit_callbacks):
    prompt = ask()
    for _ in range(3):
        text_in(client, "是", capture=django_capture_on_commit_callbacks)
    assert InboundSms.objects.count() == 1
    assert handled == [(prompt.pk, "yes", None)]
    assert replies_to() == ["谢谢，已接单。"]


def test_processing_the_same_inbound_twice_runs_the_handler_once(client, django_capture_on_commit_callbacks):
    ask()
    inbound = text_in(client, "1", capture=django_capture_on_commit_callbacks)
    process_inbound(inbound.pk)
    assert len(handled) == 1 and inbound.__class__.objects.get(pk=inbound.pk).outcome == "answered"


# --- understanding replies ------------------------------------------------------------------
@pytest.mark.parametrize("body, intent, code", [
    ("1", "yes", None), ("Y", "yes", None), ("yes", "yes", None), ("是", "yes", None), ("接", "yes", None),
    ("好", "yes", None), ("可以", "yes", None), ("Ｙ", "yes", None), ("１", "yes", None),
    ("2", "no", None), ("n", "no", None), ("NO", "no", None), ("否", "no", None), ("不", "no", None), ("不行", "no", None),
    ("Y AB12", "yes", "AB12"), ("AB12 1", "yes", "AB12"), ("是 AB12", "yes", "AB12"), ("是AB", "yes", "AB"),
    ("ab 2", "no", "AB"), ("否，K7", "no", "K7"), ("Okay", "yes", None), ("Sure", "yes", None), ("nope", "no", None),
    ("我在医院", "unknown", None), ("maybe", "unknown", None), ("1 2", "unknown", None), ("", "unknown", None),
])
def test_replies_are_understood_in_chinese_english_and_digits(body, intent, code):
    reply = parse_reply(body)
    assert (reply.intent, reply.code, reply.text) == (intent, code, body)


def test_a_yes_goes_to_the_handler_of_the_only_open_prompt(client, django_capture_on_commit_callbacks):
    prompt = ask()
    inbound = text_in(client, "Y", capture=django_capture_on_commit_callbacks)
    prompt.refresh_from_db()
    assert handled == [(prompt.pk, "yes", None)]
    assert prompt.answered_at is not None and prompt.answer_intent == "yes"
    assert inbound.prompt_id == prompt.pk and inbound.outcome == "answered"
    assert replies_to() == ["谢谢，已接单。"]


def test_with_several_open_prompts_a_code_picks_one(client, django_capture_on_commit_callbacks):
    first, second = ask("o1"), ask("o2")
    text_in(client, f"否 {second.reply_code.lower()}", capture=django_capture_on_commit_callbacks)
    assert handled == [(second.pk, "no", second.reply_code)]
    assert SmsMessage.objects.get(pk=first.pk).answered_at is None


def test_with_several_open_prompts_and_no_code_the_sender_is_asked_which(client, django_capture_on_commit_callbacks):
    first, second = ask("o1"), ask("o2")
    inbound = text_in(client, "是", capture=django_capture_on_commit_callbacks)
    assert handled == [] and inbound.outcome == "sms.reply.which"
    [answer] = replies_to()
    assert first.reply_code in answer and second.reply_code in answer


def test_an_unknown_code_lists_the_open_ones(client, django_capture_on_commit_callbacks):
    prompt = ask()
    text_in(client, "是 ZZ9", capture=django_capture_on_commit_callbacks)
    assert handled == [] and prompt.reply_code in replies_to()[0]


def test_an_unrecognised_reply_gets_a_short_helpful_answer_and_the_prompt_stays_open(client, django_capture_on_commit_callbacks):
    prompt = ask()
    inbound = text_in(client, "我晚点再说", capture=django_capture_on_commit_callbacks)
    assert inbound.outcome == "unrecognised" and handled == []
    assert "1（是）或 2（否）" in replies_to()[0] and prompt.reply_code in replies_to()[0]
    assert SmsMessage.objects.get(pk=prompt.pk).answered_at is None


def test_an_expired_prompt_no_longer_takes_answers(client, django_capture_on_commit_callbacks):
    prompt = ask(until=timedelta(hours=1))
    SmsMessage.objects.filter(pk=prompt.pk).update(reply_until=timezone.now() - timedelta(seconds=1))
    inbound = text_in(client, "是", capture=django_capture_on_commit_callbacks)
    assert handled == [] and inbound.outcome == "sms.reply.nothing_pending"
    assert "没有需要您回复" in replies_to()[0]


def test_a_code_whose_time_has_passed_is_told_so(client, django_capture_on_commit_callbacks):
    prompt = ask("late", until=timedelta(hours=1))
    SmsMessage.objects.filter(pk=prompt.pk).update(reply_until=timezone.now() - timedelta(minutes=1))
    inbound = text_in(client, f"是 {prompt.reply_code}", capture=django_capture_on_commit_callbacks)
    assert inbound.outcome == "sms.reply.closed" and handled == []
    assert "已结束或已过答复时间" in replies_to()[-1]


def test_an_answered_prompt_is_not_answered_twice(client, django_capture_on_commit_callbacks):
    ask()
    text_in(client, "是", sid="SM" + "1" * 32, capture=django_capture_on_commit_callbacks)
    text_in(client, "否", sid="SM" + "2" * 32, capture=django_capture_on_commit_callbacks)
    assert len(handled) == 1


def test_replies_follow_the_prompts_language(client, django_capture_on_commit_callbacks):
    ask(language="en")
    text_in(client, "maybe", capture=django_capture_on_commit_callbacks)
    assert replies_to()[0].startswith("Linli: sorry, we did not understand")


def test_drill_prompts_get_drill_marked_replies(client, django_capture_on_commit_callbacks):
    prompt = ask(is_drill=True)
    assert prompt.body.startswith("【演练】")
    text_in(client, "是", capture=django_capture_on_commit_callbacks)
    assert replies_to()[0].startswith("【演练】")


def test_prompts_are_matched_by_phone_even_without_an_account(client, django_capture_on_commit_callbacks):
    prompt = ask(phone="+8613900000099")
    text_in(client, "好", phone="+8613900000099", capture=django_capture_on_commit_callbacks)
    assert handled == [(prompt.pk, "yes", None)]


# --- keywords -------------------------------------------------------------------------------
@pytest.mark.parametrize("word", ["STOP", "stop", "Unsubscribe", "退订", "QUIT"])
def test_stop_opts_the_number_out_and_later_sends_are_refused(client, word, django_capture_on_commit_callbacks):
    inbound = text_in(client, word, capture=django_capture_on_commit_callbacks)
    assert inbound.outcome == "opted_out" and is_opted_out(PHONE)
    assert replies_to() == []
    assert ask().status == SmsStatus.REFUSED


def test_stop_inside_a_sentence_is_not_an_opt_out(client, django_capture_on_commit_callbacks):
    text_in(client, "STOP PLEASE", capture=django_capture_on_commit_callbacks)
    assert not is_opted_out(PHONE)


def test_start_opts_back_in_and_confirms(client, django_capture_on_commit_callbacks):
    opt_out(PHONE)
    inbound = text_in(client, "订阅", capture=django_capture_on_commit_callbacks)
    assert inbound.outcome == "opted_in" and not is_opted_out(PHONE)
    assert "恢复接收短信" in replies_to()[0]
    assert ask().status != SmsStatus.REFUSED


@pytest.mark.parametrize("word, expected", [("HELP", "Reply STOP"), ("帮助", "回复 退订")])
def test_help_says_what_the_service_is_and_how_to_stop(client, word, expected, django_capture_on_commit_callbacks):
    inbound = text_in(client, word, phone="+8613900000055", capture=django_capture_on_commit_callbacks)
    assert inbound.outcome == "help"
    assert expected in replies_to("+8613900000055")[0]


def test_one_sender_cannot_flood_the_router(client, settings, django_capture_on_commit_callbacks):
    settings.SMS_INBOUND_PER_SENDER_PER_HOUR = 3
    outcomes = [text_in(client, "?", sid=f"SM{i:032d}", capture=django_capture_on_commit_callbacks).outcome for i in range(5)]
    assert outcomes[3:] == ["rate_limited", "rate_limited"] and len(replies_to()) == 3


def test_stop_and_start_are_honoured_even_over_the_flood_limit(client, settings, django_capture_on_commit_callbacks):
    settings.SMS_INBOUND_PER_SENDER_PER_HOUR = 2
    for i in range(2):
        text_in(client, "?", sid=f"SM{i:032d}", capture=django_capture_on_commit_callbacks)
    assert text_in(client, "?", sid=f"SM{9:032d}", capture=django_capture_on_commit_callbacks).outcome == "rate_limited"
    assert text_in(client, "退订", sid=f"SM{10:032d}", capture=django_capture_on_commit_callbacks).outcome == "opted_out"
    assert is_opted_out(PHONE)
    assert text_in(client, "START", sid=f"SM{11:032d}", capture=django_capture_on_commit_callbacks).outcome == "opted_in"
    assert not is_opted_out(PHONE)


def test_an_english_text_from_an_unknown_number_is_answered_in_english(client, django_capture_on_commit_callbacks):
    text_in(client, "yes", phone="+8613900000035", capture=django_capture_on_commit_callbacks)
    assert replies_to("+8613900000035")[0].startswith("Linli")


def test_a_prompt_still_in_the_queue_takes_no_answer(client, django_capture_on_commit_callbacks):
    # The person has not been sent it yet: a bare "yes" meant for something else must not
    # accept it.
    queued = ask("q1", send=False)
    assert queued.status == SmsStatus.QUEUED
    inbound = text_in(client, "是", capture=django_capture_on_commit_callbacks)
    assert inbound.outcome == "sms.reply.nothing_pending" and handled == []
    send_sms(queued.pk)
    assert text_in(client, "是", sid="SM" + "2" * 32, capture=django_capture_on_commit_callbacks).outcome == "answered"
    assert handled == [(queued.pk, "yes", None)]


# --- concurrency on PostgreSQL ----------------------------------------------------------------
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_replays_of_one_message_sid_store_one_row_and_act_once(settings):
    prompt = ask()
    params = inbound_params(PHONE, "是")
    barrier = threading.Barrier(4)
    statuses = []

    def post():
        try:
            barrier.wait()
            statuses.append(signed_post(Client(), "/sms/inbound/", params).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 4
    assert InboundSms.objects.count() == 1
    # The eager task ran on commit in whichever request created the row; run it again anyway.
    process_inbound(InboundSms.objects.get().pk)
    assert handled == [(prompt.pk, "yes", None)]
    assert SmsMessage.objects.filter(purpose="sms_reply").count() == 1


def test_developers_can_simulate_an_inbound_sms(db):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("sms_inbound", "+8613900000123", "HELP", stdout=out)
    assert "outcome: help" in out.getvalue()
