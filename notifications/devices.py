"""Devices: the phones a person's app can be woken on by push.

    register_device(user, platform="ios", provider="apns", token="…", app_version="2.1.0", language="zh-hans")
    unregister_device(user, token="…")          # logging out on that phone
    live_device_users(user_ids) -> set[int]     # who is reachable by app right now
    prune_device(device_id)                     # the provider said the token is dead
    expire_devices()                            # the beat sweep: unseen for PUSH_DEVICE_TTL_DAYS

"Reachable by app" means a live device, not an account: a person who logged in once and
deleted the app has an account but no live device, and is asked by SMS.

A token is unique per provider: registered again by another account (the phone changed
hands, or someone else logged in on it) it moves to that account, so pushes meant for the
old owner no longer reach the phone (queued ones are refused at send time, see
notifications/push_outbox.py). Every outside value is checked: bad input raises a typed error
and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.errors import field_error

from .error_codes import NotificationsErrorCode as Code
from .models import Device, DevicePlatform, PushProvider
from .templates import normalize_language

if TYPE_CHECKING:
    from django.contrib.auth.models import _User as User

# APNs tokens are 64 hex digits (longer ones are allowed for the future); FCM registration
# tokens and JPush registration IDs are URL-safe text with ':' and '-'.
TOKEN_PATTERNS = {
    PushProvider.APNS: re.compile(r"[0-9a-fA-F]{64,200}"),
    PushProvider.FCM: re.compile(r"[A-Za-z0-9_:\-.]{20,512}"),
    PushProvider.JPUSH: re.compile(r"[A-Za-z0-9_\-]{8,64}"),
}
# Which providers serve which platform: iOS through APNs (or through JPush, which forwards
# to APNs), Android through FCM or JPush (phones in mainland China have no FCM).
PLATFORM_PROVIDERS = {
    DevicePlatform.IOS: {PushProvider.APNS, PushProvider.JPUSH},
    DevicePlatform.ANDROID: {PushProvider.FCM, PushProvider.JPUSH},
}
APP_VERSION = re.compile(r"[0-9A-Za-z.+\-_ ()]{1,32}")
MAX_DEVICES_PER_USER = 10


def ttl() -> dt.timedelta:
    return dt.timedelta(days=settings.PUSH_DEVICE_TTL_DAYS)


def live_q(now: dt.datetime | None = None, prefix: str = "") -> Q:
    """Devices seen within PUSH_DEVICE_TTL_DAYS (prefix: "devices__" from a user query)."""
    return Q(**{f"{prefix}last_seen_at__gte": (now or timezone.now()) - ttl()})


def live_devices(user_ids: Iterable[int], now: dt.datetime | None = None) -> QuerySet[Device]:
    return Device.objects.filter(live_q(now), user_id__in=list(user_ids))


def live_device_users(user_ids: Iterable[int], now: dt.datetime | None = None) -> set[int]:
    """The users among `user_ids` with at least one live device (chunks of 900 for SQLite)."""
    ids = sorted({pk for pk in user_ids if pk is not None})
    found: set[int] = set()
    for start in range(0, len(ids), 900):
        found.update(live_devices(ids[start:start + 900], now).values_list("user_id", flat=True).distinct())
    return found


def check_device(platform: object, provider: object, token: object, app_version: object,
                 language: object) -> tuple[str, str, str, str, str]:
    if platform not in DevicePlatform.values:
        raise field_error("platform", "One of IOS, ANDROID.", Code.INVALID)
    if provider not in PushProvider.values:
        raise field_error("provider", "One of APNS, FCM, JPUSH.", Code.INVALID)
    if provider not in PLATFORM_PROVIDERS[DevicePlatform(platform)]:
        raise field_error("provider", f"{str(provider).upper()} does not serve {str(platform).upper()} devices.", Code.INVALID)
    if not isinstance(token, str) or not TOKEN_PATTERNS[PushProvider(provider)].fullmatch(token):
        raise field_error("token", "Not a token this provider issues.", Code.INVALID)
    version = app_version if isinstance(app_version, str) else ""
    if version and not APP_VERSION.fullmatch(version):
        raise field_error("app_version", "At most 32 letters, digits and . + - _ ( ).", Code.INVALID)
    if language not in (None, "", "zh-hans", "en"):
        raise field_error("language", "zh-hans or en.", Code.INVALID)
    return str(platform), str(provider), token, version, normalize_language(language if isinstance(language, str) else None)


def register_device(user: User, *, platform: object, provider: object, token: object, app_version: object = "",
                    language: object = None) -> Device:
    """Create or refresh the device with this token, owned by `user` (moved from whoever had
    it). Apps call it at every start and whenever the provider hands them a new token."""
    platform_, provider_, token_, version, language_ = check_device(platform, provider, token, app_version, language)
    now = timezone.now()
    values = {"user": user, "platform": platform_, "app_version": version, "language": language_, "last_seen_at": now}
    for _ in range(3):
        try:
            with transaction.atomic():
                device = Device.objects.select_for_update().filter(provider=provider_, token=token_).first()
                if device is None:
                    if Device.objects.filter(user=user).count() >= MAX_DEVICES_PER_USER:
                        _forget_oldest(user)
                    return Device.objects.create(provider=provider_, token=token_, created_at=now, **values)
                for name, value in values.items():
                    setattr(device, name, value)
                device.save(update_fields=[*values.keys()])
                return device
        except IntegrityError:
            continue  # registered concurrently by another request: take that row
    raise field_error("token", "Please try again.", Code.INVALID)


def _forget_oldest(user: User) -> None:
    oldest = Device.objects.filter(user=user).order_by("last_seen_at", "pk").values_list("pk", flat=True)[:1]
    Device.objects.filter(pk__in=list(oldest)).delete()


def unregister_device(user: User, *, token: object, provider: object = None) -> int:
    """Forget the caller's device with this token (logging out on that phone). Another
    person's device is not theirs to forget: it is reported as not found."""
    if not isinstance(token, str) or not token or len(token) > 512:
        raise field_error("token", "Not a device token.", Code.INVALID)
    qs = Device.objects.filter(user=user, token=token)
    if provider is not None:
        if provider not in PushProvider.values:
            raise field_error("provider", "One of APNS, FCM, JPUSH.", Code.INVALID)
        qs = qs.filter(provider=provider)
    deleted, _ = qs.delete()
    if not deleted:
        raise field_error("token", "No such device of yours.", Code.NOT_FOUND)
    return deleted


def touch_devices(user_id: int, now: dt.datetime | None = None) -> None:
    """The person used the app (acknowledged a push): their devices are alive."""
    Device.objects.filter(user_id=user_id).update(last_seen_at=now or timezone.now())


def prune_device(device_id: int) -> bool:
    """The provider called the token invalid (uninstalled, expired): forget it."""
    deleted, _ = Device.objects.filter(pk=device_id).delete()
    return bool(deleted)


def expire_devices(now: dt.datetime | None = None) -> int:
    """Delete devices not seen for PUSH_DEVICE_TTL_DAYS (periodic)."""
    deleted, _ = Device.objects.filter(last_seen_at__lt=(now or timezone.now()) - ttl()).delete()
    return deleted
