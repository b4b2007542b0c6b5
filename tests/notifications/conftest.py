"""Notifications tests: tasks run eagerly (in the test's thread, after commit when the test
captures on_commit callbacks); every test gets its own rate-limit buckets and SMS outbox."""

from __future__ import annotations

import uuid

import pytest

from tests.fake_twilio import fake_twilio  # noqa: F401 - fixture


@pytest.fixture(autouse=True)
def _notifications_isolation(settings):
    from django.core.cache import cache

    from backend.celery import app
    from notifications import ratelimit
    from notifications.transports import locmem

    settings.RATE_LIMIT_PREFIX = f"linli:test:{uuid.uuid4().hex}:"
    settings.SMS_RATE_PER_SECOND = 1000.0
    settings.SMS_RATE_BURST = 1000.0
    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    locmem.clear()
    ratelimit.clear_local()
    cache.clear()
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous
    locmem.clear()
