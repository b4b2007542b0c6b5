"""Retention: the daily job deletes or anonymises what has outlived its period and keeps
what reports count. Runs on SQLite and, with DATABASE_URL set, on PostgreSQL."""

import datetime as dt

import pytest
from django.db.models import Count, QuerySet
from django.utils import timezone

from community.models import IdempotencyRecord, PhoneVerification
from notifications.models import InboundSms, LoginCode, Notification, SmsMessage
from notifications.services import notify
from privacy import retention
from privacy.access import record, resident_read
from privacy.models import AccessLog, Channel
from privacy.tasks import apply_retention
from tests.fake_twilio import AUTH_TOKEN
from tests.notifications.helpers import PUBLIC, inbound_params, send_queued, signed_post
from tests.operations import operation

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def _twilio(settings):
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.PUBLIC_BASE_URL = PUBLIC


def backdate(queryset, field, days):
    # Setting up the past: the rows were written by the real paths, then made old.
    queryset.model._default_manager.filter(pk__in=[r.pk for r in queryset]).update(**{field: timezone.now() - days * DAY})


def sms_counts():
    """What the after-action report counts (emergency/review_messages.py)."""
    return sorted((r["purpose"], r["lane"], r["status"], r["n"])
                  for r in SmsMessage.objects.values("purpose", "lane", "status").annotate(n=Count("pk")))


@pytest.fixture
def old_and_new(world, gql, client, people, django_capture_on_commit_callbacks):
    """Each kind twice: once older than its period, once recent."""
    for phone in ("+8613900000051", "+8613900000052"):
        gql.data(operation("notifications/RequestLoginCode"), {"phone": phone})
    send_queued()
    backdate(SmsMessage.objects.filter(phone="+8613900000051"), "created_at", 91)
    backdate(LoginCode.objects.filter(phone="+8613900000051"), "created_at", 8)
    for sid, phone in (("SM" + "1" * 32, "+8613900000061"), ("SM" + "2" * 32, "+8613900000062")):
        with django_capture_on_commit_callbacks(execute=True):
            assert signed_post(client, "/sms/inbound/", inbound_params(phone, "我家漏水了", sid)).status_code == 200
    backdate(InboundSms.objects.filter(phone="+8613900000061"), "received_at", 91)
    old = notify(world.resident, kind="test.private", title="旧的通知", body="您的药已送达")
    notify(world.resident, kind="test.private", title="新的通知", body="今天")
    backdate(Notification.objects.filter(pk=old.pk), "created_at", 181)
    for key, days in (("old", 8), ("new", 1)):
        row = IdempotencyRecord.objects.create(user=world.resident, key=key, operation="x", fingerprint="f", result={"a": 1})
        backdate(IdempotencyRecord.objects.filter(pk=row.pk), "created_at", days)
    PhoneVerification.objects.create(resident=people["me"], phone="+8613900000071", code_hash="h",
                                     expires_at=timezone.now() - 9 * DAY)
    backdate(PhoneVerification.objects.all(), "created_at", 9)
    record(world.admin_a, Channel.API, "Residents", [resident_read(people["me"], {"phone"})])
    # The access log refuses updates; make this row four years old below its manager.
    QuerySet(model=AccessLog).update(at=timezone.now() - 4 * 365 * DAY)
    record(world.admin_a, Channel.API, "Resident", [resident_read(people["me"], {"careNotes"})])


def test_the_daily_job_purges_each_kind_past_its_period_and_keeps_the_rest(world, old_and_new):
    before = sms_counts()
    done = apply_retention.apply().get()
    assert done == {"access_log": 1, "idempotency_records": 1, "inbound_texts": 1, "login_codes": 2,
                    "notifications": 1, "sms_bodies": 1, "device_pushes": 0, "voice_calls": 0}  # those: test_reach_data
    old_sms, new_sms = SmsMessage.objects.get(created_at__lt=timezone.now() - 90 * DAY), SmsMessage.objects.get(phone="+8613900000052")
    assert (old_sms.phone, old_sms.body, old_sms.body_redacted, old_sms.params) == ("", "", "", {})
    assert new_sms.body_redacted or new_sms.body
    assert sms_counts() == before  # the report's figures are the same
    inbound = {i.message_sid[2]: i for i in InboundSms.objects.all()}
    assert (inbound["1"].phone, inbound["1"].body) == ("", "")
    assert (inbound["2"].phone, inbound["2"].body) == ("+8613900000062", "我家漏水了")
    assert sorted(Notification.objects.values_list("title", "body")) == [("", ""), ("新的通知", "今天")]
    assert list(LoginCode.objects.values_list("phone", flat=True)) == ["+8613900000052"]
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
    assert not PhoneVerification.objects.exists()
    assert list(AccessLog.objects.values_list("operation", flat=True)) == ["Resident"]
    # Run again (a second beat, a retried task): nothing more to do.
    assert apply_retention.apply().get() == {kind: 0 for kind in done}


def test_a_kind_set_to_zero_days_is_kept_and_batches_are_small(world, old_and_new, settings, monkeypatch):
    settings.RETENTION_DAYS = {**settings.RETENTION_DAYS, "notifications": 0}
    monkeypatch.setattr(retention, "BATCH", 1)
    done = retention.apply_retention()
    assert "notifications" not in done and done["login_codes"] == 2
    assert Notification.objects.filter(title="旧的通知").exists()


def test_idempotency_records_are_kept_three_days_whatever_the_setting(world, old_and_new, settings):
    settings.RETENTION_DAYS = {**settings.RETENTION_DAYS, "idempotency_records": 1}
    retention.apply_retention()
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]  # 1 day old: kept
