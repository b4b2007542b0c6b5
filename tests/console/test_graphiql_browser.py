"""GraphiQL in a real browser (Debian's chromium): it loads with nothing from outside the
server, runs a query with the token of its Headers tab, and a subscription over
graphql-transport-ws carries that token too (issue 17.8)."""

from __future__ import annotations

import json

import pytest
from graphql_relay import to_global_id
from playwright.sync_api import expect

from tests.graphql import token_for
from tests.resources.conftest import shelter

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _graphiql(open_console, query: str, headers: dict[str, str] | None):
    console = open_console()
    # GraphiQL's fetcher leaves a refused socket's close unhandled (shown in the response pane too).
    if headers is None:
        console.expected_errors.append("Socket closed with event 4442")
    # GraphiQL keeps its editors in localStorage: the test types nothing into them.
    console.context.add_init_script(
        f"localStorage.setItem('graphiql:query', {json.dumps(query)});"
        f" localStorage.setItem('graphiql:headers', {json.dumps(json.dumps(headers or {}))});")
    page = console.page
    page.goto(f"{console.base_url}/graphql/")
    expect(page.locator(".graphiql-container")).to_be_visible()
    page.locator(".graphiql-execute-button").click()
    return console, page.locator(".graphiql-response")


def test_graphiql_runs_a_query_with_its_headers_token_and_loads_nothing_from_outside(world, open_console):
    console, response = _graphiql(open_console, "{ me { username } }",
                                  {"Authorization": f"Bearer {token_for(world.admin_a)}"})
    expect(response).to_contain_text(world.admin_a.username)
    console.screenshot("graphiql-query")
    # open_console fails the test on any request outside the server, script error or CSP report.


def test_a_graphiql_subscription_carries_the_token_and_gets_its_first_event(world, open_console):
    school = shelter(world.com_a, "a-school", name="甲小学")
    query = f"subscription {{ facilityUpdated(facilityId: {json.dumps(to_global_id('Facility', school.pk))}) {{ name occupancy capacity }} }}"
    _, response = _graphiql(open_console, query, {"Authorization": f"Bearer {token_for(world.admin_a)}"})
    expect(response).to_contain_text("甲小学")


def test_a_graphiql_subscription_without_a_token_is_refused_in_words(world, open_console):
    school = shelter(world.com_a, "a-school", name="甲小学")
    query = f"subscription {{ facilityUpdated(facilityId: {json.dumps(to_global_id('Facility', school.pk))}) {{ name }} }}"
    _, response = _graphiql(open_console, query, None)
    expect(response).not_to_contain_text("甲小学")
    expect(response).to_contain_text("4442")
