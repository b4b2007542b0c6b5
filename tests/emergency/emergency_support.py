"""Shared helpers for the emergency tests: residents in the small world, running the
background fan-outs in the test's thread, and a few plan actions."""

from __future__ import annotations

import itertools

import pytest
from graphql_relay import to_global_id

from community.models import Area, Resident
from emergency.tasks import run_pending_emergency_jobs
from tests.world import make_user

_numbers = itertools.count(1)


def gid(type_name: str, obj) -> str:
    return to_global_id(type_name, obj if isinstance(obj, int) else obj.pk)


def resident(grid: Area, name: str = "居民", *, app: bool = False, phone: bool = True, language: str = "zh-hans",
             device: bool | None = None, **fields) -> Resident:
    """A resident of `grid` at its centre; app=True gives them an account and (unless
    device=False) a live device registered for push: they use the app."""
    from tests.notifications.helpers import give_device

    n = next(_numbers)
    number = f"+86135{n:08d}" if phone else None
    user = make_user(f"r{n}", number, display_name=name, preferred_language=language) if app else None
    row = Resident(grid=grid, display_name=name, user=user, phone=number, preferred_language=language, **fields)
    row.set_location(grid.center_lat, grid.center_lng)
    row.save()
    if user is not None and (app if device is None else device):
        give_device(user)
    return row


def run_jobs() -> int:
    """What the Celery workers would do after commit: every plan run and fan-out, to the end,
    and the SMS they wrote handed to the (in-memory) provider."""
    from tests.notifications.helpers import send_pushes, send_queued

    done = run_pending_emergency_jobs()
    send_queued()
    send_pushes()
    return done


@pytest.fixture(autouse=True)
def _emergency_isolation(settings):
    import uuid

    from django.core.cache import cache

    from notifications import ratelimit
    from notifications.push import close_push_transports
    from notifications.push import locmem as push_locmem
    from notifications.transports import locmem
    from notifications.voice import locmem as voice_locmem

    settings.RATE_LIMIT_PREFIX = f"linli:test:{uuid.uuid4().hex}:"
    settings.SMS_RATE_PER_SECOND = 1000.0
    settings.SMS_RATE_BURST = 1000.0
    locmem.clear()
    push_locmem.clear()
    voice_locmem.clear()
    close_push_transports()
    ratelimit.clear_local()
    cache.clear()
    yield


ALERT_PARAMS = {
    "categories": ["Met"], "event": "台风", "urgency": "Immediate", "severity": "Severe", "certainty": "Likely",
    "headline": "台风“梅花”即将登陆", "instruction": "请留在室内，远离窗户", "expires_in_minutes": 720,
}
