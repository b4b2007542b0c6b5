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


def _person(field: str, area: Callable[[Any], Any], task: Callable[[Any], Any] = lambda root: None) -> Callable[[Any, Any], Read]:
    """A read of a person's own account data (a volunteer's phone, a Party member's home)."""
    def read(root, user):
        path = area(root).path
        task_id = task(root)
        return Read(SubjectKind.USER, root.user_id, {field}, area_path=path, subject_user_id=root.user_id,
                    role=role_of(user, path) or ("task" if task_id else ""), task_id=task_id)
    return read


def _stay(field: str) -> Callable[[Any, Any], Read | None]:
    def read(root, user):
        if root.resident_id is None:  # someone not on the roster: nobody to tell
            return None
        path = root.facility.area.path
        return Read(SubjectKind.RESIDENT, root.resident_id, {field}, area_path=path,
                    subject_user_id=root.resident.user_id, role=role_of(user, path))
    return read


# (GraphQL type, field) -> how to describe the read. Keep in step with the resolvers that
# unmask personal data (schema/community/people_types.py, schema/volunteers/task_types.py).
SENSITIVE: dict[tuple[str, str], Callable[[Any, Any], Read | None]] = {
    **{("Resident", f): _resident(f) for f in ("phone", "address", "location", "vulnerability", "careNotes", "emergencyContacts")},
    ("EmergencyContact", "phone"): _contact("phone"),
    ("Household", "address"): _household("address"),
    ("Task", "address"): _task("address"),
    ("Volunteer", "phone"): _person("phone", lambda root: root.area),
    **{("PartyMemberRegistration", f): _person(f, lambda root: root.community) for f in ("phone", "homeAddress", "homeLocation")},
    **{(t, "phone"): _person("phone", lambda root: root.task.area, lambda root: root.task_id) for t in ("Offer", "TaskAssignment")},
    ("ShelterStay", "vulnerabilityFlags"): _stay("vulnerability"),
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
            read = describe(root, info.context.user)
            if read is not None:
                note(read)
        return value
