"""Calling an entry as one caller, and judging the answer: refused (in the declared form,
with no write and no secret in the body) or allowed (with the entry's own check)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from tests.graphql import token_for

from .matrix import TOP_LEVEL, Entry, Form, Refusal, dump, user_of
from .world import AuthzWorld

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE|MERGE)\b", re.IGNORECASE)
SAVEPOINT = re.compile(r"^\s*(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT)\s+\"?([\w]+)\"?", re.IGNORECASE)


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    writes: list[str]  # every INSERT/UPDATE/DELETE the request ran
    kept_writes: list[str]  # those not undone by a rolled-back savepoint

    @property
    def text(self) -> str:
        return dump(self.body)  # non-ASCII as is: the secrets are Chinese text

    def errors_for(self, name: str) -> list[dict]:
        return [e for e in self.body.get("errors") or [] if not e.get("path") or e["path"][0] == name]

    def data(self, name: str):
        return (self.body.get("data") or {}).get(name)


def call(client, entry: Entry, caller: str, w: AuthzWorld) -> Answer:
    user = user_of(w, caller)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token_for(user)}"} if user is not None else {}
    variables = entry.variables(w)
    with CaptureQueriesContext(connection) as queries:
        if entry.upload is not None:
            operations = {"query": entry.text, "variables": {**variables, "file": None}}
            response = client.post("/graphql/", data={"operations": json.dumps(operations),
                                                      "map": json.dumps({"0": ["variables.file"]}), "0": entry.upload()},
                                   **headers)
        else:
            response = client.post("/graphql/", data=json.dumps({"query": entry.text, "variables": variables}),
                                   content_type="application/json", **headers)
    # The access log records what the caller legitimately read in their own scope (a refused
    # caller may still see their own area's people): not a write the refusal must prevent.
    statements = [q["sql"] for q in queries.captured_queries if "privacy_accesslog" not in q["sql"]]
    writes = [sql for sql in statements if WRITE.match(sql)]
    return Answer(response.status_code, response.json(), writes, kept(statements))


def kept(statements: list[str]) -> list[str]:
    """The writes that survived: a write inside a savepoint later rolled back is undone (a
    mutation refused with typed errors rolls back what it tried, e.g. a conditional UPDATE
    that matched no row)."""
    frames: list[tuple[str, list[str]]] = [("", [])]
    for sql in statements:
        marker = SAVEPOINT.match(sql)
        if marker is None:
            if WRITE.match(sql):
                frames[-1][1].append(sql)
            continue
        verb, sid = marker.group(1).upper(), marker.group(2)
        if verb == "SAVEPOINT":
            frames.append((sid, []))
            continue
        depth = next((i for i in range(len(frames) - 1, 0, -1) if frames[i][0] == sid), None)
        if depth is None:
            continue
        if verb == "ROLLBACK TO SAVEPOINT":
            for frame in frames[depth:]:
                frame[1].clear()
            del frames[depth + 1:]
        else:  # RELEASE: what it did now belongs to the enclosing frame
            inner = [w for frame in frames[depth:] for w in frame[1]]
            del frames[depth:]
            frames[-1][1].extend(inner)
    return [w for frame in frames for w in frame[1]]


def snapshot(rows: list) -> list[dict]:
    fresh = [type(r).objects.filter(pk=r.pk).first() for r in rows]
    return [model_to_dict(r) if r is not None else None for r in fresh]


def assert_refused(answer: Answer, entry: Entry, refusal: Refusal, w: AuthzWorld) -> None:
    name, form = entry.name, refusal.form
    assert answer.status == 200, (answer.status, answer.body)
    errors, data = answer.errors_for(name), answer.data(name)
    codes = [(e.get("extensions") or {}).get("code") for e in errors]
    if form == Form.DENIED:  # either refusal will do
        form = Form.FORBIDDEN if "FORBIDDEN" in codes else Form.NOT_FOUND if "NOT_FOUND" in codes else Form.PAYLOAD
    if form in TOP_LEVEL:
        assert form.value in codes, f"expected a top-level {form.value} error, got {answer.body}"
        assert data is None, data
    else:
        assert not errors, f"expected {refusal} without a top-level error, got {errors}"
    if form == Form.PAYLOAD:
        assert data is not None and data.get("errors"), f"expected typed errors {refusal.codes}, got {data}"
        got = {e["code"] for e in data["errors"]}
        assert got <= set(refusal.codes), f"expected codes within {refusal.codes}, got {data['errors']}"
        filled = {k: v for k, v in data.items() if k != "errors" and v not in (None, [], {})}
        assert not filled, f"a refused mutation returned {filled}"
    elif form == Form.NULL:
        assert data is None, f"expected null, got {data}"
    elif form == Form.EMPTY:
        assert is_empty(data), f"expected nothing, got {data}"
    if form == Form.PAYLOAD:  # typed errors roll back what the mutation tried
        assert not answer.kept_writes, f"a refused mutation kept writes: {answer.kept_writes}"
    elif form != Form.OWN_ONLY:  # refused before doing anything
        assert not answer.writes, f"a refused request wrote: {answer.writes}"
    secrets = w.secret(*entry.secrets, personal_only=form == Form.MASKED)
    leaked = [s for s in secrets if s and s in answer.text]
    assert not leaked, f"refused, yet the answer shows {leaked}: {answer.text[:600]}"


def is_empty(data) -> bool:
    if data in (None, [], {}):
        return True
    if isinstance(data, dict) and "edges" in data:
        return not data["edges"] and data.get("totalCount", 0) == 0
    return False


def assert_allowed(answer: Answer, entry: Entry, caller: str, w: AuthzWorld) -> None:
    name = entry.name
    assert answer.status == 200 and not answer.body.get("errors"), answer.body
    data = answer.data(name)
    if entry.kind == "Mutation":
        assert data is not None and data.get("errors") == [], f"the entitled caller got {data}"
    entry.allowed[caller](data, w)
