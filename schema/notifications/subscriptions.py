import graphene


class NotificationsSubscriptions(graphene.ObjectType):
    """myNotifications (issue: notifications)."""
