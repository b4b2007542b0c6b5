"""Local time: schedules, certificate expiry dates and ledger periods are in Asia/Shanghai."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def local(at: dt.datetime) -> dt.datetime:
    return at.astimezone(LOCAL_TZ)


def local_date(at: dt.datetime) -> dt.date:
    return local(at).date()


def local_time(at: dt.datetime) -> dt.time:
    return local(at).time().replace(tzinfo=None)
