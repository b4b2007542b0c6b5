"""The outbox: a row written in the caller's transaction, sent after commit, never twice."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notifications.consent import opt_out
from notifications.models import SmsMessage, SmsStatus
from notifications.outbox import queue_sms, queue_sms_bulk
from notifications.templates import register_template
from notifications.transports import locmem

pytestmark = pytest.mark.django_db

register_template("test.hello", zh="【邻里】你好，{name}。", en="Linli: hello, {name}.")
register_template("test.prompt", zh="【邻里】能来帮忙吗？回复 是 {code} 或 否 {code}", en="Linli: can you help? Reply Y {code} or N {code}")


def test_a_message_is_a_row_until_the_transaction_commits(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        message = queue_sms(template="test.hello", context={"name": "王"}, purpose="test", idempotency_key="k1",
                            to_user=world.resident, related=world.grid_a1)
        assert locmem.outbox == []  # nothing leaves before commit
    assert len(callbacks) == 1
    message.refresh_from_db()
    assert message.phone == "+8613900000001"
    assert message.body == "【邻里】你好，王。"
    assert message.related == world.grid_a1
    assert message.status == SmsStatus.SENT and message.provider_sid.startswith("LM")
    assert [sms.body for sms in locmem.outbox] == ["【邻里】你好，王。"]


def test_a_rolled_back_transaction_sends_nothing(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                queue_sms(template="test.hello", context={"name": "王"}, purpose="test", idempotency_key="k1", to_user=world.resident)
                raise RuntimeError("the state change failed")
        except RuntimeError:
            pass
    assert callbacks == [] and not SmsMessage.objects.exists() and locmem.outbox == []


def test_the_same_idempotency_key_returns_the_first_message(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = queue_sms(template="test.hello", context={"name": "王"}, purpose="test", idempotency_key="k1", to_user=world.resident)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = queue_sms(template="test.hello", context={"name": "李"}, purpose="test", idempotency_key="k1", to_user=world.resident)
    assert again.pk == first.pk and callbacks == []
    assert SmsMessage.objects.count() == 1 and len(locmem.outbox) == 1


def test_language_follows_the_user_unless_given(world):
    world.resident.preferred_language = "en"
    world.resident.save()
    english = queue_sms(template="test.hello", context={"name": "Wang"}, purpose="test", idempotency_key="a", to_user=world.resident)
    chinese = queue_sms(template="test.hello", context={"name": "王"}, purpose="test", idempotency_key="b", phone="+8613900000005")
    assert english.body == "Linli: hello, Wang." and chinese.body.startswith("【邻里】")


def test_an_opted_out_number_gets_a_refused_row_that_is_never_sent(world, django_capture_on_commit_callbacks):
    opt_out("+8613900000001")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        message = queue_sms(template="test.hello", context={"name": "王"}, purpose="test", idempotency_key="k", to_user=world.resident)
    assert message.status == SmsStatus.REFUSED and message.error_code == "opted_out"
    assert callbacks == [] and locmem.outbox == []


@pytest.mark.parametrize("phone, code", [("12345", "invalid_phone"), (None, "no_phone")])
def test_no_valid_number_is_a_refused_row_not_an_exception(db, phone, code):
    message = queue_sms(template="test.hello", context={"name": "x"}, purpose="test", idempotency_key="k", phone=phone)
    assert message.status == SmsStatus.REFUSED and message.error_code == code


def test_national_numbers_are_stored_in_e164(db):
    message = queue_sms(template="test.hello", context={"name": "x"}, purpose="test", idempotency_key="k", phone="139 0000 0009")
    assert message.phone == "+8613900000009"


def test_prompts_get_short_codes_unique_among_the_phones_open_prompts(db):
    until = timezone.now() + timedelta(hours=1)
    codes = [
        queue_sms(template="test.prompt", purpose="test", idempotency_key=f"p{i}", phone="+8613900000009",
                  expects_reply=True, reply_until=until).reply_code
        for i in range(30)
    ]
    assert len(set(codes)) == 30
    assert all(2 <= len(c) <= 4 and c[0].isalpha() for c in codes)
    message = SmsMessage.objects.get(idempotency_key="p0")
    assert message.body.count(message.reply_code) == 2


def test_bulk_writes_in_few_queries_and_enqueues_once(world, django_capture_on_commit_callbacks):
    items = [dict(template="test.hello", context={"name": f"居民{i}"}, purpose="safety", idempotency_key=f"s{i}",
                  phone=f"+86139{i:08d}") for i in range(1200)]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with CaptureQueriesContext(connection) as queries:
            written = queue_sms_bulk(items)
    assert written == 1200 and SmsMessage.objects.count() == 1200
    assert len(callbacks) == 1
    inserts = [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    # One INSERT per batch (500 rows; SQLite's parameter limit makes its batches ~30 rows).
    assert len(inserts) <= 1200 // 25 and len(queries.captured_queries) <= len(inserts) + 10


def test_bulk_skips_existing_keys_and_refuses_opted_out_numbers(db):
    opt_out("+8613900000002")
    queue_sms_bulk([dict(template="test.hello", context={"name": "a"}, purpose="t", idempotency_key="s1", phone="+8613900000001")])
    written = queue_sms_bulk([
        dict(template="test.hello", context={"name": "a"}, purpose="t", idempotency_key="s1", phone="+8613900000001"),
        dict(template="test.hello", context={"name": "b"}, purpose="t", idempotency_key="s2", phone="+8613900000002"),
        dict(template="test.prompt", purpose="t", idempotency_key="s3", phone="+8613900000003", expects_reply=True),
    ])
    assert written == 2
    assert SmsMessage.objects.get(idempotency_key="s2").status == SmsStatus.REFUSED
    assert SmsMessage.objects.get(idempotency_key="s3").reply_code


def test_bulk_drains_through_the_transport_after_commit(db, django_capture_on_commit_callbacks):
    items = [dict(template="test.hello", context={"name": "x"}, purpose="t", idempotency_key=f"s{i}", phone=f"+86139{i:08d}")
             for i in range(25)]
    with django_capture_on_commit_callbacks(execute=True):
        queue_sms_bulk(items)
    assert len(locmem.outbox) == 25
    assert SmsMessage.objects.filter(status=SmsStatus.SENT).count() == 25
