"""The root schema, assembled from each app's Query, Mutation and Subscription classes.

Each app's schema package (schema/<app>/) exposes one Queries, one Mutations and one
Subscriptions class; they are listed here and nothing else changes when an app grows.
"""

import graphene

from .community.mutations import CommunityMutations
from .community.queries import CommunityQueries
from .community.subscriptions import CommunitySubscriptions
from .core.conventions import apply_conventions
from .core.pagination import install as install_keyset_pagination
from .core.types import Node
from .emergency.mutations import EmergencyMutations
from .emergency.queries import EmergencyQueries
from .emergency.subscriptions import EmergencySubscriptions
from .notifications.mutations import NotificationsMutations
from .notifications.queries import NotificationsQueries
from .notifications.subscriptions import NotificationsSubscriptions
from .privacy.mutations import PrivacyMutations
from .privacy.queries import PrivacyQueries
from .resources.mutations import ResourcesMutations
from .resources.queries import ResourcesQueries
from .resources.subscriptions import ResourcesSubscriptions
from .volunteers.mutations import VolunteersMutations
from .volunteers.queries import VolunteersQueries
from .volunteers.subscriptions import VolunteersSubscriptions


# Bases spelled out (not unpacked from a tuple) so that mypy can read the classes.
class Query(CommunityQueries, EmergencyQueries, NotificationsQueries, PrivacyQueries, ResourcesQueries, VolunteersQueries,
            graphene.ObjectType):
    node = Node.Field()


class Mutation(CommunityMutations, EmergencyMutations, NotificationsMutations, PrivacyMutations, ResourcesMutations,
               VolunteersMutations, graphene.ObjectType):
    pass


class Subscription(CommunitySubscriptions, EmergencySubscriptions, NotificationsSubscriptions, ResourcesSubscriptions,
                   VolunteersSubscriptions, graphene.ObjectType):
    pass


schema = graphene.Schema(query=Query, mutation=Mutation, subscription=Subscription)
apply_conventions(schema.graphql_schema)  # UTC times, null for absent text (schema.core.conventions)
install_keyset_pagination()  # stable cursors on every query-backed connection (schema.core.pagination)
