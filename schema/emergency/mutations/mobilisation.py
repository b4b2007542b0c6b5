"""Answering a call-in."""

from __future__ import annotations

import graphene

from emergency.mobilise import respond_to_mobilisation
from emergency.models import Mobilisation

from ...core.errors import PermissionDenied
from ...core.lookup import get_node_or_error
from ...core.mutations import BaseMutation
from ...core.permissions import current_user
from ..types import (
    MobilisationType,
)


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
        mobilisation = get_node_or_error(Mobilisation.objects.select_related("area", "user"), mobilisation_id, "mobilisation_id")
        if mobilisation.user_id != user.pk:
            raise PermissionDenied()
        return cls(errors=[], mobilisation=respond_to_mobilisation(mobilisation, available))


