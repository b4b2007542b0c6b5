"""What every voice-call transport looks like (one small class per provider, like SMS).

A call speaks a script and, when `gather` is set, asks for one key: 1 = safe (平安),
2 = need help (需要帮助). What the resident pressed comes back as CallEvents parsed from the
provider's webhooks; an event with digits "" means nobody pressed a key, which is NOT an
answer. Any other key ("9") is reported as pressed: the caller of the transport decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from django.conf import settings
from django.http import HttpRequest

KEY_SAFE = "1"
KEY_HELP = "2"

# Normalised call states, from Twilio's vocabulary (the wider of the two providers').
RINGING = "ringing"
ANSWERED = "answered"
COMPLETED = "completed"
BUSY = "busy"
NO_ANSWER = "no-answer"
FAILED = "failed"
CANCELED = "canceled"
STATUSES = frozenset({RINGING, ANSWERED, COMPLETED, BUSY, NO_ANSWER, FAILED, CANCELED})
# A call in one of these states is over; only `completed` ones were picked up.
FINAL_STATUSES = frozenset({COMPLETED, BUSY, NO_ANSWER, FAILED, CANCELED})

LANGUAGES = ("zh-hans", "en")
E164 = re.compile(r"^\+[1-9]\d{6,14}$")


@dataclass(frozen=True)
class OutgoingCall:
    call_id: int  # our outbox row id; travels as OutId / in callback URLs so events map back
    to: str  # E.164
    language: str  # "zh-hans" | "en"
    script: str  # a registered voice script, e.g. "emergency.safety.voice"
    params: dict[str, str] = field(default_factory=dict)  # e.g. {"area": "湖滨街道", "title": "台风报平安"}
    gather: bool = True  # ask for one key (1 safe / 2 need help)
    repeat: int = 2  # how many times the question is spoken before giving up (1-3)
    is_drill: bool = False  # a drill says so first ("这是一次演练。")


@dataclass(frozen=True)
class CallResult:
    sid: str  # the provider's call id


class VoiceError(Exception):
    """A call that could not be placed.

    permanent: placing it again cannot help (invalid number, region not enabled, template
        missing): record it and move on to the next rung of the ladder.
    maybe_placed: the provider may have accepted the call anyway (time-out, 5xx), so before
        placing it again ask the provider (find_placed) or wait for its callbacks.
    """

    def __init__(self, message: str, code: str = "", permanent: bool = False, *, maybe_placed: bool = False):
        super().__init__(message)
        self.message = message
        self.code = str(code or "")
        self.permanent = permanent
        self.maybe_placed = maybe_placed

    def __repr__(self) -> str:
        return (f"VoiceError({self.message!r}, code={self.code!r}, permanent={self.permanent}, "
                f"maybe_placed={self.maybe_placed})")


CallbackErrorCode = Literal["bad_signature", "malformed", "too_large", "unsupported"]
_HTTP_STATUS: dict[str, int] = {"bad_signature": 403, "malformed": 400, "too_large": 413, "unsupported": 404}


class CallbackError(Exception):
    """A webhook request that must not be believed: unsigned or forged (bad_signature), not
    what the provider sends (malformed), over the size limit (too_large), or sent to a
    transport that takes no webhooks (unsupported). `http_status` is what to answer."""

    def __init__(self, code: CallbackErrorCode, message: str = ""):
        super().__init__(message or code)
        self.code = code
        self.message = message or code
        self.http_status = _HTTP_STATUS[code]

    def __repr__(self) -> str:
        return f"CallbackError({self.code!r}, {self.message!r})"


@dataclass(frozen=True)
class CallEvent:
    """One thing the provider told us about a call, normalised."""

    sid: str
    call_id: int | None
    status: str  # one of STATUSES
    digits: str = ""  # the key pressed, if any ("" = nobody pressed a key: NOT an answer)
    duration_seconds: int | None = None
    error_code: str = ""
    at: datetime | None = None

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def answer(self) -> Literal["safe", "help"] | None:
        """What a safety-check key means; None for no key or any other key."""
        return {KEY_SAFE: "safe", KEY_HELP: "help"}.get(self.digits)  # type: ignore[return-value]


@dataclass(frozen=True)
class Ack:
    """What a webhook view answers once the events are recorded."""

    status: int
    content_type: str
    body: str


class VoiceTransport:
    """Places one call. Subclasses implement place_call() and parse_event(); find_placed()
    when the provider can be asked about calls it has."""

    name = "base"

    def place_call(self, call: OutgoingCall) -> CallResult:
        raise NotImplementedError

    def parse_event(self, request: HttpRequest) -> list[CallEvent]:
        """The events in one webhook request. Raises CallbackError on anything that is not an
        authentic, well-formed provider request - never another exception."""
        raise CallbackError("unsupported", f"the {self.name} voice transport takes no webhooks")

    def find_placed(self, *, to: str, since: datetime, exclude_sids: set[str]) -> CallResult | None:
        """A call to `to` placed since `since` whose sid is not in `exclude_sids` (reconciling
        after a time-out). None when there is none, or when this transport cannot tell."""
        return None

    def acknowledgement(self) -> Ack:
        """The answer to a webhook whose events were taken."""
        return Ack(204, "text/plain", "")


# --- shared validation -------------------------------------------------------------------------
def check_call(call: OutgoingCall) -> None:
    """Refuse, as permanent, a call no provider could place."""
    if not E164.match(call.to or ""):
        raise VoiceError("the number is not in E.164 form", "invalid_number", permanent=True)
    if not 1 <= call.repeat <= 3:
        raise VoiceError("repeat must be 1 to 3", "invalid_repeat", permanent=True)
    if call.language not in LANGUAGES:
        raise VoiceError(f"unknown language {call.language!r}", "invalid_language", permanent=True)
    if call.call_id < 1:
        raise VoiceError("call_id must be a positive outbox id", "invalid_call_id", permanent=True)


def check_body_size(request: HttpRequest) -> bytes:
    """The raw body, refusing oversize ones before reading more than the limit."""
    limit = settings.VOICE_WEBHOOK_MAX_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise CallbackError("malformed", "bad Content-Length") from None
    if declared > limit:
        raise CallbackError("too_large", f"body over {limit} bytes")
    try:
        body = request.body
    except Exception as exc:  # noqa: BLE001 - RequestDataTooBig, a dropped connection, ...: a bad request
        raise CallbackError("malformed", f"unreadable body: {type(exc).__name__}") from None
    if len(body) > limit:
        raise CallbackError("too_large", f"body over {limit} bytes")
    return body


_UNSAFE_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def clean_field(value: object, *, pattern: re.Pattern[str], name: str, required: bool = True) -> str:
    """A provider field as a plain string matching `pattern`, or CallbackError."""
    if value is None or value == "":
        if required:
            raise CallbackError("malformed", f"{name} is missing")
        return ""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise CallbackError("malformed", f"{name} is not a string")
    text = str(value)
    if _UNSAFE_TEXT.search(text) or not pattern.fullmatch(text):
        raise CallbackError("malformed", f"{name} is not valid")
    return text
