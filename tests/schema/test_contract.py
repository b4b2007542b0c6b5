"""The mobile contract: the exported SDL is current and every documented example is valid."""

import pytest
from graphql import parse, validate

from backend.management.commands.export_schema import SDL_PATH, render_sdl
from schema.schema import schema
from tests.operations import all_operations


def test_schema_graphql_is_current():
    assert SDL_PATH.read_text() == render_sdl(), "schema/schema.graphql is stale: run `make schema`"


@pytest.mark.parametrize("path", all_operations(), ids=lambda p: p.stem)
def test_documented_operation_is_valid_against_the_live_schema(path):
    errors = validate(schema.graphql_schema, parse(path.read_text()))
    assert errors == []


def test_every_documented_operation_is_executed_by_some_test():
    import re
    from pathlib import Path

    tests_dir = Path(__file__).resolve().parent.parent
    source = "\n".join(p.read_text() for p in tests_dir.rglob("test_*.py"))
    used = set(re.findall(r'operation\("([\w/]+)"\)', source))
    documented = {str(p.relative_to(p.parents[1])).removesuffix(".graphql") for p in all_operations()}
    assert documented - used == set(), "document examples must be executed by a test"


def test_every_event_type_is_documented_for_mobile_developers():
    from notifications.events import EVENT_TYPES

    doc = (all_operations()[0].parents[2] / "events.md").read_text()
    missing = [t for t in EVENT_TYPES if f"`{t}`" not in doc]
    assert missing == [], "add these to mobile_api_docs/events.md"


def test_every_mutation_payload_can_carry_errors_alone():
    """A refused mutation answers `errors` and nulls: a non-null payload field would turn a
    typed error into INTERNAL (found by the fuzz test on closeTasks)."""
    from graphql import GraphQLNonNull, get_named_type

    from schema.schema import schema

    mutation = schema.graphql_schema.mutation_type
    strict = {}
    for name, field in mutation.fields.items():
        payload = get_named_type(field.type)
        if "errors" in getattr(payload, "fields", {}):
            fields = [n for n, f in payload.fields.items() if n != "errors" and isinstance(f.type, GraphQLNonNull)]
            if fields:
                strict[name] = fields
    assert strict == {}
