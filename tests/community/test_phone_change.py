"""A resident's SMS number: another number is texted a code and becomes theirs only when they
type it back, with the same answer whoever holds the number (no oracle); removing it takes
an explicit clearPhone."""

import re

import pytest
from graphql_relay import to_global_id

from community.models import PhoneVerification, Resident
from notifications.transports import locmem
from tests.notifications.conftest import (
    _notifications_isolation,  # noqa: F401 - tasks run eagerly, outbox cleared
)
from tests.operations import operation

pytestmark = pytest.mark.django_db

UPDATE = operation("community/UpdateMyResidentProfile")
CONFIRM = operation("community/ConfirmMyPhone")
TAKEN = "+8613900000002"  # the other resident's number
FREE = "+8613700000077"


@pytest.fixture
def me(people):
    return people["me"]


@pytest.fixture
def update(gql, world, django_capture_on_commit_callbacks):
    def run(variables, user=None):
        with django_capture_on_commit_callbacks(execute=True):
            return gql.data(UPDATE, variables, user=user or world.resident)["updateMyResidentProfile"]

    return run


def texted_code(phone: str) -> str:
    return re.search(r"\d{6}", [sms.body for sms in locmem.outbox if sms.to == phone][-1]).group(0)


def confirm(gql, world, phone, code):
    return gql.data(CONFIRM, {"phone": phone, "code": code}, user=world.resident)["confirmMyPhone"]


def test_the_answer_is_the_same_for_a_number_someone_holds_and_a_free_one(world, people, me, update):
    assert Resident.objects.filter(phone=TAKEN).exists()
    taken = update({"input": {"phone": TAKEN}})
    free = update({"input": {"phone": FREE}})
    assert taken["errors"] == free["errors"] == []
    assert {k: v for k, v in taken["phoneVerification"].items() if k != "phone"} == \
        {k: v for k, v in free["phoneVerification"].items() if k != "phone"}
    assert taken["phoneVerification"]["phone"] == "+86139****0002" and "13900000002" not in str(taken)
    assert taken["resident"]["phone"] == free["resident"]["phone"] == "+8613900000001"  # nothing changed yet
    me.refresh_from_db()
    assert str(me.phone) == "+8613900000001"
    assert {sms.to for sms in locmem.outbox} == {TAKEN, FREE}  # each got a code, whoever holds it


def test_the_texted_code_makes_the_number_yours(world, people, me, update, gql):
    update({"input": {"phone": "137 0000 0077", "address": "甲社区1幢102"}})
    me.refresh_from_db()
    assert me.address == "甲社区1幢102" and str(me.phone) == "+8613900000001"  # the rest applied at once
    confirmed = confirm(gql, world, "13700000077", texted_code(FREE))
    assert confirmed["errors"] == [] and confirmed["resident"]["phone"] == FREE
    me.refresh_from_db()
    assert str(me.phone) == FREE
    assert confirm(gql, world, FREE, texted_code(FREE))["errors"][0]["code"] == "CODE_EXPIRED"  # once


def test_wrong_codes_are_counted_and_then_even_the_right_one_is_refused(world, people, update, gql, settings):
    settings.LOGIN_CODE_MAX_ATTEMPTS = 3
    update({"input": {"phone": FREE}})
    right = texted_code(FREE)
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(3):
        assert [e["code"] for e in confirm(gql, world, FREE, wrong)["errors"]] == ["INVALID_CODE"]
    assert PhoneVerification.objects.get().attempts == 3  # the count stuck (committed despite the error)
    assert [e["code"] for e in confirm(gql, world, FREE, right)["errors"]] == ["TOO_MANY_ATTEMPTS"]


def test_only_who_proved_the_number_hears_that_it_is_taken(world, people, me, update, gql):
    update({"input": {"phone": TAKEN}})
    answer = confirm(gql, world, TAKEN, texted_code(TAKEN))
    assert [(e["field"], e["code"]) for e in answer["errors"]] == [("phone", "PHONE_TAKEN")]
    me.refresh_from_db()
    assert str(me.phone) == "+8613900000001"


def test_a_code_for_one_resident_or_number_does_not_work_for_another(world, people, update, gql):
    update({"input": {"phone": FREE}})
    assert confirm(gql, world, "+8613700000078", texted_code(FREE))["errors"][0]["code"] == "CODE_EXPIRED"


