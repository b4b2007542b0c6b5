"""core.bulk: INSERT … SELECT and the lean bulk INSERT write what save() would, on both footings."""

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone

from community.models import User
from core.bulk import insert_rows, insert_select, update_column
from notifications.models import Notification, SmsMessage

pytestmark = pytest.mark.django_db


@pytest.fixture
def users():
    return [User.objects.create_user(username=f"bulk{i}", password=None, phone=f"+8613800000{i:03d}") for i in range(5)]


def test_insert_select_writes_one_row_per_source_row_with_expressions_and_model_defaults(users):
    at = timezone.now().replace(microsecond=123456)
    source = User.objects.filter(username__startswith="bulk", pk__gt=users[0].pk)
    written = insert_select(Notification, source, {
        "user_id": F("pk"), "kind": Value("bulk_test"), "title": Concat(Value("你好 "), F("username")),
        "body": Value("正文"), "data": Value({"areaId": "QXJlYTox", "n": [1, 2]}, output_field=Notification._meta.get_field("data")),
        "created_at": Value(at), "is_drill": Value(True)})
    assert written == 4
    rows = list(Notification.objects.filter(kind="bulk_test").order_by("user_id"))
    assert [r.user_id for r in rows] == [u.pk for u in users[1:]]
    first = rows[0]
    assert first.title == f"你好 {users[1].username}" and first.body == "正文" and first.is_drill is True
    assert first.data == {"areaId": "QXJlYTox", "n": [1, 2]}
    assert first.created_at == at  # microseconds kept (the marker notify_selected reads back by)
    # Not named: the model's defaults, as Model() would give them.
    assert first.read_at is None and first.acknowledged_at is None and first.related_id == "" and first.related_type_id is None


def test_insert_select_ignores_conflicts_when_asked_and_writes_nothing_twice(users):
    source = User.objects.filter(pk__in=[u.pk for u in users[:2]])
    values = {"idempotency_key": Concat(Value("bulk:"), F("username")), "phone": F("username"), "purpose": Value("t"),
              "template": Value("t"), "body": Value("b")}
    assert insert_select(SmsMessage, source, values, ignore_conflicts=True) == 2
    assert insert_select(SmsMessage, User.objects.filter(pk__in=[u.pk for u in users[:3]]), values, ignore_conflicts=True) == 1
    assert SmsMessage.objects.filter(idempotency_key__startswith="bulk:").count() == 3
    row = SmsMessage.objects.get(idempotency_key=f"bulk:{users[0].username}")
    assert row.language == "zh-hans" and row.segments == 1 and row.is_drill is False  # field defaults


def test_insert_select_refuses_unknown_fields_and_required_fields_left_out(users):
    with pytest.raises(ValueError, match="no field"):
        insert_select(Notification, User.objects.all(), {"user_id": F("pk"), "colour": Value("red")})
    with pytest.raises(ValueError, match="Notification.user has no default"):
        insert_select(Notification, User.objects.all(), {"kind": Value("x")})
    assert not Notification.objects.exists()


def test_insert_select_from_an_empty_source_writes_nothing(users):
    assert insert_select(Notification, User.objects.filter(pk__lt=0),
                         {"user_id": F("pk"), "kind": Value("x"), "title": Value("t"), "body": Value("b")}) == 0


def test_insert_rows_writes_what_save_would(users):
    ct = ContentType.objects.get_for_model(User)
    rows = [SmsMessage(idempotency_key=f"rows:{i}", phone=f"+86139{i:08d}", user=users[i], purpose="p", template="t",
                       body=f"第{i}条", related_type=ct, related_id=str(users[i].pk)) for i in range(3)]
    insert_rows(SmsMessage, rows, batch_size=2)
    saved = SmsMessage.objects.filter(idempotency_key__startswith="rows:").order_by("idempotency_key")
    assert [(r.phone, r.body, r.user_id, r.related_id) for r in saved] == [
        (f"+86139{i:08d}", f"第{i}条", users[i].pk, str(users[i].pk)) for i in range(3)]
    reference = SmsMessage(idempotency_key="x", phone="+8613900000000", purpose="p", template="t", body="b")
    for field in ("language", "segments", "status", "lane", "expects_reply", "attempts"):
        assert getattr(saved[0], field) == getattr(reference, field)
    assert abs(saved[0].created_at - timezone.now()) < dt.timedelta(minutes=1)


def test_insert_rows_skips_conflicts_only_when_asked(users):
    from django.db import IntegrityError, transaction

    row = SmsMessage(idempotency_key="dup", phone="+8613900000001", purpose="p", template="t", body="b")
    insert_rows(SmsMessage, [row])
    insert_rows(SmsMessage, [SmsMessage(idempotency_key="dup", phone="+8613900000002", purpose="p", template="t", body="c"),
                             SmsMessage(idempotency_key="new", phone="+8613900000003", purpose="p", template="t", body="d")],
                ignore_conflicts=True)
    assert SmsMessage.objects.get(idempotency_key="dup").body == "b" and SmsMessage.objects.filter(idempotency_key="new").exists()
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(SmsMessage, [SmsMessage(idempotency_key="dup", phone="+8613900000004", purpose="p", template="t", body="e")])


def test_update_column_sets_each_rows_own_value_and_the_shared_ones(users):
    at = timezone.now().replace(microsecond=654321)
    rows = [SmsMessage(idempotency_key=f"upd:{i}", phone=f"+86139{i:08d}", purpose="p", template="t", body="b",
                       error_code="was") for i in range(4)]
    insert_rows(SmsMessage, rows)
    ids = dict(SmsMessage.objects.filter(idempotency_key__startswith="upd:").values_list("idempotency_key", "pk"))
    chosen = {ids["upd:0"]: "SM-0", ids["upd:2"]: "SM-'2\""}  # quotes travel as parameters
    assert update_column(SmsMessage, "provider_sid", chosen, batch_size=1, status_changed_at=at, error_code="") == 2
    after = {r.idempotency_key: r for r in SmsMessage.objects.filter(idempotency_key__startswith="upd:")}
    assert after["upd:0"].provider_sid == "SM-0" and after["upd:2"].provider_sid == "SM-'2\""
    assert after["upd:0"].status_changed_at == at and after["upd:0"].error_code == ""
    assert after["upd:1"].provider_sid is None and after["upd:1"].error_code == "was"  # not named: untouched
    assert update_column(SmsMessage, "provider_sid", {}) == 0
