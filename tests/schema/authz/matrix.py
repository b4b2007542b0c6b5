"""The vocabulary of the authorization matrix: callers, table entries, what "refused" means.

An Entry names one root field (Query.x, Mutation.x), the document that calls it (an operation
of mobile_api_docs/operations, or inline text for the few fields without one), the variables
aimed at side A of the world, the callers who must succeed (with a check that they really got
the thing) and the callers who must be refused (with the form the refusal takes).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tests.operations import operation

from .world import AuthzWorld

# Who calls: the key names a user of the world (None: nobody logged in); the label is the test id.
CALLERS: dict[str, tuple[str | None, str]] = {
    "anonymous": (None, "anonymous"),
    "stranger": ("stranger", "a signed-in user with no role or records"),
    "resident": ("resident", "the resident"),
    "spouse": ("spouse", "a member of the resident's household"),
    "neighbour": ("neighbour", "another resident of the same grid"),
    "other_resident": ("other_resident", "a resident of another community"),
    "volunteer": ("volunteer", "the volunteer"),
    "other_volunteer": ("other_volunteer", "another volunteer of the same grid"),
    "pending_volunteer": ("pending_volunteer", "the volunteer awaiting approval"),
    "suspended_volunteer": ("suspended_volunteer", "the suspended volunteer"),
    "party_member": ("party_member", "the Party member"),
    "party_pending": ("party_pending", "the Party member awaiting confirmation"),
    "team_leader": ("team_leader", "an emergency team's leader"),
    "worker": ("worker_a1", "grid worker"),
    "worker_other_grid": ("worker_a2", "grid worker of another grid"),
    "worker_other_community": ("worker_b1", "grid worker of another community"),
    "admin": ("admin_a", "community admin"),
    "admin_other": ("admin_b", "community admin of another community"),
    "commander": ("commander", "district commander"),
    "helper_b": ("helper_b", "a volunteer of another community helping through mutual aid"),
}

STAFF = frozenset({"worker", "worker_other_grid", "worker_other_community", "admin", "admin_other", "commander"})


def user_of(w: AuthzWorld, caller: str):
    key = CALLERS[caller][0]
    return None if key is None else w.users[key]


class Form(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"  # top-level error
    FORBIDDEN = "FORBIDDEN"  # top-level error
    NOT_FOUND = "NOT_FOUND"  # top-level error
    PAYLOAD = "PAYLOAD"  # typed errors in the mutation payload
    NULL = "NULL"  # the field is null, no error (a node or "yours" read)
    EMPTY = "EMPTY"  # an empty connection or list
    ABSENT = "ABSENT"  # an answer about the caller's own things: the target is not in it
    MASKED = "MASKED"  # the target is visible, its personal fields are not
    OWN_ONLY = "OWN_ONLY"  # a self-service mutation: acts on the caller, the target's rows stay
    DENIED = "DENIED"  # either a top-level FORBIDDEN/NOT_FOUND or typed NOT_FOUND/FORBIDDEN errors


TOP_LEVEL = (Form.UNAUTHENTICATED, Form.FORBIDDEN, Form.NOT_FOUND)


@dataclass(frozen=True)
class Refusal:
    form: Form
    codes: tuple[str, ...] = ("NOT_FOUND", "FORBIDDEN")  # for PAYLOAD

    def __str__(self) -> str:
        return self.form.value if self.form != Form.PAYLOAD else f"PAYLOAD{list(self.codes)}"


UNAUTH = Refusal(Form.UNAUTHENTICATED)
FORBID = Refusal(Form.FORBIDDEN)
NOTFOUND = Refusal(Form.NOT_FOUND)
NULL = Refusal(Form.NULL)
EMPTY = Refusal(Form.EMPTY)
ABSENT = Refusal(Form.ABSENT)
MASKED = Refusal(Form.MASKED)
OWN = Refusal(Form.OWN_ONLY)
DENIED = Refusal(Form.DENIED)  # where either way of refusing is right (a hole whose fix may take either)


def payload(*codes: str) -> Refusal:
    return Refusal(Form.PAYLOAD, codes or ("NOT_FOUND", "FORBIDDEN"))


Check = Callable[[Any, AuthzWorld], None]
Vars = Callable[[AuthzWorld], dict]


@dataclass(frozen=True)
class Entry:
    field: str  # "Query.residents", "Mutation.switchAreaMode"
    document: str  # an operation name ("community/Residents") or the text of a document
    variables: Vars = lambda w: {}
    allowed: Mapping[str, Check] = field(default_factory=dict)
    refused: Mapping[str, Refusal] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()  # keys of AuthzWorld.secrets a refused caller must not see
    variant: str = ""  # tells apart two entries of one field ("(no area)")
    keeps: Callable[[AuthzWorld], list] | None = None  # rows OWN_ONLY callers must leave as they were
    upload: Callable[[], Any] | None = None  # a file sent as variables.file (multipart)
    holes: Mapping[str, str] = field(default_factory=dict)  # caller -> "AUTHZ HOLE: ..." (strict xfail)

    @property
    def name(self) -> str:
        return self.field.split(".", 1)[1]

    @property
    def kind(self) -> str:
        return self.field.split(".", 1)[0]

    @property
    def text(self) -> str:
        return self.document if "{" in self.document else operation(self.document)

    @property
    def label(self) -> str:
        return self.field + (f" {self.variant}" if self.variant else "")


# --- positive checks -------------------------------------------------------------------------
def dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def sees(*rows: str) -> Check:
    """The answer names these rows (by Relay ID)."""

    def check(data, w):
        text = dump(data)
        for row in rows:
            assert w.qgid(row) in text, f"{row} ({w.gid(row)}) missing from {text[:400]}"

    return check


def shows(*texts_or_secret_keys: str, personal: bool = True) -> Check:
    """The answer shows these strings (or these secrets' personal parts): the entitled
    caller really gets the data a refused caller must not."""

    def check(data, w):
        text = dump(data)
        for item in texts_or_secret_keys:
            wanted = w.secret(item, personal_only=personal) if item in w.secrets else [item]
            for s in wanted:
                assert s in text, f"{s!r} missing from {text[:400]}"

    return check


def done(key: str) -> Check:
    """A mutation payload without errors, with `key` filled in."""

    def check(data, w):
        assert data is not None and data.get("errors") == [], data
        assert data.get(key) not in (None, [], {}), data

    return check


def value(path: str, expected: Any) -> Check:
    def check(data, w):
        node = data
        for part in path.split("."):
            node = node[part] if not part.isdigit() else node[int(part)]
        assert node == (expected(w) if callable(expected) else expected), (path, node)

    return check


def non_empty(data, w) -> None:
    assert data not in (None, [], {}), data
    if isinstance(data, dict) and "edges" in data:
        assert data["edges"], data


def all_of(*checks: Check) -> Check:
    def check(data, w):
        for c in checks:
            c(data, w)

    return check


def gid(name: str) -> Callable[[AuthzWorld], str]:
    return lambda w: w.gid(name)


# Callers refused in the same way on most staff-only fields of side A's grid 甲一.
def grid_staff_refusals(form: Refusal = FORBID, **more: Refusal) -> dict[str, Refusal]:
    refusals = {"anonymous": UNAUTH, "resident": form, "volunteer": form, "worker_other_grid": form,
                "worker_other_community": form, "admin_other": form}
    refusals.update(more)
    return refusals


# Callers refused on community-admin fields of community 甲 (a grid worker lacks the role).
def community_admin_refusals(form: Refusal = FORBID, **more: Refusal) -> dict[str, Refusal]:
    refusals = {"anonymous": UNAUTH, "resident": form, "volunteer": form, "worker": form,
                "worker_other_community": form, "admin_other": form}
    refusals.update(more)
    return refusals
