import graphene


class VolunteersMutations(graphene.ObjectType):
    """Volunteer sign-up and approval, Party-member registration, activities, check-in."""
