import graphene


class VolunteersSubscriptions(graphene.ObjectType):
    """Volunteer-facing subscriptions (issue: dispatch adds myOffers)."""
