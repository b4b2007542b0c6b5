"""The test suite's settings: the project's own, with messages kept in memory instead of
printed (pytest's DJANGO_SETTINGS_MODULE; subprocesses a test starts use backend.settings)."""

import os

# A fixed key, published here and so good for nothing else (backend/checks.py flags it). Set
# before the project's settings are read (they would make a key file of their own) and
# inherited by the subprocesses a test starts, which then sign as the test process does.
TEST_SECRET_KEY = "linli-test-suite-only-key-published-in-tests-settings-py-0123456789abcdef"
os.environ["SECRET_KEY"] = TEST_SECRET_KEY

from backend.settings import *  # noqa: E402, F403

# Tests read what a commit published right after it (one test checks the background thread).
REALTIME_PUBLISH_IN_BACKGROUND = False

SMS_BACKEND = os.environ.get("SMS_BACKEND", "notifications.transports.locmem.LocmemTransport")
VOICE_BACKENDS = {
    "international": os.environ.get("VOICE_BACKEND_INTERNATIONAL", "notifications.voice.locmem.LocmemVoiceTransport"),
    "domestic": os.environ.get("VOICE_BACKEND_DOMESTIC", "notifications.voice.locmem.LocmemVoiceTransport"),
}
PUSH_BACKENDS = {
    provider: os.environ.get(f"PUSH_{provider.upper()}_BACKEND", "notifications.push.locmem.LocmemPushTransport")
    for provider in ("apns", "fcm", "jpush")
}
# Tests answer a prompt the instant it is handed over; tests/notifications/test_inbound.py
# checks the production default (a bare "1" answers only what could have been seen).
SMS_BARE_REPLY_MIN_AGE_SECONDS = 0
