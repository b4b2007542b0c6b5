"""Fault tests: real worker processes against the fake Twilio, on PostgreSQL and Redis."""

import pytest

from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, MESSAGING_SERVICE_SID, FakeTwilio
from tests.faults.workers import broker_url, database_url, flush_broker


@pytest.fixture
def fake():
    server = FakeTwilio().start()
    yield server
    server.stop()


@pytest.fixture
def worker_env(fake, settings):
    settings.SMS_BACKEND = "notifications.transports.twilio.TwilioTransport"
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = ACCOUNT_SID, AUTH_TOKEN
    settings.TWILIO_MESSAGING_SERVICE_SID = MESSAGING_SERVICE_SID
    settings.TWILIO_API_BASE_URL = fake.base_url
    settings.SMS_CLAIM_TIMEOUT_SECONDS = 2
    flush_broker()
    from django.core.cache import cache

    cache.delete_many([f"linli:sms:drainer:{slot}" for slot in range(4)])  # from an earlier run
    return {
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": broker_url(),
        "RATE_LIMIT_REDIS_URL": settings.REDIS_URL,
        "SMS_BACKEND": settings.SMS_BACKEND,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_MESSAGING_SERVICE_SID": MESSAGING_SERVICE_SID,
        "TWILIO_API_BASE_URL": fake.base_url,
        "SMS_RATE_PER_SECOND": "15",  # a wave of 60 takes ~4 s: a kill lands mid-wave
        "SMS_RATE_BURST": "1",
        "SMS_CLAIM_TIMEOUT_SECONDS": "2",
        "SMS_MAX_DRAINERS": "2",
        "LINLI_EMBEDDED_WORKER": "0",
        "LOG_LEVEL": "WARNING",
    }
