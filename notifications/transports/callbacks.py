"""Reading provider callbacks and pulled records safely: shared by aliyun.py and tencent.py.

Everything here raises CallbackError (never another exception) for input that is not what a
provider sends: not UTF-8 JSON, NUL characters, lone surrogates, a wrong shape, odd phone
numbers or times, an over-long body, a missing or wrong token.

Neither Alibaba Cloud (HTTP batch push: SmsReport, SmsUp) nor Tencent Cloud (status and reply
callbacks) signs its HTTP callbacks, so authenticity rests on a shared secret in the callback
URL (https://…/sms/aliyun/report?token=…) compared in constant time, plus HTTPS.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

from core.text import unstorable_in

from .base import CallbackError

PROVIDER_TZ = ZoneInfo("Asia/Shanghai")  # both providers report wall-clock Beijing time
TOKEN_PARAM = "token"
MAX_TEXT = 1000  # a concatenated SMS is at most a few hundred characters
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
MAINLAND_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def check_token(query: Mapping[str, str] | None, expected: str) -> None:
    """The callback URL's ?token= must equal `expected` (when one is configured)."""
    if not expected:
        return
    given = (query or {}).get(TOKEN_PARAM, "")
    if not isinstance(given, str) or not hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode()):
        raise CallbackError("callback token missing or wrong", "bad_token")


def read_json(body: bytes, *, max_bytes: int | None = None) -> Any:
    """The decoded JSON document of a callback body."""
    if not isinstance(body, bytes | bytearray):
        raise CallbackError("callback body must be bytes", "bad_json")
    limit = max_bytes if max_bytes is not None else int(getattr(settings, "SMS_WEBHOOK_MAX_BYTES", 16384))
    if len(body) > limit:
        raise CallbackError(f"callback body over {limit} bytes", "too_large")
    try:
        data = json.loads(bytes(body).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise CallbackError("callback body is not UTF-8 JSON", "bad_json") from None
    check_strings(data)
    return data


def records(data: Any, *, allow_single: bool = False) -> list[dict[str, Any]]:
    """A JSON array of objects (or, when allowed, one object) as a list of dicts."""
    if allow_single and isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise CallbackError("expected a JSON array of objects", "bad_shape")
    return data


def text(record: Mapping[str, Any], key: str, *, required: bool = True, max_len: int = MAX_TEXT) -> str:
    value = record.get(key)
    if value is None or value == "":
        if required:
            raise CallbackError(f"missing {key!r}", "bad_shape")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise CallbackError(f"{key!r} is not text", "bad_value")
    value = str(value)
    if len(value) > max_len:
        raise CallbackError(f"{key!r} is too long", "bad_value")
    return value


def phone_from_parts(country: str, national: str) -> str:
    """E.164 from a country code and a national number ("86", "13900000001")."""
    number = f"+{country.lstrip('+')}{national}"
    if not E164.match(number):
        raise CallbackError("phone number is not valid", "bad_value")
    return number


def phone_from_provider(raw: str) -> str:
    """E.164 from a provider's phone field: mainland 11 digits, or country code + number
    with or without "+" / "00"."""
    digits = raw.strip()
    if MAINLAND_MOBILE.match(digits):
        return "+86" + digits
    if digits.startswith("00"):
        digits = digits[2:]
    number = digits if digits.startswith("+") else "+" + digits
    if not E164.match(number):
        raise CallbackError("phone number is not valid", "bad_value")
    return number


def local_time(value: str) -> datetime | None:
    """'2024-05-01 08:03:04' (Beijing time) as an aware datetime; None when absent."""
    if not value:
        return None
    try:
        return datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=PROVIDER_TZ)
    except ValueError:
        raise CallbackError("time is not 'YYYY-MM-DD HH:MM:SS'", "bad_value") from None


def unix_time(value: object) -> datetime | None:
    if value in (None, "", 0):
        return None
    try:
        seconds = int(str(value))
        return datetime.fromtimestamp(seconds, UTC) if 0 < seconds < 10**11 else _bad_time()
    except (ValueError, OverflowError, OSError):
        return _bad_time()


def _bad_time() -> datetime:
    raise CallbackError("time is not a UNIX timestamp", "bad_value")


def stable_sid(prefix: str, *parts: object) -> str:
    """A de-duplication id for records the provider gives no id of its own."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()
    return f"{prefix}{digest[:40]}"


def check_strings(value: Any, depth: int = 0) -> None:
    """CallbackError for NUL characters or lone surrogates anywhere in a decoded document."""
    if depth > 20:
        raise CallbackError("callback nested too deeply", "bad_shape")
    if isinstance(value, str):
        problem = unstorable_in(value)  # the one definition (core.text)
        if problem is not None:
            raise CallbackError(f"{problem} in callback", "bad_value")
    elif isinstance(value, dict):
        for key, item in value.items():
            check_strings(key, depth + 1)
            check_strings(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            check_strings(item, depth + 1)
