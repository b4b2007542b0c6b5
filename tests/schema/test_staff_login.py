"""Staff login: nobody else's guesses lock a known person out, guessing stays bounded, and staff
give a second factor (TOTP or a recovery code) — over the API and in the Django admin."""

import pyotp
import pytest
from django.core.management import call_command
from django.utils import timezone

from community.models import RecoveryCode, TotpDevice
from tests.operations import operation

pytestmark = pytest.mark.django_db

LOGIN = operation("community/Login")
BEGIN = operation("community/BeginTotpEnrolment")
CONFIRM = operation("community/ConfirmTotpEnrolment")
REGENERATE = operation("community/RegenerateRecoveryCodes")
PASSWORD = "pw-for-tests-123"
ATTACKER, OFFICE = "203.0.113.66", "198.51.100.7"


def attempt(gql, username="commander", password=PASSWORD, address=OFFICE, **more):
    status, body = gql(LOGIN, {"username": username, "password": password, **more}, REMOTE_ADDR=address)
    error = (body.get("errors") or [{}])[0]
    return body["data"]["tokenAuth"], error.get("extensions", {}).get("code"), error


def test_twenty_wrong_passwords_do_not_lock_out_the_commanders_own_phone(world, gql, settings):
    settings.LOGIN_PASSWORD_PER_USER_PER_HOUR = 20
    device = attempt(gql)[0]["deviceToken"]  # the commander's phone logged in once before
    for i in range(40):  # one address, then another: the limits hold, and keep holding
        payload, code, _ = attempt(gql, password=f"guess-{i}", address=ATTACKER if i < 20 else "203.0.113.67")
        assert payload is None and code in ("UNAUTHENTICATED", "RATE_LIMITED", None)
    assert attempt(gql, address=ATTACKER)[1] == "RATE_LIMITED"  # the attacker, even with the right password
    assert attempt(gql, address="192.0.2.1")[1] == "RATE_LIMITED"  # an unknown device is slowed, as said
    for address in (OFFICE, ATTACKER):  # the phone that logged in before gets in, from anywhere
        payload, code, _ = attempt(gql, address=address, deviceToken=device)
        assert code is None and payload["token"]


def test_guessing_from_many_addresses_is_bounded_per_username(world, gql, settings):
    settings.LOGIN_PASSWORD_PER_USER_PER_HOUR = 6
    codes = [attempt(gql, password=f"guess-{i}", address=f"10.0.{i}.1")[1] for i in range(8)]
    assert codes == ["UNAUTHENTICATED"] * 6 + ["RATE_LIMITED"] * 2


def test_one_address_is_limited_per_username_before_it_can_use_up_the_username(world, gql, settings):
    settings.LOGIN_PASSWORD_PER_USER_ADDRESS_PER_HOUR = 3
    codes = [attempt(gql, password="guess", address=ATTACKER)[1] for _ in range(4)]
    assert codes[-1] == "RATE_LIMITED"
    assert attempt(gql, username="admin_a", address=ATTACKER)[0]["token"]  # others from that address: fine
    assert attempt(gql, address=OFFICE)[0]["token"]  # the username from elsewhere: fine


def test_a_device_token_is_for_one_user_and_dies_with_the_password(world, gql, settings):
    settings.LOGIN_PASSWORD_PER_USER_PER_HOUR = 2
    admins_device = attempt(gql, username="admin_a")[0]["deviceToken"]
    commanders_device = attempt(gql)[0]["deviceToken"]
    for i in range(2):
        attempt(gql, password=f"guess-{i}", address=f"10.1.{i}.1")
    assert attempt(gql, deviceToken=admins_device)[1] == "RATE_LIMITED"  # another person's device: unknown here
    assert attempt(gql, deviceToken="forged.token")[1] == "RATE_LIMITED"
    world.commander.set_password("a-new-password-9")
    world.commander.save()
    assert attempt(gql, password="a-new-password-9", deviceToken=commanders_device)[1] == "RATE_LIMITED"


def test_each_login_renews_the_same_devices_token(world, gql):
    first = attempt(gql)[0]["deviceToken"]
    second = attempt(gql, deviceToken=first)[0]["deviceToken"]
    from community.login import known_device

    assert known_device(first, "commander").device_id == known_device(second, "commander").device_id


# --- the second factor ---------------------------------------------------------------------------
@pytest.fixture
def enrolled(world):
    secret = pyotp.random_base32()
    TotpDevice.objects.create(user=world.commander, secret=secret, confirmed_at=timezone.now())
    return pyotp.TOTP(secret)


def test_staff_with_an_app_give_its_code_once(world, gql, enrolled):
    payload, code, _ = attempt(gql)
    assert payload is None and code == "OTP_REQUIRED"
    assert attempt(gql, otp="000000" if enrolled.now() != "000000" else "111111")[1] == "OTP_INVALID"
    now = enrolled.now()
    payload, code, _ = attempt(gql, otp=now)
    assert code is None and payload["token"] and payload["refreshToken"]
    assert attempt(gql, otp=now)[1] == "OTP_INVALID"  # the same code again: a replay
    assert attempt(gql, password="wrong", otp=enrolled.now())[1] == "UNAUTHENTICATED"  # the password first


def test_full_width_digits_and_spaces_are_read(world, gql, enrolled):
    code = enrolled.now()
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in code)
    assert attempt(gql, otp=f"{full_width[:3]} {full_width[3:]}")[0]["token"]


