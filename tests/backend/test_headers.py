"""Headers and origins: a Content-Security-Policy on every HTML page, CORS for listed origins
only (none by default), CSRF_TRUSTED_ORIGINS required in production."""

import re

import pytest
from django.http import HttpResponse
from django.test import override_settings
from django.urls import path

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def test_the_admin_has_a_policy_without_inline_or_foreign_scripts(client):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    csp = directives(response)
    assert csp["script-src"] == ["'self'"] and csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["base-uri"] == ["'none'"]


def test_a_404_page_has_one_too(client):
    response = client.get("/no-such-page/", HTTP_ACCEPT="text/html")
    assert response.status_code == 404 and "Content-Security-Policy" in response


def test_graphiql_loads_its_assets_from_the_server_and_may_open_its_websocket(client, settings):
    settings.GRAPHIQL = True
    response = client.get("/graphql/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200 and b"<html" in response.content
    csp = directives(response)
    # No inline script (its settings are data attributes), no CDN (the assets are vendored).
    assert not re.findall(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", response.content, re.S)
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    assert csp["script-src"] == ["'self'"] and not [s for s in csp["style-src"] if s.startswith("http")]
    assert {"'self'", "ws://testserver", "wss://testserver"} <= set(csp["connect-src"])


def test_graphiql_from_the_server_alone_needs_no_cdn(client, settings):
    settings.GRAPHIQL = True
    settings.GRAPHIQL_ASSET_ORIGINS = []
    csp = directives(client.get("/graphql/", HTTP_ACCEPT="text/html"))
    assert not [s for s in csp["script-src"] + csp["style-src"] if s.startswith("http")]


def test_json_answers_need_no_policy_and_a_page_keeps_its_own(client):
    assert "Content-Security-Policy" not in client.post("/graphql/", data="{}", content_type="application/json")


def _own_policy(request):
    response = HttpResponse("<html></html>")
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


urlpatterns = [path("own/", _own_policy)]


@override_settings(ROOT_URLCONF=__name__)
def test_a_page_that_sets_its_own_policy_keeps_it(client):
    assert client.get("/own/")["Content-Security-Policy"] == "default-src 'none'"


PREFLIGHT = {"HTTP_ORIGIN": "https://console.example.cn", "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST",
             "HTTP_ACCESS_CONTROL_REQUEST_HEADERS": "authorization,content-type"}


def test_no_other_origin_may_call_the_api_by_default(client):
    response = client.options("/graphql/", **PREFLIGHT)
    assert "Access-Control-Allow-Origin" not in response
    response = client.post("/graphql/", data='{"query": "{ __typename }"}', content_type="application/json",
                           HTTP_ORIGIN="https://console.example.cn")
    assert "Access-Control-Allow-Origin" not in response


def test_a_listed_origin_may_call_the_api_and_nothing_else(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://console.example.cn"]
    response = client.options("/graphql/", **PREFLIGHT)
    assert response["Access-Control-Allow-Origin"] == "https://console.example.cn"
    assert "authorization" in response["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in response  # bearer tokens, never cookies
    assert "Access-Control-Allow-Origin" not in client.options("/graphql/", **{**PREFLIGHT, "HTTP_ORIGIN": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in client.options("/admin/login/", **PREFLIGHT)
