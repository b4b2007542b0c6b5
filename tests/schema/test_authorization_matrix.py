"""The authorization matrix over the whole GraphQL schema (issue 8; research R1.7, AT-06).

Every root field of Query, Mutation and Subscription has rows in the table in
tests/schema/authz/ (or a reason to be public). For each row, every refused caller — anonymous,
the wrong role, the right role in the wrong area, another resident or volunteer — is refused
in the declared form, nothing is written, and no personal data of the target appears in the
answer; and the entitled caller succeeds on the same object, so a refusal is never an
artefact of a broken setup. Subscriptions are tried over a real WebSocket.

Holes found are strict xfails whose reason starts with "AUTHZ HOLE"; fixing one turns its
test into an XPASS failure, and the mark is then removed.
"""

from __future__ import annotations

import json

import pytest
from django.db import transaction
from django.test import override_settings
from graphql import parse, validate

from schema.schema import schema
from tests.graphql import token_for
from tests.live import LiveServer
from tests.operations import operation
from tests.schema.authz import ENTRIES, PUBLIC
from tests.schema.authz import subscriptions as subs
from tests.schema.authz.matrix import CALLERS, STAFF
from tests.schema.authz.notifications import SELF_SERVICE
from tests.schema.authz.runner import assert_allowed, assert_refused, call, kept, snapshot
from tests.schema.authz.world import build_authz_world
from tests.wsclient import GraphQLWSClient, group_size

GRAPHQL = schema.graphql_schema
ROOTS = {"Query": GRAPHQL.query_type, "Mutation": GRAPHQL.mutation_type, "Subscription": GRAPHQL.subscription_type}


def root_fields() -> set[str]:
    return {f"{kind}.{name}" for kind, root in ROOTS.items() for name in root.fields}


def _case(entry, caller, holes):
    marks = [pytest.mark.xfail(strict=True, reason=holes[caller])] if caller in holes else []
    return pytest.param(entry, caller, marks=marks, id=f"{entry.label}-{CALLERS[caller][1]}")


REFUSED = [_case(e, c, e.holes) for e in ENTRIES for c in e.refused]
ALLOWED = [_case(e, c, {}) for e in ENTRIES for c in e.allowed]


# --- the table itself --------------------------------------------------------------------------
def test_every_root_field_has_an_entry_or_a_reason_to_be_public():
    covered = {e.field for e in ENTRIES} | {e.field for e in subs.ENTRIES} | set(PUBLIC)
    missing = sorted(root_fields() - covered)
    assert not missing, (
        f"root fields without a row in the authorization matrix: {missing}. Add an Entry to tests/schema/authz/ "
        "(who is refused and how, who succeeds), or a reason to tests/schema/authz/notifications.py PUBLIC."
    )
    assert not sorted(covered - root_fields()), "the matrix names fields the schema no longer has"


def test_every_field_is_tried_anonymously_by_a_wrong_caller_and_by_its_entitled_caller():
    by_field: dict[str, dict[str, set]] = {}
    for e in [*ENTRIES, *subs.ENTRIES]:
        seen = by_field.setdefault(e.field, {"allowed": set(), "refused": set()})
        seen["allowed"] |= set(e.allowed)
        seen["refused"] |= set(e.refused)
    thin = {f: s for f, s in by_field.items()
            if not s["allowed"] or "anonymous" not in s["refused"] or not (s["refused"] - {"anonymous"} or f in SELF_SERVICE)}
    assert not thin, f"rows need an entitled caller, anonymous and at least one other refused caller: {thin}"
    assert not set(by_field) & set(PUBLIC)


def test_staff_fields_are_tried_in_the_wrong_area():
    """A field some staff role may use is also tried by staff of another grid or community."""
    by_field: dict[str, set] = {}
    allowed_staff = {e.field for e in ENTRIES if set(e.allowed) & STAFF}
    for e in ENTRIES:
        by_field.setdefault(e.field, set()).update(e.refused)
    wrong_area = {"worker_other_grid", "worker_other_community", "admin_other"}
    untried = sorted(f for f in allowed_staff if not by_field[f] & wrong_area and f not in SELF_SERVICE)
    assert not untried, f"staff fields never tried by staff of another area: {untried}"


@pytest.mark.parametrize("entry", [e for e in ENTRIES if "{" in e.document], ids=lambda e: e.label)
def test_inline_documents_are_valid_against_the_schema(entry):
    assert not validate(GRAPHQL, parse(entry.text))


def test_only_writes_outside_a_rolled_back_savepoint_count_as_changes():
    statements = [
        'SAVEPOINT "s1"', 'UPDATE a SET x = 1 WHERE id = 1 AND status = \'OPEN\'',
        'SAVEPOINT "s2"', 'INSERT INTO b VALUES (1)', 'RELEASE SAVEPOINT "s2"',
        'ROLLBACK TO SAVEPOINT "s1"', 'RELEASE SAVEPOINT "s1"',
        'SAVEPOINT "s3"', 'DELETE FROM c WHERE id = 2', 'RELEASE SAVEPOINT "s3"', 'SELECT 1',
    ]
    assert kept(statements) == ["DELETE FROM c WHERE id = 2"]


