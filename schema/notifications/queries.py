import graphene
from graphene_django import DjangoConnectionField

from notifications.models import Device, Notification

from ..core.permissions import current_user
from .types import DeviceType, NotificationType


class NotificationsQueries(graphene.ObjectType):
    """Your notification history (newest first), with read state and the unread count."""

    notifications = DjangoConnectionField(
        NotificationType,
        unread_only=graphene.Boolean(default_value=False),
        description="Notifications addressed to you, newest first.",
    )

    def resolve_notifications(root, info, unread_only=False, **kwargs):
        user = current_user(info)
        qs = Notification.objects.filter(user=user).order_by("-created_at", "-id")
        return qs.filter(read_at__isnull=True) if unread_only else qs

    my_devices = graphene.List(graphene.NonNull(DeviceType), required=True,
                               description="Your phones registered for push, most recently seen first.")

    def resolve_my_devices(root, info):
        user = current_user(info)
        return list(Device.objects.filter(user=user).order_by("-last_seen_at", "-id"))