def test_a_recovery_code_works_once(world, gql, enrolled):
    from community.otp import new_recovery_codes

    codes = new_recovery_codes(world.commander)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert attempt(gql, otp=codes[0].lower())[0]["token"]
    assert attempt(gql, otp=codes[0])[1] == "OTP_INVALID"
    assert RecoveryCode.objects.filter(used_at__isnull=False).count() == 1
    assert not RecoveryCode.objects.filter(code_hash__in=codes).exists()  # stored hashed


def test_required_by_setting_staff_enrol_at_their_next_login(world, gql, settings):
    settings.STAFF_TOTP_REQUIRED = True
    payload, code, error = attempt(gql, username="worker_a1")
    assert payload is None and code == "OTP_ENROLMENT_REQUIRED"
    token = error["extensions"]["enrolmentToken"]
    begun = gql.data(BEGIN, {"enrolmentToken": token})["beginTotpEnrolment"]
    assert begun["errors"] == [] and begun["otpauthUri"].startswith("otpauth://totp/")
    app = pyotp.TOTP(begun["secret"])
    wrong = gql.data(CONFIRM, {"code": "12345", "enrolmentToken": token})["confirmTotpEnrolment"]
    assert [e["code"] for e in wrong["errors"]] == ["OTP_INVALID"]
    done = gql.data(CONFIRM, {"code": app.now(), "enrolmentToken": token})["confirmTotpEnrolment"]
    assert done["errors"] == [] and len(done["recoveryCodes"]) == 10
    assert done["token"] and done["refreshToken"] and done["deviceToken"]  # the login completed
    assert attempt(gql, username="worker_a1")[1] == "OTP_REQUIRED"  # from now on, always
    assert gql.data(BEGIN, {"enrolmentToken": token})["beginTotpEnrolment"]["errors"][0]["code"] == "ALREADY_ENROLLED"


def test_a_wrong_password_gets_no_enrolment_token(world, gql, settings):
    settings.STAFF_TOTP_REQUIRED = True
    payload, code, error = attempt(gql, username="worker_a1", password="wrong")
    assert code == "UNAUTHENTICATED" and "enrolmentToken" not in error.get("extensions", {})
    status, body = gql(BEGIN, {"enrolmentToken": "made-up"})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED" and not TotpDevice.objects.exists()


def test_residents_need_no_second_factor_and_cannot_enrol(world, gql, settings):
    settings.STAFF_TOTP_REQUIRED = True
    assert attempt(gql, username="resident")[0]["token"]
    begun = gql.data(BEGIN, user=world.resident)["beginTotpEnrolment"]
    assert [e["code"] for e in begun["errors"]] == ["INVALID"] and not TotpDevice.objects.exists()


def test_logged_in_staff_enrol_by_choice_and_regenerate_codes(world, gql):
    begun = gql.data(BEGIN, user=world.admin_a)["beginTotpEnrolment"]
    app = pyotp.TOTP(begun["secret"])
    done = gql.data(CONFIRM, {"code": app.now()}, user=world.admin_a)["confirmTotpEnrolment"]
    assert len(done["recoveryCodes"]) == 10 and done["token"] is None  # already logged in
    old = done["recoveryCodes"]
    refused = gql.data(REGENERATE, {"otp": "999999" if app.now() != "999999" else "888888"}, user=world.admin_a)
    assert [e["code"] for e in refused["regenerateRecoveryCodes"]["errors"]] == ["OTP_INVALID"]
    fresh = gql.data(REGENERATE, {"otp": old[0]}, user=world.admin_a)["regenerateRecoveryCodes"]["recoveryCodes"]
    assert set(fresh).isdisjoint(old) and attempt(gql, username="admin_a", otp=old[1])[1] == "OTP_INVALID"


def test_an_operator_resets_a_lost_authenticator(world, gql, enrolled):
    call_command("reset_second_factor", "commander")
    assert not TotpDevice.objects.exists() and attempt(gql)[0]["token"]


# --- the Django admin ------------------------------------------------------------------------
@pytest.fixture
def root(db):
    from community.models import User

    return User.objects.create_superuser(username="root", password=PASSWORD)


def admin_login(client, otp="", address=OFFICE, password=PASSWORD):
    return client.post("/admin/login/?next=/admin/", {"username": "root", "password": password, "otp": otp},
                       REMOTE_ADDR=address)


def test_the_admin_asks_enrolled_staff_for_the_code(client, root):
    secret = pyotp.random_base32()
    TotpDevice.objects.create(user=root, secret=secret, confirmed_at=timezone.now())
    page = admin_login(client)
    assert page.status_code == 200 and "authenticator" in page.content.decode()
    assert b'name="otp"' in page.content
    assert admin_login(client, otp=pyotp.TOTP(secret).now()).status_code == 302


def test_the_admin_remembers_the_browser_so_guesses_elsewhere_do_not_lock_it_out(client, root, settings):
    from django.test import Client

    settings.LOGIN_PASSWORD_PER_USER_PER_HOUR = 3
    assert admin_login(client).status_code == 302
    assert "linli_admin_device" in client.cookies
    client.post("/admin/logout/")
    attacker = Client()
    for i in range(5):
        attacker.post("/admin/login/", {"username": "root", "password": f"guess-{i}"}, REMOTE_ADDR=f"10.2.{i}.1")
    assert attacker.post("/admin/login/", {"username": "root", "password": PASSWORD}, REMOTE_ADDR="10.3.0.1").status_code == 429
    assert admin_login(client).status_code == 302  # the known browser
