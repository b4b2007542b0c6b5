"""Which GraphQL fields are sensitive personal information, and the middleware that records
their reads in the access log (privacy.access).

A field is recorded when its resolver revealed it: a value came back that is not null, not
an empty list and not a masked phone (the resolvers decide who sees what; this only
watches). The reads of one document are gathered by privacy.access.collecting(), opened
around execute() by the HTTP view and the WebSocket consumer, and written as one row per
subject when the document is done.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from community.privacy import roles_over as role_of
from privacy.access import Read, note, resident_read
from privacy.models import SubjectKind

MASK = "****"


def _resident(field: str) -> Callable[[Any, Any], Read]:
    return lambda root, user: resident_read(root, {field}, role=role_of(user, root.grid.path))


def _contact(field: str) -> Callable[[Any, Any], Read]:
    def read(root, user):
        resident = root.resident
        return resident_read(resident, {f"emergencyContacts.{field}"}, role=role_of(user, resident.grid.path))
    return read


def _household(field: str) -> Callable[[Any, Any], Read]:
    return lambda root, user: Read(SubjectKind.HOUSEHOLD, root.pk, {field}, area_path=root.grid.path,
                                   role=role_of(user, root.grid.path))


def _task(field: str) -> Callable[[Any, Any], Read]:
    def read(root, user):
        path = root.area.path
        return Read(SubjectKind.TASK, root.pk, {field}, area_path=path, role=role_of(user, path) or "task", task_id=root.pk)
    return read


# (GraphQL type, field) -> how to describe the read. Keep in step with the resolvers that
# unmask personal data (schema/community/people_types.py, schema/volunteers/task_types.py).
SENSITIVE: dict[tuple[str, str], Callable[[Any, Any], Read]] = {
    **{("Resident", f): _resident(f) for f in ("phone", "address", "location", "vulnerability", "careNotes", "emergencyContacts")},
    ("EmergencyContact", "phone"): _contact("phone"),
    ("Household", "address"): _household("address"),
    ("Task", "address"): _task("address"),
}


def revealed(value: Any) -> bool:
    if value is None or value == [] or value == "":
        return False
    return not (isinstance(value, str) and MASK in value)


class AccessLogMiddleware:
    def resolve(self, next, root, info, **args):
        value = next(root, info, **args)
        describe = SENSITIVE.get((info.parent_type.name, info.field_name))
        if describe is not None and root is not None and revealed(value):
            note(describe(root, info.context.user))
        return value
