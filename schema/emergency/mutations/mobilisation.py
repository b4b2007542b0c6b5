"""Answering a call-in."""

from __future__ import annotations

import graphene

from core.errors import field_error
from emergency.error_codes import EmergencyErrorCode as Code
from emergency.mobilise import respond_to_mobilisation
from emergency.models import Mobilisation

from ...core.errors import PermissionDenied
from ...core.mutations import BaseMutation
from ...core.permissions import current_user
from ...core.types import decode_id
from ..types import (
    MobilisationType,
)


def _plain(value):
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return getattr(value, "value", value)


def _get(model, type_name: str, global_id: str, field: str, *related):
    row = model.objects.select_related(*related).filter(pk=decode_id(global_id, type_name, field)).first()
    if row is None:
        raise field_error(field, f"No such {type_name}.", Code.NOT_FOUND)
    return row


class RespondToMobilisation(BaseMutation):
    """Answer a call-in: available (you are put on duty for dispatch) or not."""

    mobilisation = graphene.Field(MobilisationType)

    class Arguments:
        mobilisation_id = graphene.ID(required=True)
        available = graphene.Boolean(required=True)

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, mobilisation_id, available):
        user = current_user(info)
        mobilisation = _get(Mobilisation, "Mobilisation", mobilisation_id, "mobilisation_id", "area", "user")
        if mobilisation.user_id != user.pk:
            raise PermissionDenied()
        return cls(errors=[], mobilisation=respond_to_mobilisation(mobilisation, available))


