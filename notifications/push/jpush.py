"""JPush (极光推送) Push API v3 through the official `jpush` SDK.

JPush takes one payload for up to 1,000 registration ids per call, so a batch is grouped by
identical content (title, body, data, options) and each group is sent in calls of at most
1,000 ids: a safety-check prompt to 20,000 residents is 20 calls, not 20,000.

What a grouped call cannot tell: JPush answers per call, not per id. Unknown or dead ids in
a group are dropped silently as long as one id matches; only when none does is the answer
1011 (no target), and then every id of the group is dead. A malformed id makes the whole call
fail with 1003: the group is then split in halves until the offending ids stand alone
(invalid_token), unless every part fails alike (the payload is at fault: permanent).
Dead ids hidden in a successful group are found only later, by a single-id push or by the
(VIP) delivery-status API; we do not call it.

The SDK hard-codes its hosts (jpush.common.ZONES); JPUSH_API_BASE_URL is applied in a
subclass of its client by rewriting the URL in `_request`, so the SDK's own request, auth
and error code is used (the way the Twilio transport does it).
Settings: JPUSH_APP_KEY, JPUSH_MASTER_SECRET, JPUSH_API_BASE_URL, JPUSH_ZONE,
JPUSH_APNS_PRODUCTION, JPUSH_VENDOR_DISTRIBUTION, JPUSH_SYSTEM_CLASSIFICATION,
JPUSH_CONCURRENCY, APNS_CRITICAL_ALERTS (iOS through JPush), PUSH_HTTP_TIMEOUT.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jpush
import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from jpush import common as jpush_common

from .aps import interruption_level
from .base import PushError, PushMessage, PushOutcome, PushResult, PushTransport, short_collapse_key

logger = logging.getLogger(__name__)
# The SDK logs every failure at ERROR and every request body (registration ids) at DEBUG;
# we classify and log failures ourselves.
logging.getLogger("jpush").setLevel(logging.CRITICAL)

MAX_IDS = 1000  # registration_id per push call (Push API v3, audience)
MAX_TTL = 10 * 24 * 3600  # time_to_live: at most 10 days
NO_TARGET = 1011
BAD_PARAMETER = "1003"
MAX_BISECT_CALLS = 64
# Push API v3 answer codes: auth failed, bad appkey, app blocked, IP not allowed, VIP-only,
# not enabled for this app.
OPERATOR_CODES = {1004, 1008, 2003, 2004, 2006, 2007}
VOLUME_REFUSED = 2005  # "too many messages to these users": do not retry, do not prune
TRANSIENT_CODES = {1000, 1012, 1030, 2002}  # internal, over a vendor quota, timeout, rate limit
VENDORS = ("xiaomi", "huawei", "honor", "oppo", "vivo", "meizu")


class LinliJPushClient(jpush.JPush):  # type: ignore[misc]  # the SDK ships no type information
    """The SDK's client, pointed at JPUSH_API_BASE_URL, with a connection pool per thread."""

    def __init__(self, key: str, secret: str, *, timeout: float, zone: str, base_url: str, pool: int) -> None:
        super().__init__(key, secret, timeout=timeout, zone=zone)
        self.base_url = base_url.rstrip("/")
        adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=pool, max_retries=0)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        if self.base_url:
            self.session.trust_env = False  # a loopback fake must not go through a proxy

    def _request(self, method: str, body: Any, url: str, content_type: Any = None, version: Any = None,
                 params: Any = None) -> requests.Response:
        if self.base_url:
            for zone in jpush_common.ZONES.values():
                for prefix in zone.values():
                    origin = prefix.split("/v")[0]  # https://api.jpush.cn
                    if url.startswith(origin + "/"):
                        url = self.base_url + url[len(origin):]
                        break
        return super()._request(method, body, url, content_type, version, params)  # type: ignore[no-any-return]


def _content_key(message: PushMessage) -> tuple[Any, ...]:
    return (message.platform, message.title, message.body, tuple(sorted(message.data.items())), message.collapse_key,
            message.priority, message.ttl_seconds, message.sound, message.badge, message.critical)


