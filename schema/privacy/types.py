"""The access log as the API shows it (privacy.models.AccessLog)."""

from __future__ import annotations

import graphene
from graphene_django import DjangoObjectType

from community.models import Resident
from privacy.models import AccessLog, Channel, SubjectKind

from ..core.types import CountedConnection, Node

AccessChannelEnum = graphene.Enum.from_enum(Channel, description="api, export or admin")
AccessSubjectKindEnum = graphene.Enum.from_enum(SubjectKind, description="Whose data was read")


class AccessLogEntryType(DjangoObjectType):
    """One reader reading one person's sensitive fields in one request (append-only)."""

    channel = graphene.Field(AccessChannelEnum, required=True)
    subject_kind = graphene.Field(AccessSubjectKindEnum, required=True)
    fields = graphene.List(graphene.NonNull(graphene.String), required=True,
                           description="The GraphQL fields (or export columns) read, e.g. phone, careNotes.")
    resident_id = graphene.ID(description="The resident read, when the subject is a resident.")
    resident_name = graphene.String(description="Their name now; null once erased.")
    task_id = graphene.ID(description="The task through which it was read, if any.")

    class Meta:
        model = AccessLog
        name = "AccessLogEntry"
        interfaces = (Node,)
        connection_class = CountedConnection
        fields = ("id", "at", "actor_name", "role", "operation")

    @classmethod
    def get_node(cls, info, id):
        return None  # read through accessLog / myRecordAccessLog, which scope it

    def resolve_channel(self, info):
        return self.channel

    def resolve_subject_kind(self, info):
        return self.subject_kind

    def resolve_fields(self, info):
        return list(self.fields or [])

    def resolve_resident_id(self, info):
        if self.subject_kind != SubjectKind.RESIDENT:
            return None
        return graphene.Node.to_global_id("Resident", self.subject_id)

    def resolve_resident_name(self, info):
        if self.subject_kind != SubjectKind.RESIDENT:
            return None
        return Resident.objects.filter(pk=self.subject_id).values_list("display_name", flat=True).first()

    def resolve_task_id(self, info):
        return graphene.Node.to_global_id("Task", self.task_id) if self.task_id else None
