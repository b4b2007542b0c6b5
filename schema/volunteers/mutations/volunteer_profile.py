"""What a volunteer does for themself: sign up, edit the profile, go on duty, say where
they are during an emergency."""

import graphene

from community.models import Area
from core.errors import ValidationError
from volunteers.error_codes import VolunteersErrorCode as Code
from volunteers.models import Volunteer
from volunteers.services import (
    do_set_on_duty,
    do_set_temporary_location,
    do_sign_up_as_volunteer,
    do_update_volunteer_profile,
)

from ...core.lookup import get_node_or_error
from ...core.mutations import BaseMutation
from ...core.permissions import current_user
from ...core.scalars import LocationInput
from ..inputs import VolunteerProfileInput, optional_point, profile_changes
from ..types import VolunteerType


def my_volunteer(info) -> Volunteer:
    volunteer = Volunteer.objects.select_related("user", "area").filter(user=current_user(info)).first()
    if volunteer is None:
        raise ValidationError("Sign up as a volunteer first.", code=Code.NOT_A_VOLUNTEER)
    return volunteer


class SignUpAsVolunteer(BaseMutation):
    """Sign up in a community or grid; staff there approve you (status PENDING until then)."""

    volunteer = graphene.Field(VolunteerType)

    class Arguments:
        area_id = graphene.ID(required=True, description="The community or grid where you sign up.")
        profile = VolunteerProfileInput(required=True)

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, area_id, profile):
        user = current_user(info)
        area = get_node_or_error(Area, area_id, "area_id")
        volunteer = do_sign_up_as_volunteer(user, area, profile_changes(profile))
        return cls(errors=[], volunteer=volunteer)


class UpdateMyVolunteerProfile(BaseMutation):
    """Change your skills, locations, service areas, languages, limits, channel or schedule."""

    volunteer = graphene.Field(VolunteerType)

    class Arguments:
        profile = VolunteerProfileInput(required=True)

    @classmethod
    def perform_mutation(cls, root, info, profile):
        volunteer = do_update_volunteer_profile(my_volunteer(info), profile_changes(profile))
        return cls(errors=[], volunteer=volunteer)


class SetOnDuty(BaseMutation):
    """"I can help now" until `until` (at most 24 hours ahead); null switches it off now."""

    volunteer = graphene.Field(VolunteerType)

    class Arguments:
        until = graphene.DateTime(description="With a timezone offset; null = off duty now.")

    @classmethod
    def perform_mutation(cls, root, info, until=None):
        return cls(errors=[], volunteer=do_set_on_duty(my_volunteer(info), until))


class SetTemporaryLocation(BaseMutation):
    """During an emergency: where you are now, until when (at most 72 hours). Null clears it."""

    volunteer = graphene.Field(VolunteerType)

    class Arguments:
        location = LocationInput()
        until = graphene.DateTime()

    @classmethod
    def perform_mutation(cls, root, info, location=None, until=None):
        point = optional_point(location, "location")
        return cls(errors=[], volunteer=do_set_temporary_location(my_volunteer(info), point, until))
