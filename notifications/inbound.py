"""The reply router: what an inbound SMS means and who handles it.

    register_reply_handler("offer", handle_offer_reply)   # handler(prompt, reply) -> text | None

An inbound message is matched by the sender's phone (not by user: residents registered by
staff may have no account) to that phone's OPEN prompts: outbox messages sent with
expects_reply=True, handed to the provider (a prompt still queued can't have been seen), not
yet answered (or of a purpose that takes a changed answer, like a safety check) and not past
reply_until. A reply code picks one prompt. A bare answer ("1", "是") answers only a prompt
the person could have seen: delivered (by the carrier's receipt) before the reply, or handed
over at least SMS_BARE_REPLY_MIN_AGE_SECONDS before it — a "1" resent by a phone must not
accept an offer that left ten seconds ago. Among those, the only prompt still waiting is
meant (else the only one open); with several, or none seen yet, the sender is asked which.
The handler registered for the prompt's purpose runs inside the transaction that marks the
prompt answered and the inbound message processed, so it runs exactly once per MessageSid.

Keywords are whole-message (as Twilio does): STOP/退订/T/TD/回复TD退订 opt out, START/订阅
opt back in (both honoured even from a sender over the flood limit), HELP/帮助 explains.
"STOP PLEASE" is an ordinary reply. Twilio confirms an opt-out itself; for the domestic
providers, which do not, the router sends the confirmation (in Chinese by default).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from . import ratelimit, unreachable
from .consent import opt_in, opt_out
from .models import InboundSms, SmsMessage, SmsStatus
from .outbox import REANSWERABLE_PURPOSES, answerable_prompts_q, queue_sms
from .replies import Reply, keyword, normalize, parse_reply
from .templates import normalize_language

logger = logging.getLogger(__name__)

Handler = Callable[[SmsMessage, Reply], "str | None"]
_handlers: dict[str, tuple[Handler, bool]] = {}
_cancel_handlers: set[str] = set()  # purposes whose handler takes intent "cancel" (取消)
# Providers that confirm an opt-out to the sender themselves (Twilio's Advanced Opt-Out);
# for the others the router sends the confirmation.
PROVIDERS_CONFIRMING_OPT_OUT = frozenset({"twilio"})
# purpose -> still_waiting(prompt): False once the thing asked about was settled another way
# (the offer answered in the app or withdrawn, the safety check answered by a neighbour).
_waiting_checks: dict[str, Callable[[SmsMessage], bool]] = {}


def register_reply_handler(purpose: str, handler: Handler, *, wants_unknown: bool = False,
                           reanswerable: bool = False, still_waiting: Callable[[SmsMessage], bool] | None = None,
                           wants_cancel: bool = False) -> None:
    """handler(prompt, reply) runs for replies to prompts of `purpose`; it returns the text to
    send back (in the person's language) or None. With wants_unknown the handler also gets
    replies whose intent is "unknown" (free text); otherwise the router answers those; with
    wants_cancel it gets intent "cancel" (取消), otherwise that is not understood either. A
    reanswerable prompt keeps taking answers until its reply_until (the latest one counts);
    others take one."""

    _handlers[purpose] = (handler, wants_unknown)
    if wants_cancel:
        _cancel_handlers.add(purpose)
    else:
        _cancel_handlers.discard(purpose)
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
    unreachable.note_reachable(inbound.phone)  # it texted us: the number reaches a handset
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
    prompt, problem = _find_prompt(inbound.phone, reply.code, received_at=inbound.received_at)
    if prompt is None:
        _answer(inbound, problem, {"codes": _open_codes_text(inbound.phone)},
                language=_language_for(inbound.phone, inbound.body))
        return problem
    inbound.prompt = prompt
    return _answer_prompt(inbound, prompt, reply)


def _keyword(inbound: InboundSms, word: str) -> str:
    language = _language_for(inbound.phone, inbound.body)
    if word == "stop":
        # Nothing more may be sent but the confirmation, which Twilio sends itself.
        opt_out(inbound.phone, source="keyword", keyword=normalize(inbound.body)[:32])
        if inbound.provider not in PROVIDERS_CONFIRMING_OPT_OUT:
            # "TD" is a Chinese habit, not a sign of English: the person's own language, else Chinese.
            queue_sms(template="sms.stop", context={}, purpose="sms_opt_out_confirmation",
                      idempotency_key=f"sms-stop:{inbound.message_sid}", phone=inbound.phone,
                      language=_language_for(inbound.phone))
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


def _find_prompt(phone: str, code: str | None, *, received_at: datetime) -> tuple[SmsMessage | None, str]:
    prompts = _settled_elsewhere(list(SmsMessage.objects.filter(answerable_prompts_q(), phone=phone)
                                      .order_by("-created_at", "-id")[:20]))
    if code is not None:  # a code proves the message was read
        matching = [p for p in prompts if p.reply_code == code]
        if matching:
            return matching[0], ""
        if _recently_closed(phone, code):
            return None, "sms.reply.closed"  # "the time to answer has passed", not "no such code"
        return None, "sms.reply.unknown_code" if prompts else "sms.reply.nothing_pending"
    # Without a code: among the prompts the person could have seen, the one still waiting;
    # else the one that still takes a changed answer (a safety check answered "1", now "2");
    # else ask which.
    seen = [p for p in prompts if could_have_seen(p, received_at)]
    waiting = [p for p in seen if p.answered_at is None]
    candidates = waiting or seen
    if len(candidates) == 1:
        return candidates[0], ""
    return None, "sms.reply.which" if prompts else "sms.reply.nothing_pending"


def could_have_seen(prompt: SmsMessage, received_at: datetime) -> bool:
    """Delivered before the reply came, or handed over long enough before it."""
    if prompt.status == SmsStatus.DELIVERED and prompt.status_changed_at <= received_at:
        return True
    handed = prompt.sent_at or prompt.claimed_at
    age = timedelta(seconds=settings.SMS_BARE_REPLY_MIN_AGE_SECONDS)
    return handed is not None and handed <= received_at - age


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
    if (reply.intent == "unknown" and not wants_unknown) or (reply.intent == "cancel" and prompt.purpose not in _cancel_handlers):
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
