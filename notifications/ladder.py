"""The escalation ladder: how a person is reached when the first way does not work.

    ladder = ladder_for("safety_check", override=step.params.get("ladder"))
    ladder = ladder_for("alert", override=...)   # alerts: push -> SMS only (no voice rung)
    ladder.sms_after_seconds      # push not acknowledged for this long -> SMS
    ladder.voice_after_seconds    # no answer this long after the first rung -> voice call
    ladder.wants_voice(is_vulnerable=True)

Rungs, in order (settings.ESCALATION_LADDERS, one entry per message class; a response plan's
SAFETY_CHECK or ALERT step may override any key its class has with "ladder": {...}):

  1. PUSH   to each live device (notifications/devices.py), if the person has one;
  2. SMS    after sms_after_seconds without the push acknowledged (acknowledgeNotification),
            at once when there is no live device or every push failed, and at once beside
            the push for those `sms_at_once_for` names ("vulnerable" by default, or "none");
  3. VOICE  after voice_after_seconds without an answer, for those `voice_for` names
            ("vulnerable", "all", "none"; 0 turns the rung off), at once for people marked
            prefers_voice (who cannot read an SMS) instead of the SMS;
  4. VISIT  the welfare visit after the check's own silence time (welfare_after_minutes),
            for the vulnerable (emergency/safety_answers.py).

An alert ("alert") climbs rungs 1 and 2 only: a call reading out a warning is not built, so
its ladder has no voice keys (an override naming one is refused) and no visit
(emergency/alert_escalation.py).

Each rung follows committed rows (the sweep reads the status rows) and is idempotent (the SMS
and the call carry the same idempotency key however often the sweep runs). An answer, or the
check closing, supersedes what has not gone out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings

RUNGS = ("PUSH", "SMS", "VOICE", "VISIT")
VOICE_FOR = ("vulnerable", "all", "none")
SMS_AT_ONCE_FOR = ("vulnerable", "none")
KEYS = ("sms_after_seconds", "voice_after_seconds", "voice_for", "sms_at_once_for")
MAX_SECONDS = 24 * 3600
DEFAULTS = {"sms_after_seconds": 180, "voice_after_seconds": 600, "voice_for": "vulnerable",
            "sms_at_once_for": "vulnerable"}
# Message classes without a voice rung: only these keys, and voice is off whatever settings say.
NO_VOICE = {"alert": ("sms_after_seconds", "sms_at_once_for")}
VOICE_OFF = {"voice_after_seconds": 0, "voice_for": "none"}


@dataclass(frozen=True)
class Ladder:
    sms_after_seconds: int
    voice_after_seconds: int
    voice_for: str
    sms_at_once_for: str = "vulnerable"

    def sms_at_once(self, *, is_vulnerable: bool) -> bool:
        """Texted at the same time as the push (belt and braces for the vulnerable)."""
        return self.sms_at_once_for == "vulnerable" and is_vulnerable

    def wants_voice(self, *, is_vulnerable: bool) -> bool:
        if self.voice_after_seconds <= 0 or self.voice_for == "none":
            return False
        return self.voice_for == "all" or is_vulnerable


def ladder_problems(value: object, message_class: str = "safety_check") -> dict[str, str]:
    """What is wrong with a ladder override of `message_class` (key -> message); empty when
    it is fine."""
    allowed = NO_VOICE.get(message_class, KEYS)
    if not isinstance(value, Mapping):
        return {"": f"An object with any of {', '.join(allowed)}."}
    problems: dict[str, str] = {}
    for key in set(value) - set(KEYS):
        problems[str(key)] = "Not a ladder setting."
    for key in (set(value) & set(KEYS)) - set(allowed):
        problems[str(key)] = "This message class has no voice rung."
    for key in ("sms_after_seconds", "voice_after_seconds"):
        if key in value:
            n = value[key]
            if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= MAX_SECONDS:
                problems[key] = f"Whole seconds between 0 and {MAX_SECONDS}."
    if "voice_for" in value and value["voice_for"] not in VOICE_FOR:
        problems["voice_for"] = "vulnerable, all or none."
    if "sms_at_once_for" in value and value["sms_at_once_for"] not in SMS_AT_ONCE_FOR:
        problems["sms_at_once_for"] = "vulnerable or none."
    return problems


def ladder_for(message_class: str, override: Mapping[str, object] | None = None) -> Ladder:
    """The ladder of `message_class` from settings, with a plan's valid override on top."""
    table = getattr(settings, "ESCALATION_LADDERS", None) or {}
    values: dict[str, object] = {**DEFAULTS, **(table.get(message_class) or {})}
    if override and not ladder_problems(override, message_class):
        values.update(override)
    if message_class in NO_VOICE:
        values.update(VOICE_OFF)
    return Ladder(sms_after_seconds=int(values["sms_after_seconds"]),  # type: ignore[call-overload]
                  voice_after_seconds=int(values["voice_after_seconds"]),  # type: ignore[call-overload]
                  voice_for=str(values["voice_for"]), sms_at_once_for=str(values["sms_at_once_for"]))
