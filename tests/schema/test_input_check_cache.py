"""The documents' literal check (refused_input) is remembered per parsed document: the same
document text is checked once, and a refused document is refused every time it comes back
(issue 19: the walk over the document was ~8 % of an answer's CPU)."""

from graphql import visit

from schema.core import inputs
from schema.core.execution import prepare_document
from schema.schema import schema as graphene_schema

QUERY = 'query { __type(name: "%s") { name } }'


def _document(text: str):
    document, errors = prepare_document(graphene_schema.graphql_schema, text)
    assert document is not None, errors
    return document


def test_a_clean_document_is_walked_once_and_a_refused_one_refused_every_time(monkeypatch):
    walks = []
    monkeypatch.setattr(inputs, "visit", lambda document, visitor: walks.append(document) or visit(document, visitor))
    clean = _document(QUERY % "SafetyStatus")
    refused = _document(QUERY % "Safety\x00Status")
    for _ in range(3):
        assert inputs.refused_input(clean, {"a": "b"}, None) is None
        error = inputs.refused_input(refused, None, None)
        assert error is not None and error.extensions == {"code": "BAD_USER_INPUT"} and "NUL" in error.message
    assert walks == [clean, refused]
    # the variables are still checked on every request
    assert inputs.refused_input(clean, {"a": "x\x00y"}, None).message.startswith("`variables` contains")
