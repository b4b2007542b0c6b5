import graphene

from core.errors import field_error
from notifications.error_codes import NotificationsErrorCode
from notifications.models import Notification
from notifications.services import mark_read, unread_count

from ...core.mutations import BaseMutation
from ...core.permissions import current_user
from ...core.types import decode_id


class MarkNotificationsRead(BaseMutation):
    """Mark some of your notifications read (ids), or all of them (all: true)."""

    updated_count = graphene.Int()
    unread_count = graphene.Int()

    class Arguments:
        ids = graphene.List(graphene.NonNull(graphene.ID), description="At most 100 notification IDs.")
        all = graphene.Boolean(default_value=False)

    @classmethod
    def perform_mutation(cls, root, info, ids=None, all=False):
        user = current_user(info)
        if all == bool(ids):
            raise field_error("ids", "Give ids, or all: true.", NotificationsErrorCode.INVALID)
        pks = None
        if ids:
            if len(ids) > 100:
                raise field_error("ids", "At most 100 IDs.", NotificationsErrorCode.INVALID)
            pks = {decode_id(i, "Notification", "ids") for i in ids}
            mine = set(Notification.objects.filter(user=user, pk__in=pks).values_list("pk", flat=True))
            if mine != pks:
                raise field_error("ids", "No such notification.", NotificationsErrorCode.NOT_FOUND)
        updated = mark_read(user, list(pks) if pks is not None else None)
        return cls(errors=[], updated_count=updated, unread_count=unread_count(user))
