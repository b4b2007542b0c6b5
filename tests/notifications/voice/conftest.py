"""Voice transport tests: the reference webhook views are mounted (urls.py), and what they
accepted is cleared between tests, as is the locmem call list."""

from __future__ import annotations

import pytest

from notifications.voice import locmem
from tests.notifications.voice import urls


@pytest.fixture(autouse=True)
def _voice_isolation(settings):
    settings.ROOT_URLCONF = "tests.notifications.voice.urls"
    urls.received.clear()
    locmem.clear()
    yield
    urls.received.clear()
    locmem.clear()

