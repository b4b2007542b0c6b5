"""Correction and erasure requests over the API (community/rights.py)."""

from __future__ import annotations

import graphene
from graphene_django import DjangoConnectionField, DjangoObjectType

from community.models import RightsRequest, RightsRequestKind, RightsRequestStatus
from community.permissions import Action, can, scope_paths, scope_q
from community.rights import CORRECTABLE, answer_request, request_correction, request_erasure

from ..core.errors import PermissionDenied
from ..core.lookup import get_node_or_error
from ..core.mutations import BaseMutation
from ..core.permissions import current_user
from ..core.types import CountedConnection, Node

RightsRequestKindEnum = graphene.Enum.from_enum(RightsRequestKind)
RightsRequestStatusEnum = graphene.Enum.from_enum(RightsRequestStatus, description="OPEN, DONE, or REFUSED with the reason")
CorrectableFieldEnum = graphene.Enum("CorrectableField", [(f.upper(), f) for f in CORRECTABLE])


def may_answer(user, request: RightsRequest) -> bool:
    """Staff who manage people of the request's grid (administrators for a person without one)."""
    if request.grid is None:
        return bool(user.is_superuser)
    return can(user, Action.MANAGE_PEOPLE, request.grid)


class RightsRequestType(DjangoObjectType):
    kind = graphene.Field(RightsRequestKindEnum, required=True)
    status = graphene.Field(RightsRequestStatusEnum, required=True)
    field = graphene.String()
    requester_name = graphene.String()
    resident_id = graphene.ID()

    class Meta:
        model = RightsRequest
        name = "RightsRequest"
        interfaces = (Node,)
        connection_class = CountedConnection
        fields = ("id", "requested_value", "reason", "answer", "created_at", "answered_at")

    @classmethod
    def get_node(cls, info, id):
        user = info.context.user
        row = RightsRequest.objects.select_related("grid").filter(pk=id).first()
        if row is None or not user.is_authenticated or not (row.requester_id == user.pk or may_answer(user, row)):
            return None
        return row

    def resolve_kind(self, info):
        return self.kind

    def resolve_status(self, info):
        return self.status

    def resolve_field(self, info):
        return self.field or None

    def resolve_requester_name(self, info):
        return self.requester.public_name

    def resolve_resident_id(self, info):
        return graphene.Node.to_global_id("Resident", self.resident_id) if self.resident_id else None


class RequestCorrection(BaseMutation):
    """Ask staff of your grid to correct something about you; track it in myRightsRequests."""

    request = graphene.Field(RightsRequestType)

    class Arguments:
        field = CorrectableFieldEnum(required=True)
        value = graphene.String(required=True, description="What it should say.")
        reason = graphene.String()

    @classmethod
    def perform_mutation(cls, root, info, field, value, reason=""):
        user = current_user(info)
        return cls(errors=[], request=request_correction(user, field=getattr(field, "value", field), value=value,
                                                         reason=reason or ""))


class RequestErasure(BaseMutation):
    """Ask that your account and personal data be erased. Staff review it: what a legal duty
    keeps is kept, pseudonymous, and the answer says so. One open request at a time."""

    request = graphene.Field(RightsRequestType)

    class Arguments:
        reason = graphene.String()

    @classmethod
    def perform_mutation(cls, root, info, reason=""):
        user = current_user(info)
        return cls(errors=[], request=request_erasure(user, reason=reason or ""))


class AnswerRightsRequest(BaseMutation):
    """Staff of the person's grid: close a request. done: true for an erasure erases the person
    at once; false refuses, with the reason (e.g. the legal duty that keeps the record)."""

    request = graphene.Field(RightsRequestType)

    class Arguments:
        id = graphene.ID(required=True)
        done = graphene.Boolean(required=True)
        answer = graphene.String(required=True, description="What was done, or why not (shown to the person).")

    @classmethod
    def perform_mutation(cls, root, info, id, done, answer):
        user = current_user(info)
        row = get_node_or_error(RightsRequest.objects.select_related("grid", "requester"), id, "id")
        if not may_answer(user, row):
            raise PermissionDenied()
        return cls(errors=[], request=answer_request(row, by=user, done=done, answer=answer))


class RightsMutations(graphene.ObjectType):
    request_correction = RequestCorrection.Field()
    request_erasure = RequestErasure.Field()
    answer_rights_request = AnswerRightsRequest.Field()


class RightsQueries(graphene.ObjectType):
    my_rights_requests = graphene.List(graphene.NonNull(RightsRequestType), required=True,
                                       description="Your correction and erasure requests, newest first.")
    rights_requests = DjangoConnectionField(
        RightsRequestType, status=RightsRequestStatusEnum(),
        description="Requests of people in your area (staff who manage people), oldest open first.")

    def resolve_my_rights_requests(root, info):
        user = current_user(info)
        return list(RightsRequest.objects.filter(requester=user).select_related("requester"))

    def resolve_rights_requests(root, info, status=None, **kwargs):
        user = current_user(info)
        if scope_paths(user, Action.MANAGE_PEOPLE) == []:
            raise PermissionDenied()
        qs = RightsRequest.objects.filter(scope_q(user, Action.MANAGE_PEOPLE, "grid__path")).select_related("requester")
        if status is not None:
            qs = qs.filter(status=getattr(status, "value", status))
        return qs.order_by("created_at", "id")
