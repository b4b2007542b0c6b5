"""A GraphQL client for tests, speaking HTTP to the real view with real JWTs."""

from __future__ import annotations

import json
from typing import Any

from graphql_jwt.shortcuts import get_token


def token_for(user) -> str:
    return get_token(user)


class GraphQLClient:
    def __init__(self, client):
        self.client = client

    def __call__(self, query: str, variables: dict | None = None, user=None, headers: dict | None = None, **extra) -> tuple[int, dict[str, Any]]:
        body = {"query": query}
        if variables is not None:
            body["variables"] = variables
        http_headers = dict(headers or {})
        if user is not None:
            http_headers["HTTP_AUTHORIZATION"] = f"Bearer {token_for(user)}"
        response = self.client.post("/graphql/", data=json.dumps(body), content_type="application/json", **http_headers, **extra)
        return response.status_code, response.json()

    def data(self, query: str, variables: dict | None = None, user=None) -> dict[str, Any]:
        status, body = self(query, variables, user=user)
        assert status == 200 and not body.get("errors"), body
        return body["data"]
