import graphene


class NotificationsQueries(graphene.ObjectType):
    """Notification history and SMS status (issue: notifications)."""
