import graphene


class VolunteersQueries(graphene.ObjectType):
    """Volunteers, Party members, activities and service hours (issue: volunteers)."""
