"""The console in a real browser: Debian's chromium driven by Playwright (never a browser
download), against the live ASGI server of tests/live.py. Screenshots are kept as artifacts
under the run's pytest temporary directory (artifacts/console/), or LINLI_ARTIFACTS_DIR."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pytest
from django.db import OperationalError, connections

from tests.conftest import CHROMIUM

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "pw-for-tests-123"  # tests.world.make_user's
T = TypeVar("T")


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory) -> Path:
    configured = os.environ.get("LINLI_ARTIFACTS_DIR")
    path = Path(configured) / "console" if configured else tmp_path_factory.getbasetemp() / "artifacts" / "console"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def console_settings(settings):
    # No tile server: a browser in the tests must reach nothing but the live server.
    settings.CONSOLE_TILE_URL = ""
    settings.CONSOLE_MAP_CENTER = (30.271, 120.151)  # the small world's grid A1
    settings.CONSOLE_MAP_ZOOM = 16
    return settings


class Console:
    """A signed-in console in a browser tab, failing the test on any script error or CSP report."""

    def __init__(self, browser, base_url: str, artifacts: Path, name: str, viewport: dict[str, int]):
        self.context = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.base_url = base_url
        self.artifacts = artifacts
        self.name = name
        self.problems: list[str] = []
        self.expected_errors: list[str] = []  # texts of script errors a test provokes on purpose
        self.page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))
        self.page.on("console", self._on_console)
        self.page.on("request", self._on_request)

    def _on_console(self, message) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            self.problems.append(f"CSP: {message.text}")

    def _on_request(self, request) -> None:
        if not request.url.startswith((self.base_url, "data:", "blob:")):
            self.problems.append(f"request outside the server: {request.url}")

    def login(self, user, hash_part: str = "") -> object:
        page = self.page
        page.goto(f"{self.base_url}/console/{hash_part}")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", PASSWORD)
        page.click("form.login button[type=submit]")
        page.wait_for_selector("#area-switcher")
        return page

    def go(self, hash_part: str) -> None:
        self.page.evaluate("hash => { location.hash = hash; }", hash_part)

    def screenshot(self, label: str) -> Path:
        path = self.artifacts / f"{self.name}-{label}.png"
        self.page.screenshot(path=str(path))
        return path

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def open_console(live_server_asgi, artifacts, console_settings, monkeypatch, request) -> Iterator[Callable[..., Console]]:
    """open_console(viewport=None) -> a Console in a fresh browser context.

    The browser starts at the first call, so a test prepares its world before. Playwright's
    sync API then keeps an event loop running in the test's thread, which Django takes for
    async code: the test's own database reads between browser steps are plain synchronous
    code, so they are allowed (Django's documented switch), and whatever would publish a live
    event runs elsewhere() — in another thread, as another person's request would."""
    from playwright.sync_api import sync_playwright

    state: dict[str, object] = {}
    opened: list[Console] = []

    def factory(viewport: dict[str, int] | None = None) -> Console:
        if "browser" not in state:
            monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
            state["playwright"] = sync_playwright().start()
            state["browser"] = state["playwright"].chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        console = Console(state["browser"], live_server_asgi.http_url, artifacts, request.node.name,
                          viewport or {"width": 1366, "height": 768})
        opened.append(console)
        return console

    yield factory
    problems = [p for c in opened for p in c.problems if not any(text in p for text in c.expected_errors)]
    for console in opened:
        console.close()
    if "browser" in state:
        state["browser"].close()
        state["playwright"].stop()
    assert not problems, problems


class Retryable(Exception):
    """The API answered SERVICE_UNAVAILABLE (retryable: nothing was changed)."""


def elsewhere(fn: Callable[..., T], *args: object, **kwargs: object) -> T:
    """Run fn in another thread, as another person's request would while the browser watches.

    The embedded footing's test database is SQLite in memory with a shared cache, where a
    write that meets the live server's concurrent read fails at once ("table is locked", no
    busy wait; the API answers SERVICE_UNAVAILABLE, retryable, nothing changed). Like a
    client, try again a few times."""
    def run() -> T:
        try:
            for attempt in range(8):
                try:
                    return fn(*args, **kwargs)
                except (OperationalError, Retryable):
                    if attempt == 7:
                        raise
                    time.sleep(0.1 * (attempt + 1))
            raise AssertionError("unreachable")
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result(timeout=60)


def api(gql, query: str, variables: dict, user) -> dict:
    """A request to the API as `user`, from another thread (see elsewhere): its data."""
    def call() -> dict:
        status, body = gql(query, variables, user=user)
        codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
        if "SERVICE_UNAVAILABLE" in codes:
            raise Retryable(body)
        assert status == 200 and not codes, body
        return body["data"]

    return elsewhere(call)


def until_subscribed(group: str, timeout: float = 15.0) -> None:
    """Wait until someone listens on a channel-layer group (e.g. `task.<id>` once the page's
    taskUpdated subscription is active). The page asks for a subscription and goes on drawing;
    the server joins the group a moment later, and an event published before that reaches
    nobody. A client cannot tell, so a test that makes such an event waits for the join first
    (the way tests/wsclient.py does). Runs elsewhere(): the Redis layer needs its own loop."""
    from tests.wsclient import group_size

    def wait() -> None:
        deadline = time.monotonic() + timeout
        while not group_size(group):
            if time.monotonic() > deadline:
                raise AssertionError(f"nobody joined {group} in {timeout} s")
            time.sleep(0.02)

    elsewhere(wait)
