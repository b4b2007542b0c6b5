from __future__ import annotations

import graphene
from django.utils import timezone
from graphene.types.generic import GenericScalar
from graphene_django import DjangoObjectType

from notifications.devices import ttl
from notifications.models import Device, Notification

from ..core.types import CountedConnection, Node


class NotificationConnection(CountedConnection):
    class Meta:
        abstract = True

    unread_count = graphene.Int(required=True, description="All your unread notifications (not only this page).")

    def resolve_unread_count(root, info):
        user = info.context.user
        return Notification.objects.filter(user=user, read_at__isnull=True).count() if user.is_authenticated else 0


class NotificationType(DjangoObjectType):
    """Something addressed to you: an offer, an alert, a safety check, a reply."""

    data = GenericScalar(required=True, description="Kind-specific fields, e.g. {offerId: ...}.")
    is_read = graphene.Boolean(required=True)

    class Meta:
        model = Notification
        name = "Notification"
        interfaces = (Node,)
        connection_class = NotificationConnection
        fields = ("id", "kind", "title", "body", "data", "is_drill", "created_at", "read_at", "received_at",
                  "acknowledged_at")

    @classmethod
    def get_queryset(cls, queryset, info):
        user = info.context.user
        return queryset.filter(user=user) if user.is_authenticated else queryset.none()

    @classmethod
    def get_node(cls, info, id):
        user = info.context.user
        if not user.is_authenticated:
            return None
        return Notification.objects.filter(pk=id, user=user).first()

    def resolve_is_read(self, info):
        return self.read_at is not None


class DeviceType(DjangoObjectType):
    """One of your phones registered for push. The token itself is never shown back."""

    platform = graphene.String(required=True, description="IOS or ANDROID")
    provider = graphene.String(required=True, description="APNS, FCM or JPUSH")
    is_live = graphene.Boolean(required=True, description="Seen within the device lifetime (PUSH_DEVICE_TTL_DAYS).")

    class Meta:
        model = Device
        name = "Device"
        interfaces = (Node,)
        fields = ("id", "app_version", "language", "created_at", "last_seen_at")

    @classmethod
    def get_queryset(cls, queryset, info):
        user = info.context.user
        return queryset.filter(user=user) if user.is_authenticated else queryset.none()

    @classmethod
    def get_node(cls, info, id):
        user = info.context.user
        if not user.is_authenticated:
            return None
        return Device.objects.filter(pk=id, user=user).first()

    def resolve_platform(self, info):
        return self.platform.upper()

    def resolve_provider(self, info):
        return self.provider.upper()

    def resolve_is_live(self, info):
        return self.last_seen_at >= timezone.now() - ttl()
