"""Phone login: requestLoginCode texts a code through the outbox; verifyLoginCode returns the
same tokens as tokenAuth. Codes are hashed, expire, allow five guesses, and requests are
throttled per number and per client address without revealing who has an account."""

import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from community.models import User
from notifications.models import LoginCode, SmsMessage, SmsStatus
from notifications.transports import locmem
from tests.operations import operation

pytestmark = pytest.mark.django_db

REQUEST = operation("notifications/RequestLoginCode")
VERIFY = operation("notifications/VerifyLoginCode")
ME = "{ me { username phone } }"


@pytest.fixture
def login(gql, django_capture_on_commit_callbacks):
    class Login:
        def request(self, phone, address="10.0.0.1"):
            with django_capture_on_commit_callbacks(execute=True):
                status, body = gql(REQUEST, {"phone": phone}, REMOTE_ADDR=address)
            assert status == 200, body
            return body["data"]["requestLoginCode"]

        def verify(self, phone, code, address="10.0.0.1"):
            status, body = gql(VERIFY, {"phone": phone, "code": code}, REMOTE_ADDR=address)
            assert status == 200 and not body.get("errors"), body
            return body["data"]["verifyLoginCode"]

        def texted_code(self, phone):
            bodies = [sms.body for sms in locmem.outbox if sms.to == phone]
            return re.search(r"\d{6}", bodies[-1]).group(0)

    return Login()


def test_a_resident_logs_in_with_the_texted_code(world, login, gql):
    answer = login.request("+8613900000001")
    assert answer == {"sent": True, "expiresInSeconds": 300, "resendAfterSeconds": 60, "errors": []}
    result = login.verify("+8613900000001", login.texted_code("+8613900000001"))
    assert result["errors"] == [] and result["user"]["phone"] == "+8613900000001"
    status, body = gql(ME, headers={"HTTP_AUTHORIZATION": f"Bearer {result['token']}"})
    assert body["data"]["me"]["username"] == "resident"
    refreshed = gql.data("mutation($r: String!) { refreshToken(refreshToken: $r) { token } }", {"r": result["refreshToken"]})
    assert refreshed["refreshToken"]["token"]


def test_the_first_login_creates_the_account(db, login):
    login.request("13900000077")  # a national number is accepted
    result = login.verify("+8613900000077", login.texted_code("+8613900000077"))
    assert result["token"] and User.objects.get(phone="+8613900000077").has_usable_password() is False
    assert result["errors"] == [] and result["user"]["preferredLanguage"] == "ZH_HANS"
    assert result["user"]["phone"] == "+8613900000077"
    # The username travels in every access token and stands in for a missing name: it is
    # opaque, never the number; others see the number masked.
    import jwt

    user = User.objects.get(phone="+8613900000077")
    assert "13900000077" not in user.username and user.username.startswith("u-")
    assert "13900000077" not in json.dumps(jwt.decode(result["token"], options={"verify_signature": False}))
    assert user.public_name == "+86139****0077" and str(user) == "+86139****0077"


def test_old_phone_named_accounts_show_no_number(db):
    old = User.objects.create_user(username="p8613900000078", phone="+8613900000078")
    assert old.public_name == "+86139****0078"
    staff = User.objects.create_user(username="gridworker9", phone="+8613900000079")
    assert staff.public_name == "gridworker9"


def test_the_answer_is_the_same_for_registered_and_unknown_numbers(world, login):
    assert login.request("+8613900000001") == login.request("+8613900000088", address="10.0.0.2")


def test_the_code_is_texted_through_the_outbox_and_stored_only_hashed(world, login):
    login.request("+8613900000001")
    code = login.texted_code("+8613900000001")
    sms = SmsMessage.objects.get(purpose="login_code")
    assert sms.status == SmsStatus.SENT and code not in sms.body
    assert code not in LoginCode.objects.get().code_hash