def group_messages(messages: list[PushMessage]) -> list[list[int]]:
    """Indexes of messages with identical content, in calls of at most MAX_IDS."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for index, message in enumerate(messages):
        groups.setdefault(_content_key(message), []).append(index)
    return [indexes[i:i + MAX_IDS] for indexes in groups.values() for i in range(0, len(indexes), MAX_IDS)]


def _rate_limit_reset(response: requests.Response | None) -> float | None:
    value = response.headers.get("X-Rate-Limit-Reset", "") if response is not None else ""
    return float(value) if value.strip().isdigit() else None


def classify(exc: Exception) -> PushError:
    if isinstance(exc, jpush.Unauthorized):
        return PushError("JPush 401 1004: AppKey or Master Secret refused", "1004", operator=True)
    if isinstance(exc, jpush.JPushFailure):
        status = exc.response.status_code if exc.response is not None else 0
        code = int(exc.error_code) if str(exc.error_code or "").isdigit() else 0
        text = f"JPush {status} {code}: {exc.details}"[:300]
        if code == NO_TARGET:
            return PushError(text, str(code), invalid_token=True)
        if code == VOLUME_REFUSED:
            return PushError(text, str(code), permanent=True)
        if code in OPERATOR_CODES or (status in (401, 403) and code not in TRANSIENT_CODES):
            return PushError(text, str(code or status), operator=True)
        if code in TRANSIENT_CODES or status == 429 or status >= 500:
            return PushError(text, str(code or status), retry_after=_rate_limit_reset(exc.response))
        return PushError(text, str(code or status), permanent=True)
    if isinstance(exc, jpush_common.APIConnectionException):
        return PushError("JPush connect timeout", "timeout")
    if isinstance(exc, jpush_common.APIRequestException):
        return PushError("JPush connection error", "network")  # includes read timeouts
    return PushError(f"JPush error: {type(exc).__name__}", "error")


class JPushTransport(PushTransport):
    name = "jpush"
    max_batch = 5000  # identical content travels 1,000 ids per call

    def __init__(self, provider: str = "") -> None:
        super().__init__(provider)
        if not settings.JPUSH_APP_KEY or not settings.JPUSH_MASTER_SECRET:
            raise ImproperlyConfigured("JPush needs JPUSH_APP_KEY and JPUSH_MASTER_SECRET.")
        self.concurrency = max(1, settings.JPUSH_CONCURRENCY)
        self.client = LinliJPushClient(
            settings.JPUSH_APP_KEY, settings.JPUSH_MASTER_SECRET, timeout=settings.PUSH_HTTP_TIMEOUT,
            zone=settings.JPUSH_ZONE, base_url=settings.JPUSH_API_BASE_URL, pool=self.concurrency,
        )
        self.apns_production = settings.JPUSH_APNS_PRODUCTION
        self.distribution = settings.JPUSH_VENDOR_DISTRIBUTION
        self.system_classification = settings.JPUSH_SYSTEM_CLASSIFICATION
        self.critical_allowed = settings.APNS_CRITICAL_ALERTS
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    # --- payload --------------------------------------------------------------------------
    def _notification(self, m: PushMessage) -> dict[str, Any]:
        if m.platform == "android":
            priority = 2 if m.critical else 1 if m.priority == "high" else 0  # JPush: -2..2
            return dict(jpush.notification(android=jpush.android(alert=m.body, title=m.title, extras=dict(m.data),
                                                            priority=priority)))
        return dict(jpush.notification(ios=jpush.ios(
            alert={"title": m.title, "body": m.body}, badge=m.badge, sound=m.sound or None,
            sound_disable=not m.sound, extras=dict(m.data),
            interruption_level=interruption_level(m, critical_allowed=self.critical_allowed))))

    def _options(self, m: PushMessage, push_id: int) -> dict[str, Any]:
        options: dict[str, Any] = {
            "sendno": push_id % (2**31 - 1) or 1,  # echoed back; 0 means "none"
            "time_to_live": min(m.ttl_seconds, MAX_TTL),
            "apns_production": self.apns_production,
        }
        if m.collapse_key and m.platform == "ios":
            # Android's equivalent, override_msg_id, needs the earlier push's msg_id.
            options["apns_collapse_id"] = short_collapse_key(m.collapse_key)
        if m.priority == "high" and m.platform == "android":
            # Vendor channels (system-level, reach a phone whose app is not running).
            options["third_party_channel"] = {vendor: {"distribution": self.distribution} for vendor in VENDORS}
            if self.system_classification:
                options["classification"] = 1  # "system message": vendor-approved categories only
        return options

    def _push(self, m: PushMessage, push_id: int, ids: list[str]) -> str:
        push = self.client.create_push()
        push.platform = jpush.platform(m.platform)
        push.audience = jpush.audience(jpush.registration_id(*ids))
        push.notification = self._notification(m)
        push.options = self._options(m, push_id)
        response = push.send()
        return str(response.payload.get("msg_id", ""))

    # --- sending --------------------------------------------------------------------------
    def _send_ids(self, messages: list[PushMessage], indexes: list[int]) -> list[tuple[int, PushOutcome]]:
        """One push call for these messages (identical content)."""
        first = messages[indexes[0]]
        try:
            msg_id = self._push(first, first.push_id, [messages[i].token for i in indexes])
        except Exception as exc:  # noqa: BLE001 - every SDK failure is classified
            error = classify(exc)
            return [(i, error) for i in indexes]
        return [(i, PushResult(provider_id=msg_id)) for i in indexes]

    def _send_group(self, messages: list[PushMessage], indexes: list[int]) -> list[tuple[int, PushOutcome]]:
        results = self._send_ids(messages, indexes)
        error = results[0][1]
        if isinstance(error, PushError):
            logger.info("JPush push #%s to %d ids failed: %r", messages[indexes[0]].push_id, len(indexes), error)
            if error.code == BAD_PARAMETER and len(indexes) > 1:
                return self._bisect(messages, indexes, error)
        return results

    def _bisect(self, messages: list[PushMessage], indexes: list[int], refused: PushError) -> list[tuple[int, PushOutcome]]:
        """1003 for a group of ids: halve it until the refused ids stand alone. If something
        went through, the ids still refused alone are malformed (invalid_token); if nothing
        did, the payload is at fault (permanent). At most MAX_BISECT_CALLS extra calls."""
        budget = [MAX_BISECT_CALLS]
        alone: set[int] = set()  # refused when sent on their own

        def halve(part: list[int], known: PushOutcome) -> list[tuple[int, PushOutcome]]:
            if len(part) == 1 or budget[0] <= 0:
                return [(i, known) for i in part]
            found: list[tuple[int, PushOutcome]] = []
            middle = len(part) // 2
            for half in (part[:middle], part[middle:]):
                budget[0] -= 1
                results = self._send_ids(messages, half)
                outcome = results[0][1]
                if isinstance(outcome, PushError) and outcome.code == BAD_PARAMETER:
                    if len(half) == 1:
                        alone.add(half[0])
                    else:
                        results = halve(half, outcome)
                found.extend(results)
            return found

        results = halve(indexes, refused)
        through = any(isinstance(o, PushResult) for _, o in results)
        return [(i, PushError(o.message, o.code, invalid_token=True)
                 if through and i in alone and isinstance(o, PushError) else o) for i, o in results]

    def send_batch(self, messages: list[PushMessage]) -> list[PushOutcome]:
        if not messages:
            return []
        groups = group_messages(messages)
        outcomes: list[PushOutcome | None] = [None] * len(messages)

        if len(groups) == 1:
            results = [self._send_group(messages, groups[0])]
        else:
            results = list(self._pool().map(lambda group: self._send_group(messages, group), groups))
        for result in results:
            for i, outcome in result:
                outcomes[i] = outcome
        return [o if o is not None else PushError("JPush: no answer", "error") for o in outcomes]

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.concurrency, thread_name_prefix=f"{self.provider}-send")
            return self._executor

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)
        self.client.session.close()
