"""Service activities: publishing and cancelling (community staff), signing up, checking
in and out (confirmed Party members and approved volunteers)."""

import graphene

from community.models import Area
from volunteers import access
from volunteers.models import ServiceActivity
from volunteers.services import (
    ActivitySpec,
    do_cancel_activity_signup,
    do_cancel_service_activity,
    do_check_in,
    do_check_out,
    do_publish_service_activity,
    do_sign_up_for_activity,
)

from ...core.errors import PermissionDenied
from ...core.lookup import get_node_or_error
from ...core.mutations import BaseMutation
from ...core.permissions import current_user
from ...core.scalars import LocationInput, location_to_wgs84
from ...core.throttle import Throttle
from ..activity_types import ActivityCheckInType, ActivitySignupType, ServiceActivityType
from ..inputs import ServiceActivityInput, optional_point


def visible_activity(info, activity_id: str) -> ServiceActivity:
    """The activity, or PermissionDenied when the caller may not see it at all."""
    user = current_user(info)
    activity = get_node_or_error(ServiceActivity.objects.select_related("community"), activity_id, "activity_id")
    if not access.can_view_activity(user, activity):
        raise PermissionDenied()
    return activity


class PublishServiceActivity(BaseMutation):
    """Community staff (MANAGE_PEOPLE over the community) publish an activity."""

    activity = graphene.Field(ServiceActivityType)

    class Arguments:
        input = ServiceActivityInput(required=True)

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, input):
        user = current_user(info)
        community = get_node_or_error(Area, input["community_id"], "community_id")
        if not access.can_manage_activity(user, community):
            raise PermissionDenied()
        spec = ActivitySpec(
            title=input["title"], description=input.get("description") or "", address=input.get("address") or "",
            starts_at=input["starts_at"], ends_at=input["ends_at"], capacity=input["capacity"],
            location=location_to_wgs84(input["location"], "location"),
            checkin_radius_m=input.get("checkin_radius_m", 200), checkin_code=input.get("checkin_code") or "",
        )
        return cls(errors=[], activity=do_publish_service_activity(community, spec, by=user))


class CancelServiceActivity(BaseMutation):
    """Community staff cancel an activity that has not ended."""

    activity = graphene.Field(ServiceActivityType)

    class Arguments:
        activity_id = graphene.ID(required=True)

    @classmethod
    def perform_mutation(cls, root, info, activity_id):
        user = current_user(info)
        activity = get_node_or_error(ServiceActivity.objects.select_related("community"), activity_id, "activity_id")
        if not access.can_manage_activity(user, activity):
            raise PermissionDenied()
        return cls(errors=[], activity=do_cancel_service_activity(activity))


class SignUpForActivity(BaseMutation):
    """Take a place (refused with CAPACITY_FULL when none is left)."""

    signup = graphene.Field(ActivitySignupType)
    activity = graphene.Field(ServiceActivityType)

    class Arguments:
        activity_id = graphene.ID(required=True)

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, activity_id):
        activity = visible_activity(info, activity_id)
        signup = do_sign_up_for_activity(activity, info.context.user)
        return cls(errors=[], signup=signup, activity=activity)


class CancelActivitySignup(BaseMutation):
    """Give your place back (before checking in)."""

    signup = graphene.Field(ActivitySignupType)
    activity = graphene.Field(ServiceActivityType)

    class Arguments:
        activity_id = graphene.ID(required=True)

    @classmethod
    def perform_mutation(cls, root, info, activity_id):
        activity = visible_activity(info, activity_id)
        signup = do_cancel_activity_signup(activity, info.context.user)
        return cls(errors=[], signup=signup, activity=activity)


class CheckInToActivity(BaseMutation):
    """At the place: send the phone's location (with its datum), or the code shown on site.
    Refused with OUTSIDE_RADIUS / WRONG_CHECKIN_CODE otherwise. Send an idempotency key:
    a retried check-in returns the first result and is never counted twice."""

    check_in = graphene.Field(ActivityCheckInType)

    class Arguments:
        activity_id = graphene.ID(required=True)
        location = LocationInput()
        code = graphene.String()

    class Meta:
        idempotent = True
        throttle = Throttle("activity_checkin", per_user=20)

    @classmethod
    def perform_mutation(cls, root, info, activity_id, location=None, code=None):
        activity = visible_activity(info, activity_id)
        point = optional_point(location, "location")
        check_in = do_check_in(activity, info.context.user, point=point, code=(code or "")[:64] or None)
        return cls(errors=[], check_in=check_in)


class CheckOutOfActivity(BaseMutation):
    """Leave: the time spent inside the activity's hours is added to your service hours."""

    check_in = graphene.Field(ActivityCheckInType)

    class Arguments:
        activity_id = graphene.ID(required=True)

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, activity_id):
        activity = visible_activity(info, activity_id)
        return cls(errors=[], check_in=do_check_out(activity, info.context.user))