def test_a_wrong_code_is_refused_and_counted(world, login):
    login.request("+8613900000001")
    result = login.verify("+8613900000001", "000000" if login.texted_code("+8613900000001") != "000000" else "111111")
    assert result["token"] is None and result["errors"][0]["code"] == "INVALID_CODE"
    assert LoginCode.objects.get().attempts == 1


def test_after_five_wrong_codes_even_the_right_one_is_refused(world, login):
    login.request("+8613900000001")
    right = login.texted_code("+8613900000001")
    wrong = "999999" if right != "999999" else "888888"
    codes = [login.verify("+8613900000001", wrong)["errors"][0]["code"] for _ in range(5)]
    assert codes == ["INVALID_CODE"] * 5
    result = login.verify("+8613900000001", right)
    assert result["token"] is None and result["errors"][0]["code"] == "TOO_MANY_ATTEMPTS"


def test_an_expired_code_is_refused(world, login):
    login.request("+8613900000001")
    LoginCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    result = login.verify("+8613900000001", login.texted_code("+8613900000001"))
    assert result["errors"][0]["code"] == "CODE_EXPIRED"


def test_a_code_works_once(world, login):
    login.request("+8613900000001")
    code = login.texted_code("+8613900000001")
    assert login.verify("+8613900000001", code)["token"]
    assert login.verify("+8613900000001", code)["errors"][0]["code"] == "CODE_EXPIRED"


def test_a_new_request_replaces_the_previous_code(world, login, settings):
    settings.LOGIN_CODE_RESEND_SECONDS = 1
    login.request("+8613900000001")
    first = login.texted_code("+8613900000001")
    LoginCode.objects.update(created_at=timezone.now() - timedelta(seconds=2))
    import time

    time.sleep(1.01)
    login.request("+8613900000001")
    second = login.texted_code("+8613900000001")
    if first != second:
        assert login.verify("+8613900000001", first)["errors"][0]["code"] == "INVALID_CODE"
    assert login.verify("+8613900000001", second)["token"]


def test_a_code_for_another_number_does_not_work(world, login):
    login.request("+8613900000001")
    result = login.verify("+8613900000002", login.texted_code("+8613900000001"))
    assert result["token"] is None and result["errors"][0]["code"] == "CODE_EXPIRED"


def test_asking_again_within_a_minute_is_rate_limited(world, login):
    login.request("+8613900000001")
    answer = login.request("+8613900000001")
    assert answer["sent"] is None and answer["errors"][0]["code"] == "RATE_LIMITED"
    assert answer["errors"][0]["field"] == "phone" and "try again in" in answer["errors"][0]["message"]
    # The wait is a field, not only words in the message (issue 17.7).
    assert 55 <= answer["errors"][0]["retryAfter"] <= 60
    assert f"try again in {answer['errors'][0]['retryAfter']} seconds" in answer["errors"][0]["message"]
    assert LoginCode.objects.count() == 1 and len(locmem.outbox) == 1


def test_requests_per_number_are_limited_per_hour(world, login, settings):
    settings.LOGIN_CODE_RESEND_SECONDS = 1
    settings.LOGIN_CODES_PER_PHONE_PER_HOUR = 2
    import time

    results = []
    for _ in range(3):
        results.append(login.request("+8613900000001"))
        time.sleep(1.01)
    assert [bool(r["errors"]) for r in results] == [False, False, True]
    assert results[2]["errors"][0]["code"] == "RATE_LIMITED"


def test_requests_per_client_address_are_limited_across_numbers(db, login, settings):
    settings.LOGIN_CODES_PER_ADDRESS_PER_HOUR = 3
    results = [login.request(f"+86139000001{i:02d}", address="203.0.113.9") for i in range(4)]
    assert [bool(r["errors"]) for r in results] == [False, False, False, True]
    assert results[3]["errors"][0] == {"field": None, "code": "RATE_LIMITED", "message": results[3]["errors"][0]["message"],
                                       "retryAfter": results[3]["errors"][0]["retryAfter"]}
    assert results[3]["errors"][0]["retryAfter"] > 0
    assert login.request("+8613900000199", address="203.0.113.10")["errors"] == []  # another address is served