def test_every_hole_names_a_refused_caller_and_says_so():
    for e in ENTRIES:
        for caller, reason in e.holes.items():
            assert caller in e.refused and reason.startswith(("AUTHZ HOLE", "BUG")), (e.label, caller)


# --- queries and mutations over HTTP -----------------------------------------------------------
@pytest.fixture(scope="class")
def authz_world(django_db_setup, django_db_blocker):
    """The world, built once for the class inside a transaction that is rolled back at the
    end; each test runs in a savepoint inside it (the `db` fixture), so what a positive
    control changes is gone before the next test."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            world = build_authz_world()
        except BaseException:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            raise
    yield world
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.mark.django_db
class TestQueriesAndMutations:
    @pytest.mark.parametrize("entry,caller", REFUSED)
    def test_refused(self, entry, caller, authz_world, client):
        before = snapshot(entry.keeps(authz_world)) if entry.keeps else None
        answer = call(client, entry, caller, authz_world)
        assert_refused(answer, entry, entry.refused[caller], authz_world)
        if before is not None:
            assert snapshot(entry.keeps(authz_world)) == before, "a self-service call changed someone else's rows"

    @pytest.mark.parametrize("entry,caller", ALLOWED)
    def test_allowed(self, entry, caller, authz_world, client):
        assert_allowed(call(client, entry, caller, authz_world), entry, caller, authz_world)


# --- subscriptions over a real WebSocket -------------------------------------------------------
SUB_REFUSED = [pytest.param(s, c, id=f"{s.field}-{CALLERS[c][1]}") for s in subs.ENTRIES for c in s.refused]
SUB_ALLOWED = [pytest.param(s, c, id=f"{s.field}-{CALLERS[c][1]}") for s in subs.ENTRIES for c in s.allowed]
REFUSAL_CODES = {"NOT_FOUND", "FORBIDDEN", "UNAUTHENTICATED"}


@pytest.fixture(scope="class")
def ws_server():
    server = LiveServer()
    server.start()
    yield server
    server.stop()


def _no_secret(sub, message: dict) -> None:
    text = json.dumps(message, ensure_ascii=False)
    assert not [s for s in sub.secrets if s in text], text


@pytest.mark.django_db(transaction=True)
class TestSubscriptions:
    @pytest.mark.parametrize("sub,caller", SUB_REFUSED)
    def test_refused(self, sub, caller, ws_server):
        w = subs.build_live_world()
        form = sub.refused[caller]
        if form == subs.WsForm.CLOSED:
            with GraphQLWSClient(ws_server.ws_url, init=False) as ws:
                ws.send({"type": "connection_init", "payload": {}})
                assert ws.close_code(timeout=10) == 4442
        elif form == subs.WsForm.ERROR:
            self._refused_with_error(sub, caller, w, ws_server)
        else:
            self._silent(sub, caller, w, ws_server)
        assert group_size(sub.group(w)) == 0

    @staticmethod
    def _refused_with_error(sub, caller, w, ws_server):
        with GraphQLWSClient(ws_server.ws_url, token_for(subs.user_for(w, caller))) as ws:
            ws.subscribe("s", operation(sub.document), sub.variables(w))
            message = ws.receive_for("s", timeout=10)
            assert message["type"] == "error", message
            codes = {(e.get("extensions") or {}).get("code") for e in message["payload"]}
            assert codes and codes <= REFUSAL_CODES, message
            _no_secret(sub, message)
            assert group_size(sub.group(w)) == 0
            sub.trigger(w)
            with pytest.raises(TimeoutError):
                ws.receive_for("s", timeout=0.3)

    @staticmethod
    def _silent(sub, caller, w, ws_server):
        user = subs.user_for(w, caller)
        with GraphQLWSClient(ws_server.ws_url, token_for(user)) as ws:
            ws.subscribe("s", operation(sub.document), sub.variables(w))
            ws.wait_until_subscribed(lambda: group_size(sub.own_group(w, user)) > 0)
            sub.misaddressed(w, user)
            with pytest.raises(TimeoutError):
                ws.receive_for("s", timeout=1.0)
            sub.own_event(w, user)  # the stream is alive: the caller's own event arrives
            own = ws.receive_for("s", timeout=10)
            assert own["type"] == "next", own
            _no_secret(sub, own)

    @pytest.mark.parametrize("sub,caller", SUB_ALLOWED)
    def test_allowed(self, sub, caller, ws_server):
        w = subs.build_live_world()
        with GraphQLWSClient(ws_server.ws_url, token_for(subs.user_for(w, caller))) as ws:
            ws.subscribe("s", operation(sub.document), sub.variables(w))
            ws.wait_until_subscribed(lambda: group_size(sub.group(w)) > 0)
            sub.trigger(w)
            message = ws.receive_for("s", timeout=10)
        assert message["type"] == "next", message
        sub.allowed[caller](message["payload"]["data"][sub.name], w)
