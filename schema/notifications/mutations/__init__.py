import graphene


class NotificationsMutations(graphene.ObjectType):
    """Phone login, read/unread (issue: notifications)."""