def test_guesses_per_client_address_are_limited(world, login, settings):
    settings.LOGIN_VERIFY_PER_ADDRESS_PER_HOUR = 2
    login.request("+8613900000001")
    codes = [login.verify("+8613900000001", "123123", address="198.51.100.1")["errors"][0]["code"] for _ in range(3)]
    assert codes[2] == "RATE_LIMITED" and LoginCode.objects.get().attempts == 2


@pytest.mark.parametrize("phone", ["", "12345", "not a phone", "+86" + "1" * 40])
def test_an_invalid_number_is_a_typed_error_and_nothing_is_sent(db, login, phone):
    answer = login.request(phone)
    assert answer["errors"][0]["code"] == "INVALID_PHONE" and answer["sent"] is None
    assert not LoginCode.objects.exists() and locmem.outbox == []


def test_an_opted_out_number_is_told_how_to_opt_back_in_and_nothing_is_sent(world, login):
    from notifications.consent import opt_out

    opt_out("+8613900000001")
    answer = login.request("+8613900000001")
    assert answer["sent"] is None and answer["errors"][0]["code"] == "OPTED_OUT"
    assert "订阅" in answer["errors"][0]["message"] and "START" in answer["errors"][0]["message"]
    assert not LoginCode.objects.exists() and not SmsMessage.objects.exists() and locmem.outbox == []


def test_a_disabled_account_cannot_log_in(world, login):
    User.objects.filter(pk=world.resident.pk).update(is_active=False)
    login.request("+8613900000001")
    result = login.verify("+8613900000001", login.texted_code("+8613900000001"))
    assert result["token"] is None and result["errors"][0]["code"] == "INVALID_PHONE"


def test_staff_log_in_with_their_password_not_a_texted_code(world, login):
    login.request("+8613800000003")  # admin_a's number: the same answer as anyone's
    result = login.verify("+8613800000003", login.texted_code("+8613800000003"))
    assert result["token"] is None and result["errors"][0]["code"] == "USE_PASSWORD_LOGIN"


def test_a_code_typed_in_full_width_digits_works(world, login, settings):
    settings.LOGIN_CODE_TTL_SECONDS = 600
    login.request("+8613900000088")
    assert "10分钟内有效" in [sms.body for sms in locmem.outbox if sms.to == "+8613900000088"][-1]
    code = login.texted_code("+8613900000088").translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert login.verify("+8613900000088", code)["token"]


# --- SMS pumping (issue 13.9) ------------------------------------------------------------------
@pytest.mark.parametrize("phone", ["+447911123456", "+2348031234567", "+12025550123"])
def test_codes_go_only_to_the_allowed_country_codes(db, login, phone):
    answer = login.request(phone)
    assert answer["sent"] is None and answer["errors"][0]["code"] == "COUNTRY_NOT_SUPPORTED"
    assert "+86" in answer["errors"][0]["message"]
    assert not LoginCode.objects.exists() and not SmsMessage.objects.exists() and locmem.outbox == []


def test_the_allowed_country_codes_are_a_setting(db, login, settings):
    settings.LOGIN_CODE_COUNTRY_CODES = ["86", "852"]
    assert login.request("+85261234567")["errors"] == []
    assert login.request("+447911123456")["errors"][0]["code"] == "COUNTRY_NOT_SUPPORTED"


