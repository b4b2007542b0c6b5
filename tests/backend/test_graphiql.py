"""GraphiQL works offline and its subscriptions carry the token (issue 17.8): the page and
everything it loads come from this server, and the Authorization header of its Headers tab
goes into the WebSocket's connection_init (checked with the vendored graphql-ws client in
Node against the live server)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from tests.graphql import token_for

STATIC = Path(settings.BASE_DIR) / "backend" / "static" / "graphiql"
SCRIPT = Path(__file__).parent / "js" / "graphiql_ws.js"


def graphiql_page(base: str) -> str:
    request = urllib.request.Request(f"{base}/graphql/", headers={"Accept": "text/html"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        return response.read().decode()


@pytest.mark.django_db(transaction=True)
def test_graphiql_loads_every_asset_from_the_server(live_server_asgi, settings):
    settings.GRAPHIQL = True
    base = live_server_asgi.http_url
    page = graphiql_page(base)
    assets = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page)
    assert len(assets) >= 8 and "graphiql.min.js" in page and "graphql-ws.min.js" in page
    assert all(url.startswith("/static/") for url in assets), assets  # no CDN, no other origin
    for url in assets:
        with urllib.request.urlopen(base + url, timeout=10) as response:
            assert response.status == 200 and len(response.read()) > 0, url
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)  # no inline script


def _node_fetch(origin: str, headers: dict, query: str) -> dict:
    completed = subprocess.run(
        ["node", "--experimental-websocket", "--no-warnings", str(SCRIPT), str(STATIC), origin, json.dumps(headers), query],
        capture_output=True, text=True, timeout=30, check=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js (20.10 or later)")
@pytest.mark.django_db(transaction=True)
def test_graphiql_sends_the_authorization_header_over_its_websocket(world, live_server_asgi):
    origin = live_server_asgi.http_url
    answer = _node_fetch(origin, {"Authorization": f"Bearer {token_for(world.admin_a)}"}, "{ me { username } }")
    assert answer == {"next": {"data": {"me": {"username": "admin_a"}}}}
    # Without the header the socket is refused, as any client would be.
    assert _node_fetch(origin, {}, "{ me { username } }") == {"closed": 4442, "reason": "missing token"}
    assert _node_fetch(origin, {"authorization": "Bearer not-a-jwt"}, "{ me { username } }") == {
        "closed": 4441, "reason": "invalid token"}
