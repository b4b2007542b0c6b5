"""The root schema, assembled from each app's Query, Mutation and Subscription classes.

Later apps add their classes to the tuples below; nothing else changes here.
"""

import graphene

from .community.mutations import CommunityMutations
from .community.queries import CommunityQueries
from .community.subscriptions import CommunitySubscriptions

QUERIES = (CommunityQueries,)
MUTATIONS = (CommunityMutations,)
SUBSCRIPTIONS = (CommunitySubscriptions,)


class Query(*QUERIES, graphene.ObjectType):
    node = graphene.relay.Node.Field()


class Mutation(*MUTATIONS, graphene.ObjectType):
    pass


class Subscription(*SUBSCRIPTIONS, graphene.ObjectType):
    pass


schema = graphene.Schema(query=Query, mutation=Mutation, subscription=Subscription)
