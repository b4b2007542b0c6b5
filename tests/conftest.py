"""Shared fixtures: a small world (areas, staff), a GraphQL client, service-aware markers."""

from __future__ import annotations

import importlib.util
import os
import re

import pytest
from django.conf import settings

from tests.world import World, build_world

pytest_plugins = ["tests.live", "tests.fake_aliyun_sms", "tests.fake_tencent_sms", "tests.fake_twilio_voice", "tests.fake_aliyun_voice",
                  "tests.fake_apns", "tests.fake_fcm", "tests.fake_jpush"]


SERVICE_MARKERS = ("postgres", "redis", "browser")
CHROMIUM = "/usr/bin/chromium"  # Debian's package; Playwright drives it (never its own download)


def _browser_available() -> bool:
    return os.path.exists(CHROMIUM) and importlib.util.find_spec("playwright") is not None


def _missing_services() -> set[str]:
    missing = {"postgres": not settings.USING_POSTGRES, "redis": not settings.REDIS_URL,
               "browser": not _browser_available()}
    return {name for name, absent in missing.items() if absent}


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres`/`redis`/`browser` need that service (chromium for `browser`). Under CI's LINLI_REQUIRE_SERVICES=1
    a missing service fails them; on the embedded footing (no services) they are not
    collected, and the run says how many and why — nothing is skipped silently."""
    missing = _missing_services()
    if settings.LINLI_REQUIRE_SERVICES or not missing:
        return
    elsewhere = [item for item in items if any(item.get_closest_marker(m) for m in missing)]
    if elsewhere:
        config.hook.pytest_deselected(items=elsewhere)
        items[:] = [item for item in items if item not in elsewhere]
        config._linli_elsewhere = (len(elsewhere), sorted(missing))


def pytest_terminal_summary(terminalreporter, config):
    elsewhere = getattr(config, "_linli_elsewhere", None)
    if elsewhere:
        count, missing = elsewhere
        terminalreporter.write_line(
            f"{count} tests need {' and '.join(missing)} and run where it is present "
            "(DATABASE_URL/REDIS_URL set, /usr/bin/chromium installed; .ci/run provides both)")


def pytest_runtest_setup(item):
    """Under CI's LINLI_REQUIRE_SERVICES=1 a test whose service is not configured fails."""
    for marker in _missing_services():
        if item.get_closest_marker(marker):
            pytest.fail(f"LINLI_REQUIRE_SERVICES=1 but {marker} is not configured")


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def push_isolation():
    """The in-memory push transport empty and no push client kept between tests (for modules
    that send pushes: pytestmark = pytest.mark.usefixtures("push_isolation"))."""
    from notifications.push import close_push_transports, locmem

    locmem.clear()
    close_push_transports()
    yield
    close_push_transports()
    locmem.clear()


@pytest.fixture
def gql(client):
    """gql(query, variables=None, user=None, headers=None) -> (status, json)."""
    from tests.graphql import GraphQLClient

    return GraphQLClient(client)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


_PHONE_IN_LOG = re.compile(r"(?<![\d*])(?:\+?86)?1[3-9]\d{9}(?!\d)")


@pytest.fixture(autouse=True)
def _no_phone_numbers_in_logs(caplog):
    """Personal data never reaches a log line: every test fails if one logs a full phone."""
    yield
    leaked = [r.getMessage() for r in caplog.records if _PHONE_IN_LOG.search(r.getMessage())]
    assert not leaked, f"unmasked phone number logged: {leaked[:3]}"


@pytest.fixture(autouse=True)
def _isolated_rate_limits(settings):
    # Rate-limit buckets (Redis when configured) must not leak between tests or runs.
    import uuid

    settings.RATE_LIMIT_PREFIX = f"linli:test:{uuid.uuid4().hex}:"


@pytest.fixture(autouse=True)
def _isolated_channel_layer(settings):
    # In-memory layer state must not leak between tests.
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


def pytest_report_header(config):
    return (
        f"linli: database={settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]} "
        f"redis={'yes' if settings.REDIS_URL else 'no'} "
        f"require_services={os.environ.get('LINLI_REQUIRE_SERVICES', '0')}"
    )
