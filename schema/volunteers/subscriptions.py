import graphene

from .task_subscriptions import TaskSubscriptions


class VolunteersSubscriptions(TaskSubscriptions, graphene.ObjectType):
    """Volunteer-facing and staff subscriptions: myOffers, taskUpdated, tasksInArea."""
