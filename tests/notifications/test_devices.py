"""Devices (issue 15): registerDevice / unregisterDevice / myDevices, several per person, a
token moving to its new owner, bad input refused with nothing changed, expiry."""

import datetime as dt

import pytest
from django.utils import timezone

from notifications.devices import expire_devices, live_device_users, register_device
from notifications.models import Device
from tests.operations import operation

pytestmark = pytest.mark.django_db
REGISTER = operation("notifications/RegisterDevice")
UNREGISTER = operation("notifications/UnregisterDevice")
MY_DEVICES = operation("notifications/MyDevices")
IOS = "a1" * 32


def register(gql, user, **overrides):
    variables = {"platform": "IOS", "provider": "APNS", "token": IOS, "appVersion": "2.1.0", "language": "zh-hans"}
    variables.update(overrides)
    status, body = gql(REGISTER, variables, user=user)
    assert status == 200 and "errors" not in body, body
    return body["data"]["registerDevice"]


def test_a_person_registers_several_phones_and_sees_only_their_own(world, gql):
    ios = register(gql, world.resident)
    android = register(gql, world.resident, platform="ANDROID", provider="JPUSH", token="1a0018970a2b3c4d5e6")
    assert ios["errors"] == [] and android["errors"] == []
    assert ios["device"]["platform"] == "IOS" and ios["device"]["provider"] == "APNS" and ios["device"]["isLive"]
    assert IOS not in str(ios)  # the token is never shown back
    _, body = gql(MY_DEVICES, user=world.resident)
    assert {d["id"] for d in body["data"]["myDevices"]} == {ios["device"]["id"], android["device"]["id"]}
    _, other = gql(MY_DEVICES, user=world.other_resident)
    assert other["data"]["myDevices"] == []
    assert live_device_users([world.resident.pk, world.other_resident.pk]) == {world.resident.pk}


def test_registering_again_refreshes_the_row_and_a_new_owner_takes_the_token(world, gql):
    first = register(gql, world.resident)
    Device.objects.update(last_seen_at=timezone.now() - dt.timedelta(days=10))
    again = register(gql, world.resident, appVersion="2.2.0")
    assert again["device"]["id"] == first["device"]["id"] and again["device"]["appVersion"] == "2.2.0"
    moved = register(gql, world.other_resident)  # the phone changed hands
    assert moved["device"]["id"] == first["device"]["id"]
    assert Device.objects.get().user == world.other_resident
    _, body = gql(MY_DEVICES, user=world.resident)
    assert body["data"]["myDevices"] == []


@pytest.mark.parametrize("overrides, field", [
    ({"token": "not-hex"}, "token"),
    ({"token": "a1" * 31}, "token"),
    ({"platform": "IOS", "provider": "FCM", "token": "x" * 40}, "provider"),
    ({"appVersion": "<script>"}, "appVersion"),
    ({"language": "fr"}, "language"),
])
def test_bad_input_is_a_typed_error_and_changes_nothing(world, gql, overrides, field):
    payload = register(gql, world.resident, **overrides)
    assert payload["device"] is None and [e["field"] for e in payload["errors"]] == [field]
    assert payload["errors"][0]["code"] == "INVALID"
    assert not Device.objects.exists()


def test_unregister_forgets_only_your_own_device(world, gql):
    register(gql, world.resident)
    _, body = gql(UNREGISTER, {"token": IOS}, user=world.other_resident)
    payload = body["data"]["unregisterDevice"]
    assert payload["removed"] is None and payload["errors"][0]["code"] == "NOT_FOUND"
    assert Device.objects.filter(user=world.resident).exists()
    _, body = gql(UNREGISTER, {"token": IOS, "provider": "APNS"}, user=world.resident)
    assert body["data"]["unregisterDevice"] == {"removed": True, "errors": []}
    assert not Device.objects.exists()


def test_anonymous_callers_register_nothing(world, gql):
    status, body = gql(REGISTER, {"platform": "IOS", "provider": "APNS", "token": IOS})
    assert body["data"]["registerDevice"] is None and body["errors"]
    assert not Device.objects.exists()


def test_devices_unseen_for_the_lifetime_are_not_live_and_expire(world, settings):
    settings.PUSH_DEVICE_TTL_DAYS = 30
    old = register_device(world.resident, platform="ios", provider="apns", token=IOS)
    fresh = register_device(world.other_resident, platform="android", provider="fcm", token="f" * 40)
    Device.objects.filter(pk=old.pk).update(last_seen_at=timezone.now() - dt.timedelta(days=31))
    assert live_device_users([world.resident.pk, world.other_resident.pk]) == {world.other_resident.pk}
    assert expire_devices() == 1
    assert list(Device.objects.values_list("pk", flat=True)) == [fresh.pk]


def test_a_person_keeps_at_most_ten_devices_the_oldest_goes(world):
    for n in range(11):
        register_device(world.resident, platform="ios", provider="apns", token=f"{n:064x}")
    assert Device.objects.filter(user=world.resident).count() == 10
    assert not Device.objects.filter(token=f"{0:064x}").exists()
