"""The reply router: what an inbound SMS means and who handles it.

    register_reply_handler("offer", handle_offer_reply)   # handler(prompt, reply) -> text | None

An inbound message is matched by the sender's phone (not by user: residents registered by
staff may have no account) to that phone's OPEN prompts: outbox messages sent with
expects_reply=True, handed to the provider (a prompt still queued can't have been seen), not
yet answered (or of a purpose that takes a changed answer, like a safety check) and not past
reply_until. A reply code picks one prompt; without a code the only prompt still waiting is
meant (else the only one open); with several the sender is asked which.
The handler registered for the prompt's purpose runs inside the transaction that marks the
prompt answered and the inbound message processed, so it runs exactly once per MessageSid.

Keywords are whole-message, single-word (as Twilio does): STOP/退订 opt out, START/订阅
opt back in (both honoured even from a sender over the flood limit), HELP/帮助 explains.
"STOP PLEASE" is an ordinary reply.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from . import ratelimit
from .consent import opt_in, opt_out
from .models import InboundSms, SmsMessage, SmsStatus
from .outbox import REANSWERABLE_PURPOSES, answerable_prompts_q, queue_sms
from .replies import Reply, keyword, normalize, parse_reply
from .templates import normalize_language

logger = logging.getLogger(__name__)

Handler = Callable[[SmsMessage, Reply], "str | None"]
_handlers: dict[str, tuple[Handler, bool]] = {}
# purpose -> still_waiting(prompt): False once the thing asked about was settled another way
# (the offer answered in the app or withdrawn, the safety check answered by a neighbour).
_waiting_checks: dict[str, Callable[[SmsMessage], bool]] = {}


def register_reply_handler(purpose: str, handler: Handler, *, wants_unknown: bool = False,
                           reanswerable: bool = False, still_waiting: Callable[[SmsMessage], bool] | None = None) -> None:
    """handler(prompt, reply) runs for replies to prompts of `purpose`; it returns the text to
    send back (in the person's language) or None. With wants_unknown the handler also gets
    replies whose intent is "unknown" (free text); otherwise the router answers those. A
    reanswerable prompt keeps taking answers until its reply_until (the latest one counts);
    others take one."""

    _handlers[purpose] = (handler, wants_unknown)
    if still_waiting is not None:
        _waiting_checks[purpose] = still_waiting
    else:
        _waiting_checks.pop(purpose, None)
    if reanswerable:
        REANSWERABLE_PURPOSES.add(purpose)
    else:
        REANSWERABLE_PURPOSES.discard(purpose)


# --- processing -----------------------------------------------------------------------------
def process_inbound_sms(inbound_id: int) -> str:
    """Route one stored inbound SMS; returns the outcome. Safe to run twice."""
    with transaction.atomic():
        inbound = InboundSms.objects.select_for_update().filter(pk=inbound_id).first()
        if inbound is None or inbound.processed_at is not None:
            return "already_processed"
        outcome = _route(inbound)
        inbound.outcome = outcome
        inbound.processed_at = timezone.now()
        inbound.save(update_fields=["outcome", "processed_at", "intent", "prompt"])
    return outcome


def _route(inbound: InboundSms) -> str:
    word = keyword(inbound.body)
    if word in ("stop", "start"):  # consent is honoured whatever else the sender has sent
        return _keyword(inbound, word)
    limit = settings.SMS_INBOUND_PER_SENDER_PER_HOUR
    if not ratelimit.hit(f"sms:inbound:{inbound.phone}", limit=limit, period=3600).allowed:
        logger.warning("inbound SMS flood from one sender; message %s stored, not answered", inbound.pk)
        return "rate_limited"
    if word is not None:
        return _keyword(inbound, word)
    reply = parse_reply(inbound.body)
    inbound.intent = reply.intent
    prompt, problem = _find_prompt(inbound.phone, reply.code)
    if prompt is None:
        _answer(inbound, problem, {"codes": _open_codes_text(inbound.phone)},
                language=_language_for(inbound.phone, inbound.body))
        return problem
    inbound.prompt = prompt
    return _answer_prompt(inbound, prompt, reply)


def _keyword(inbound: InboundSms, word: str) -> str:
    language = _language_for(inbound.phone, inbound.body)
    if word == "stop":
        # No reply: the provider confirms STOP itself, and nothing more may be sent.
        opt_out(inbound.phone, source="keyword", keyword=normalize(inbound.body)[:32])
        return "opted_out"
    if word == "start":
        opt_in(inbound.phone)
        _answer(inbound, "sms.start", {}, language=language)
        return "opted_in"

    # Someone asked to answer (a safety check above all) who texts HELP is told how to answer.
    codes = list(SmsMessage.objects.filter(answerable_prompts_q(), phone=inbound.phone)
                 .values_list("reply_code", flat=True)[:5])
    if codes:
        shown = f"（多条时加编号：{' '.join(codes)}）" if language != "en" else f" (with the code if several: {' '.join(codes)})"
        _answer(inbound, "sms.help.pending", {"codes": shown if len(codes) > 1 else ""}, language=language)
    else:
        _answer(inbound, "sms.help", {}, language=language)
    return "help"


def _find_prompt(phone: str, code: str | None) -> tuple[SmsMessage | None, str]:
    prompts = _settled_elsewhere(list(SmsMessage.objects.filter(answerable_prompts_q(), phone=phone)
                                      .order_by("-created_at", "-id")[:20]))
    if code is not None:
        matching = [p for p in prompts if p.reply_code == code]
        if matching:
            return matching[0], ""
        if _recently_closed(phone, code):
            return None, "sms.reply.closed"  # "the time to answer has passed", not "no such code"
        return None, "sms.reply.unknown_code" if prompts else "sms.reply.nothing_pending"
    # Without a code: the one prompt still waiting; else the one that still takes a changed
    # answer (a safety check answered "1", now "2"); else ask which.
    waiting = [p for p in prompts if p.answered_at is None]
    candidates = waiting or prompts
    if len(candidates) == 1:
        return candidates[0], ""
    return None, "sms.reply.which" if prompts else "sms.reply.nothing_pending"


def _recently_closed(phone: str, code: str) -> bool:
    """A prompt with this code was sent to this phone in the last two days and is closed now."""
    since = timezone.now() - timedelta(days=2)
    return SmsMessage.objects.filter(phone=phone, expects_reply=True, reply_code=code, created_at__gte=since).exists()


def _settled_elsewhere(prompts: list[SmsMessage]) -> list[SmsMessage]:
    """Prompts whose question was settled outside SMS are closed now (a later "yes" must not
    be taken for them); a reanswerable one stays, as answered."""

    kept = []
    now = timezone.now()
    for prompt in prompts:
        check = _waiting_checks.get(prompt.purpose)
        if prompt.answered_at is None and check is not None and not check(prompt):
            SmsMessage.objects.filter(pk=prompt.pk, answered_at__isnull=True).update(answered_at=now)
            prompt.answered_at = now
            if prompt.purpose not in REANSWERABLE_PURPOSES:
                continue
        kept.append(prompt)
    return kept


def _answer_prompt(inbound: InboundSms, prompt: SmsMessage, reply: Reply) -> str:
    handler, wants_unknown = _handlers.get(prompt.purpose, (None, False))
    if reply.intent == "unknown" and not wants_unknown:
        _answer(inbound, "sms.reply.unrecognised", {"code": prompt.reply_code}, language=prompt.language, prompt=prompt)
        return "unrecognised"
    now = timezone.now()

    unclaimed = {} if prompt.purpose in REANSWERABLE_PURPOSES else {"answered_at__isnull": True}
    claimed = SmsMessage.objects.filter(pk=prompt.pk, **unclaimed).update(answered_at=now, answer_intent=reply.intent)
    if not claimed:
        _answer(inbound, "sms.reply.already_answered", {}, language=prompt.language, prompt=prompt)
        return "already_answered"
    prompt.answered_at, prompt.answer_intent = now, reply.intent
    if handler is None:
        logger.error("no reply handler for purpose %r; reply to SMS %s acknowledged only", prompt.purpose, prompt.pk)
        _answer(inbound, "sms.reply.received", {}, language=prompt.language, prompt=prompt)
        return "answered"
    text = handler(prompt, reply)
    if text:
        _answer(inbound, "sms.text", {"text": text}, language=prompt.language, prompt=prompt)
    return "answered"


def _answer(inbound: InboundSms, template: str, context: Mapping[str, object], *, language: str, prompt: SmsMessage | None = None) -> None:
    """Reply through the outbox; keyed on the MessageSid so a replay never answers twice."""

    queue_sms(
        template=template, context=context, purpose="sms_reply", idempotency_key=f"sms-reply:{inbound.message_sid}",
        phone=inbound.phone, related=prompt, language=language, is_drill=bool(prompt and prompt.is_drill),
    )


def _open_codes_text(phone: str) -> str:
    codes = SmsMessage.objects.filter(answerable_prompts_q(), phone=phone).order_by("created_at").values_list("reply_code", flat=True)[:5]
    return " ".join(codes)


def _language_for(phone: str, body: str = "") -> str:
    language = get_user_model().objects.filter(phone=phone).values_list("preferred_language", flat=True).first()
    if language:
        return normalize_language(language)
    last = SmsMessage.objects.filter(phone=phone).exclude(status=SmsStatus.REFUSED).order_by("-id").values_list("language", flat=True).first()
    if last:
        return normalize_language(last)
    return "en" if body and body.strip().isascii() else "zh-hans"
