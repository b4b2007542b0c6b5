"""Fixtures for tasks and dispatch: Celery runs eagerly (in the test's thread, after commit
when the test runs its on_commit callbacks), a clock the test can move, SMS kept in memory
with fresh rate-limit buckets, and a neighbourhood of volunteers at known distances."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone
from geopy.distance import geodesic

from tests.fake_twilio import fake_twilio  # noqa: F401 - fixture
from tests.volunteers.conftest import A_POINT, make_volunteer, new_user
from volunteers.models import ContactChannel, Volunteer

TASK_POINT = A_POINT  # grid A1's centre: tasks default there


def point_at(metres: float, bearing_deg: float = 0.0, origin=TASK_POINT) -> tuple[float, float]:
    """The point `metres` (geodesic, WGS-84) from origin towards bearing (0 = north)."""
    destination = geodesic(meters=metres).destination(origin, bearing_deg)
    return (destination.latitude, destination.longitude)


class Clock:
    def __init__(self):
        self.now = timezone.now()

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float = 0, **delta) -> dt.datetime:
        self.now += dt.timedelta(seconds=seconds, **delta)
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """timezone.now() under the test's control (services call it at run time)."""
    c = Clock()
    monkeypatch.setattr("django.utils.timezone.now", c)
    return c


@pytest.fixture(autouse=True)
def _dispatch_isolation(settings):
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


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """with committed(): ... — run what the block left for after commit (pushes, waves, SMS)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def on_duty(hours: float = 4) -> dt.datetime:
    return timezone.now() + dt.timedelta(hours=hours)


def helper(area, metres: float, bearing: float = 0.0, *, name: str | None = None, channel=ContactChannel.APP,
           phone: bool = True, **fields) -> Volunteer:
    """An approved volunteer on duty, `metres` from the task point."""
    user = new_user(name or f"志愿者{metres:.0f}m{bearing:.0f}", phone=phone)
    fields.setdefault("on_duty_until", on_duty())
    return make_volunteer(user, area, point=point_at(metres, bearing), contact_channel=channel, **fields)


def error_codes(exc) -> list[str]:
    """Every code a ValidationError carries (field errors and plain ones)."""
    if hasattr(exc, "error_dict"):
        return sorted(str(e.code) for errors in exc.error_dict.values() for e in errors)
    return sorted(str(e.code) for e in exc.error_list)