def test_the_number_you_logged_in_with_is_taken_at_once(world, people, me, update):
    me.phone = FREE
    me.save()
    answer = update({"input": {"phone": "+8613900000001"}})
    assert answer["errors"] == [] and answer["phoneVerification"] is None
    assert answer["resident"]["phone"] == "+8613900000001" and locmem.outbox == []


@pytest.mark.parametrize("phone", [None, "", "  "])
def test_null_or_empty_does_not_silently_clear_the_number(world, people, me, update, phone):
    answer = update({"input": {"phone": phone, "address": "甲社区1幢103"}})
    assert [(e["field"], e["code"]) for e in answer["errors"]] == [("phone", "REQUIRED")]
    me.refresh_from_db()
    assert str(me.phone) == "+8613900000001" and me.address == "甲社区1幢101"


def test_clearing_takes_an_explicit_choice(world, people, me, update):
    me.phone = FREE
    me.save()
    assert update({"input": {"clearPhone": True, "phone": "+8613700000078"}})["errors"][0]["code"] == "INVALID"
    answer = update({"input": {"clearPhone": True}})
    assert answer["errors"] == []
    assert answer["resident"]["phone"] == "+8613900000001"  # texts go to the number they log in with
    me.refresh_from_db()
    assert not me.phone


def test_staff_clear_explicitly_too_and_are_still_told_a_number_is_taken(world, people, gql):
    me = to_global_id("Resident", people["me"].pk)
    nulled = gql.data(operation("community/UpdateResident"), {"id": me, "input": {"phone": None}}, user=world.worker_a1)
    assert [e["code"] for e in nulled["updateResident"]["errors"]] == ["REQUIRED"]
    taken = gql.data(operation("community/UpdateResident"), {"id": me, "input": {"phone": TAKEN}}, user=world.admin_a)
    assert [e["code"] for e in taken["updateResident"]["errors"]] == ["PHONE_TAKEN"]
    cleared = gql.data(operation("community/UpdateResident"), {"id": me, "input": {"clearPhone": True}}, user=world.worker_a1)
    assert cleared["updateResident"]["errors"] == []
    assert not Resident.objects.get(pk=people["me"].pk).phone


def test_registering_with_someone_elses_number_reveals_nothing_and_claims_nothing(world, gql, make_resident,
                                                                                  django_capture_on_commit_callbacks):
    elder = make_resident(world.grid_a1, "孙大娘", phone=TAKEN, care_notes="卧床")
    location = {"latitude": world.grid_a1.center_lat, "longitude": world.grid_a1.center_lng}
    with django_capture_on_commit_callbacks(execute=True):
        payload = gql.data(operation("community/RegisterMyResidentProfile"),
                           {"input": {"displayName": "冒领", "phone": TAKEN}, "location": location},
                           user=world.resident)["registerMyResidentProfile"]
    assert payload["errors"] == [] and payload["phoneVerification"]["phone"] == "+86139****0002"
    assert payload["resident"]["phone"] == "+8613900000001" and payload["resident"]["id"] != to_global_id("Resident", elder.pk)
    elder.refresh_from_db()
    assert elder.user is None and elder.display_name == "孙大娘"


def test_requests_are_rate_limited_per_resident(world, people, update, settings):
    settings.PHONE_CHANGES_PER_RESIDENT_PER_DAY = 2
    assert update({"input": {"phone": "+8613700000071"}})["errors"] == []
    assert update({"input": {"phone": "+8613700000072"}})["errors"] == []
    assert update({"input": {"phone": "+8613700000073"}})["errors"][0]["code"] == "RATE_LIMITED"


def test_confirming_is_one_code_check_per_document(gql, world, people):
    fields = " ".join(f'c{i}: confirmMyPhone(phone: "{FREE}", code: "00000{i}") {{ errors {{ code }} }}' for i in range(2))
    status, body = gql(f"mutation {{ {fields} }}", user=world.resident)
    assert status == 400 and body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


def test_codes_go_only_to_the_allowed_countries(world, people, update, settings):
    settings.LOGIN_CODE_COUNTRY_CODES = ["86"]
    answer = update({"input": {"phone": "+447700900123"}})
    assert [(e["field"], e["code"]) for e in answer["errors"]] == [("phone", "INVALID_PHONE")] and locmem.outbox == []
