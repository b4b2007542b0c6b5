"""Emergency contacts (a household member or neighbour who may answer for a resident) and
households."""

from __future__ import annotations

import graphene

from community.models import Area, EmergencyContact, Resident
from community.permissions import Action, can
from community.privacy import is_self, may_manage
from community.residents import (
    do_add_emergency_contact,
    do_create_household,
    do_remove_emergency_contact,
)

from ...core.errors import PermissionDenied
from ...core.lookup import get_node_or_error, get_node_or_none
from ...core.mutations import BaseMutation
from ...core.permissions import current_user
from ..people_types import EmergencyContactType, HouseholdType, RelationEnum, ResidentType


def _may_edit_contacts(user, resident) -> bool:
    return is_self(user, resident) or may_manage(user, resident)


class AddEmergencyContact(BaseMutation):
    """Add a contact for a resident (yourself, or a resident of your area if you are staff).
    Link another resident (linkedResidentId) or give a name and phone."""

    contact = graphene.Field(EmergencyContactType)
    resident = graphene.Field(ResidentType)

    class Arguments:
        resident_id = graphene.ID(required=True)
        name = graphene.String()
        phone = graphene.String()
        relation = RelationEnum(default_value="other")
        linked_resident_id = graphene.ID(description="Staff: a household member or neighbour already registered.")

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, resident_id, name="", phone=None, relation="other", linked_resident_id=None):
        user = current_user(info)
        resident = get_node_or_error(Resident.objects.select_related("grid", "household", "user"), resident_id, "resident_id")
        if not _may_edit_contacts(user, resident):
            raise PermissionDenied()
        linked = get_node_or_none(Resident.objects.select_related("grid", "household", "user"), linked_resident_id, "linked_resident_id")
        if linked is not None and not can(user, Action.VIEW_PEOPLE, linked.grid):
            raise PermissionDenied("You may not link a resident outside your area.")
        contact = do_add_emergency_contact(resident, name=name or "", phone=phone, relation=relation, linked_resident=linked)
        return cls(errors=[], contact=contact, resident=resident)


class RemoveEmergencyContact(BaseMutation):
    resident = graphene.Field(ResidentType)

    class Arguments:
        id = graphene.ID(required=True)

    @classmethod
    def perform_mutation(cls, root, info, id):
        user = current_user(info)
        contact = get_node_or_error(EmergencyContact.objects.select_related("resident__grid", "resident__user"), id, "id")
        if not _may_edit_contacts(user, contact.resident):
            raise PermissionDenied()
        resident = contact.resident
        do_remove_emergency_contact(contact)
        return cls(errors=[], resident=resident)


class CreateHousehold(BaseMutation):
    """Staff: a household (户) in a grid; then put residents in it with updateResident."""

    household = graphene.Field(HouseholdType)

    class Arguments:
        grid_id = graphene.ID(required=True)
        label = graphene.String(required=True, description="e.g. 3幢2单元301")
        address = graphene.String(default_value="")

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, grid_id, label, address=""):
        user = current_user(info)
        grid = get_node_or_error(Area, grid_id, "grid_id")
        if not can(user, Action.MANAGE_PEOPLE, grid):
            raise PermissionDenied()
        return cls(errors=[], household=do_create_household(grid, label=label, address=address))
