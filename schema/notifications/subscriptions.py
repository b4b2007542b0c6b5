import graphene
from asgiref.sync import sync_to_async

from notifications import events
from notifications.models import Notification

from ..core.errors import NotAuthenticated
from .types import NotificationType


def _load(user_id: int, notification_id) -> Notification | None:
    return Notification.objects.filter(pk=notification_id, user_id=user_id).first()


class NotificationsSubscriptions(graphene.ObjectType):
    my_notifications = graphene.Field(
        NotificationType, required=True, description="Everything addressed to you, as it happens."
    )

    async def subscribe_my_notifications(root, info):
        user = info.context.user
        if user is None or not user.is_authenticated:
            raise NotAuthenticated()
        stream = await info.context.listen([events.user_group(user.pk)]).open()

        async def generate():
            try:
                async for event in stream:
                    if event.get("type") != events.NOTIFICATION_CREATED:
                        continue
                    notification = await sync_to_async(_load)(user.pk, event.get("notificationId"))
                    if notification is not None:  # the database is the truth
                        yield notification
            finally:
                await stream.close()

        return generate()

    def resolve_my_notifications(root, info):
        return root