def test_a_block_of_neighbouring_numbers_is_limited_per_hour(db, login, settings):
    """Pumpers walk a range (…0001, …0002, …): numbers that differ only in their last four
    digits share a limit, whichever address asks."""
    settings.LOGIN_CODES_PER_PREFIX_PER_HOUR = 3
    results = [login.request(f"+861390000{i:04d}", address=f"10.0.0.{i}") for i in range(1, 5)]
    assert [r["errors"] for r in results[:3]] == [[], [], []]
    assert results[3]["errors"][0]["code"] == "RATE_LIMITED" and LoginCode.objects.count() == 3
    assert login.request("+8613900010001", address="10.0.1.1")["errors"] == []  # another block


def test_the_whole_service_has_an_hourly_budget(db, login, settings):
    settings.LOGIN_CODES_PER_HOUR = 2
    results = [login.request(f"+86139{i:04d}0000", address=f"10.1.0.{i}") for i in range(1, 4)]
    assert [r["errors"] for r in results[:2]] == [[], []]
    assert results[2]["errors"][0] == {"field": None, "code": "RATE_LIMITED", "message": results[2]["errors"][0]["message"],
                                       "retryAfter": results[2]["errors"][0]["retryAfter"]}
    assert 0 < results[2]["errors"][0]["retryAfter"] <= 3600
    assert SmsMessage.objects.count() == 2


def test_a_refused_request_does_not_spend_the_budget(db, login, settings):
    settings.LOGIN_CODES_PER_HOUR = 1
    login.request("+447911123456")  # refused by country: the budget is untouched
    assert login.request("+8613900000401")["errors"] == []


def test_login_codes_go_in_the_login_lane(db, login):
    from notifications.lanes import Lane

    login.request("+8613900000402")
    assert SmsMessage.objects.get().lane == Lane.LOGIN


def test_a_verification_retried_with_its_idempotency_key_gets_the_same_tokens(world, login, gql):
    """The answer to verifyLoginCode was lost: sent again with the same key it returns the same
    tokens (the code itself is used up); without the key, or with another code, it is not."""
    phone = "+8613900000001"
    login.request(phone)
    code = login.texted_code(phone)
    variables = {"phone": phone, "code": code, "idempotencyKey": "5f0c6a1e-0000-4000-8000-000000000001"}
    status, first = gql(VERIFY, variables, REMOTE_ADDR="10.0.0.1")
    first = first["data"]["verifyLoginCode"]
    assert first["errors"] == [] and first["token"]
    status, again = gql(VERIFY, variables, REMOTE_ADDR="10.0.0.1")
    assert again["data"]["verifyLoginCode"] == first
    status, body = gql(ME, headers={"HTTP_AUTHORIZATION": f"Bearer {first['token']}"})
    assert body["data"]["me"]["phone"] == phone
    # Without the key, or with a different code, the used code is expired as before.
    for changed in ({"idempotencyKey": None}, {"code": "000000" if code != "000000" else "111111"}):
        status, body = gql(VERIFY, variables | changed, REMOTE_ADDR="10.0.0.1")
        assert body["data"]["verifyLoginCode"]["errors"][0]["code"] == "CODE_EXPIRED"
    # Once the refresh token it returned has been used, the retry no longer answers with it.
    assert gql.data("mutation($r: String!) { refreshToken(refreshToken: $r) { token } }", {"r": first["refreshToken"]})
    status, body = gql(VERIFY, variables, REMOTE_ADDR="10.0.0.1")
    assert body["data"]["verifyLoginCode"]["token"] is None
    assert body["data"]["verifyLoginCode"]["errors"][0]["code"] == "CODE_EXPIRED"


def test_a_verification_retried_after_the_grace_window_is_expired(world, login, gql, settings):
    settings.TOKEN_RETRY_GRACE_SECONDS = 0
    phone = "+8613900000001"
    login.request(phone)
    variables = {"phone": phone, "code": login.texted_code(phone), "idempotencyKey": "k-1"}
    status, first = gql(VERIFY, variables)
    assert first["data"]["verifyLoginCode"]["token"]
    status, again = gql(VERIFY, variables)
    assert again["data"]["verifyLoginCode"]["errors"][0]["code"] == "CODE_EXPIRED"
