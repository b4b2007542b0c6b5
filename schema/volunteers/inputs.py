"""Input types and their translation into service arguments (IDs resolved, locations
converted to WGS-84). Lookups that fail raise typed ValidationErrors naming the field."""

from __future__ import annotations

import graphene

from community.models import Area
from core.errors import ValidationError
from volunteers.error_codes import VolunteersErrorCode as Code
from volunteers.services import ProfileChanges, SkillClaim, WindowSpec

from ..core.scalars import LocationInput, location_to_wgs84
from ..core.types import decode_id, plain
from .types import ContactChannelEnum

MAX_IDS = 20


def get_areas(global_ids: list[str], field: str) -> list[Area]:
    if len(global_ids) > MAX_IDS:
        raise ValidationError({field: f"At most {MAX_IDS} areas."}, code=Code.INVALID_AREA)
    pks = [decode_id(g, "Area", field) for g in global_ids]
    found = {a.pk: a for a in Area.objects.filter(pk__in=pks)}
    if len(found) != len(set(pks)):
        raise ValidationError({field: "One of the areas does not exist."}, code=Code.NOT_FOUND)
    return [found[pk] for pk in dict.fromkeys(pks)]


def optional_point(value, field: str) -> tuple[float, float] | None:
    return None if value is None else location_to_wgs84(value, field)


class SkillClaimInput(graphene.InputObjectType):
    code = graphene.String(required=True, description="A Skill code, e.g. first_aid.")
    certificate_ref = graphene.String(default_value="", description="Required for skills that require a certificate.")
    expires_on = graphene.Date(description="Last day the certificate is valid.")


class AvailabilityWindowInput(graphene.InputObjectType):
    weekday = graphene.Int(required=True, description="0 = Monday … 6 = Sunday")
    start = graphene.Time(required=True, description="Asia/Shanghai local time, e.g. 18:00")
    end = graphene.Time(required=True, description="An end not after the start runs past midnight.")


class VolunteerProfileInput(graphene.InputObjectType):
    """Every field is optional when updating; omitted fields stay as they are. Lists replace."""

    display_name = graphene.String()
    skills = graphene.List(graphene.NonNull(SkillClaimInput))
    home_location = LocationInput(description="Required at sign-up; converted to WGS-84.")
    service_area_ids = graphene.List(graphene.NonNull(graphene.ID), description="Defaults to the sign-up area.")
    languages = graphene.List(graphene.NonNull(graphene.String), description='Language codes, e.g. ["zh", "en"].')
    max_concurrent_tasks = graphene.Int()
    contact_channel = ContactChannelEnum()
    availability = graphene.List(graphene.NonNull(AvailabilityWindowInput))



def profile_changes(data: dict) -> ProfileChanges:
    skills = data.get("skills")
    windows = data.get("availability")
    area_ids = data.get("service_area_ids")
    return ProfileChanges(
        display_name=data.get("display_name"),
        skills=None if skills is None else [
            SkillClaim(code=s["code"], certificate_ref=s.get("certificate_ref") or "", expires_on=s.get("expires_on"))
            for s in skills
        ],
        home=optional_point(data.get("home_location"), "home_location"),
        service_areas=None if area_ids is None else get_areas(area_ids, "service_area_ids"),
        languages=data.get("languages"),
        max_concurrent_tasks=data.get("max_concurrent_tasks"),
        contact_channel=None if data.get("contact_channel") is None else plain(data["contact_channel"]),
        availability=None if windows is None else [WindowSpec(w["weekday"], w["start"], w["end"]) for w in windows],
    )


class PartyMemberRegistrationInput(graphene.InputObjectType):
    community_id = graphene.ID(required=True, description="The community (社区) where you live.")
    name = graphene.String(required=True)
    work_unit = graphene.String(required=True, description="单位")
    party_branch = graphene.String(required=True, description="所在党支部")
    home_address = graphene.String(required=True)
    home_location = LocationInput()


class ServiceActivityInput(graphene.InputObjectType):
    community_id = graphene.ID(required=True)
    title = graphene.String(required=True)
    description = graphene.String(default_value="")
    address = graphene.String(default_value="", description="Where to meet, as people say it.")
    starts_at = graphene.DateTime(required=True)
    ends_at = graphene.DateTime(required=True)
    capacity = graphene.Int(required=True)
    location = LocationInput(required=True, description="The meeting point; check-in is measured from here.")
    checkin_radius_m = graphene.Int(default_value=200, description="20 to 5000 metres.")
    checkin_code = graphene.String(default_value="", description="Optional code shown on site (4-12 letters or digits).")
