"""Devices (push tokens) and acknowledging notifications."""

import graphene

from core.errors import field_error
from notifications.devices import register_device, unregister_device
from notifications.error_codes import NotificationsErrorCode
from notifications.models import DevicePlatform, PushProvider
from notifications.push_outbox import acknowledge, notification_for_ref

from ...core.mutations import BaseMutation
from ...core.permissions import current_user
from ...core.types import decode_id
from ..types import DeviceType, NotificationType

DevicePlatformEnum = graphene.Enum.from_enum(DevicePlatform, description="IOS or ANDROID")
PushProviderEnum = graphene.Enum.from_enum(
    PushProvider, description="APNS (iOS), FCM (Android outside mainland China), JPUSH (Android in mainland China, iOS too)")


def _value(value):
    return getattr(value, "value", value)


class RegisterDevice(BaseMutation):
    """Register this phone for push (call at every app start and whenever the provider gives
    the app a new token). A token already registered by another account moves to yours."""

    device = graphene.Field(DeviceType)

    class Arguments:
        platform = DevicePlatformEnum(required=True)
        provider = PushProviderEnum(required=True)
        token = graphene.String(required=True, description="APNs device token (hex), FCM registration token or JPush registration ID.")
        app_version = graphene.String(default_value="")
        language = graphene.String(description="zh-hans (default) or en: the language pushes are written in.")

    @classmethod
    def perform_mutation(cls, root, info, platform, provider, token, app_version="", language=None):
        user = current_user(info)
        device = register_device(user, platform=_value(platform), provider=_value(provider), token=token,
                                 app_version=app_version, language=language)
        return cls(errors=[], device=device)


class UnregisterDevice(BaseMutation):
    """Stop pushes to this phone (logging out on it). Only your own devices."""

    removed = graphene.Boolean()

    class Arguments:
        token = graphene.String(required=True)
        provider = PushProviderEnum()

    @classmethod
    def perform_mutation(cls, root, info, token, provider=None):
        user = current_user(info)
        unregister_device(user, token=token, provider=_value(provider))
        return cls(errors=[], removed=True)


class AcknowledgeNotification(BaseMutation):
    """The app shows (opened: false) or the person opens (opened: true, the default) a
    notification. Opening is what counts as reached; it also marks it read. Give the
    notification's ID, or the `ref` a push carried in its data (pushes sent to many people
    alike carry a ref instead of each person's ID)."""

    notification = graphene.Field(NotificationType)

    class Arguments:
        notification_id = graphene.ID()
        ref = graphene.String(description="data.ref of the push (e.g. safety-check-12).")
        opened = graphene.Boolean(default_value=True)

    @classmethod
    def perform_mutation(cls, root, info, notification_id=None, ref=None, opened=True):
        user = current_user(info)
        if bool(notification_id) == bool(ref):
            raise field_error("notification_id", "Give notificationId or ref.", NotificationsErrorCode.INVALID)
        if notification_id:
            pk = decode_id(notification_id, "Notification", "notification_id")
        else:
            pk = notification_for_ref(user, ref)
        return cls(errors=[], notification=acknowledge(user, pk, opened=bool(opened)))
