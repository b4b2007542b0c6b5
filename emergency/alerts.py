"""Alerts: issue, update and cancel (as CAP does), and the fan-out to residents.

    issue_alert(area, data, by=user, is_drill=False)      # data: see check_alert_data
    issue_alert(area, data, by=user, shelters=[school])   # names where to go (resources.Facility)
    update_alert(alert, changes, by=user)                 # a new Update referencing it
    cancel_alert(alert, by=user, note="...")              # a new Cancel referencing it
    preview_alert(area, data, is_drill=False)             # the same, unsaved (CAP preview)

The row is written in the caller's transaction; after commit ALERT_ISSUED goes to the area's
group and the fan-out starts in Celery (the life_safety queue): residents of the area's
subtree, vulnerable people first, get a notification (those with an account; a push to each
live device, collapse key per chain so an update or cancel replaces it on the phone) and an
SMS (those without a live device, or vulnerable; queue_sms_bulk, one idempotency key per
alert and resident), in chunks
(emergency.fanout). SMS of Extreme and Severe alerts go in the life-safety lane, vulnerable
recipients first (notifications/lanes.py).

The escalation ladder ("alert" in settings.ESCALATION_LADDERS, the plan step's "ladder" on
top: alert_ladder): a resident reached by push only whose notification nobody opens is texted
the same SMS (same idempotency key) sms_after_seconds later, or at once when every push to
them failed; the fan-out writes one AlertEscalation row per such resident, and
emergency/alert_escalation.py takes the rung.

An update or a cancellation replaces what the alert said: the alert's SMS still queued are
dropped (superseded, never sent) and its fan-out stops; the update goes to everyone instead,
and a cancellation (the all-clear) goes by SMS only to those whose earlier SMS of the chain
reached a carrier — nobody is told "it is over" about a warning they never got.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models, transaction
from django.utils import timezone
from graphql_relay import to_global_id

from community.consent import may_contact
from community.models import Area, Resident, User
from core.enqueue import enqueue_on_commit
from core.errors import field_error, merge_errors
from core.text import clean_text
from notifications import events
from notifications.devices import live_device_users
from notifications.ladder import Ladder, ladder_for
from notifications.lanes import is_life_safety, lane_for
from notifications.models import SmsMessage
from notifications.outbox import HANDED_OVER, SmsItem, queue_sms_bulk, supersede_messages
from notifications.realtime import publish_on_commit
from notifications.services import notify_many
from notifications.templates import normalize_language
from resources.models import Facility, FacilityKind

from .drills import covering_drill
from .error_codes import EmergencyErrorCode as Code
from .fanout import FAN_OUT_ALERT, bump
from .models import (
    Alert,
    AlertEscalation,
    CapCategory,
    CapCertainty,
    CapMsgType,
    CapResponseType,
    CapSeverity,
    CapUrgency,
    Drill,
    PlanStep,
)

MAX_EXPIRY = dt.timedelta(days=30)
TEXT_LIMITS = {"event": 100, "headline": 160, "description": 2000, "instruction": 1000,
               "headline_en": 160, "description_en": 2000, "instruction_en": 1000}
ENUMS: dict[str, type[models.TextChoices]] = {"urgency": CapUrgency, "severity": CapSeverity, "certainty": CapCertainty}
REQUIRED = ("categories", "event", "urgency", "severity", "certainty", "headline")


def _enum(value: object, choices: type[models.TextChoices], field: str) -> str:
    value = getattr(value, "value", value)
    if value not in choices.values:
        raise field_error(field, f"Use one of {', '.join(choices.values)}.", Code.INVALID)
    return str(value)


def _enum_list(values: object, choices: type[models.TextChoices], field: str, *, required: bool) -> list[str]:
    if not isinstance(values, list | tuple) or (required and not values) or len(values) > 12:
        raise field_error(field, "Give a list of values." if not required else "Give at least one value.", Code.INVALID)
    return list(dict.fromkeys(_enum(v, choices, field) for v in values))


def _moment(value: object, field: str) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        if value is not None and timezone.is_naive(value):
            raise field_error(field, "Give a time with its offset.", Code.INVALID)
        return value
    raise field_error(field, "Not a time.", Code.INVALID)


def check_alert_data(data: dict[str, Any], *, partial: bool = False, now: dt.datetime | None = None) -> dict[str, Any]:
    """Validated alert fields. `expires_in_minutes` (plans) is turned into `expires`."""
    now = now or timezone.now()
    cleaners: dict[str, Callable[[object], object]] = {
        "categories": lambda v: _enum_list(v, CapCategory, "categories", required=True),
        "response_types": lambda v: _enum_list(v, CapResponseType, "response_types", required=False),
        "onset": lambda v: _moment(v, "onset"),
        "expires": lambda v: _moment(v, "expires"),
        "expires_in_minutes": lambda v: _minutes(v),
        "send_sms": bool,
        **{name: (lambda n: lambda v: _enum(v, ENUMS[n], n))(name) for name in ENUMS},
        **{name: (lambda n, m: lambda v: clean_text(v, n, m, required=n in REQUIRED))(name, limit)
           for name, limit in TEXT_LIMITS.items()},
    }
    errors: list[DjangoValidationError] = []
    out: dict[str, Any] = {}
    if not partial:
        errors += [field_error(f, "This field is required.", Code.REQUIRED) for f in REQUIRED if data.get(f) in (None, "", [])]
    for key, value in data.items():
        if key not in cleaners:
            errors.append(field_error(key, "Unknown alert field.", Code.INVALID))
            continue
        if value is None and key not in ("onset", "expires"):
            continue
        if not partial and key in REQUIRED and value in ("", []):
            continue  # reported as required above
        try:
            out[key] = cleaners[key](value)
        except DjangoValidationError as exc:  # every field's problem, not only the first
            errors.append(exc)
    merge_errors(errors)
    minutes = out.pop("expires_in_minutes", None)
    if minutes is not None:
        out["expires"] = now + dt.timedelta(minutes=minutes)
    _check_times(out, now)
    return out


def _minutes(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 5 <= value <= MAX_EXPIRY.total_seconds() // 60:
        raise field_error("expires_in_minutes", "Between 5 minutes and 30 days.", Code.INVALID)
    return value


def _check_times(out: dict[str, Any], now: dt.datetime) -> None:
    expires, onset = out.get("expires"), out.get("onset")
    if expires is not None and (expires <= now or expires > now + MAX_EXPIRY):
        raise field_error("expires", "Must be in the future, at most 30 days ahead.", Code.INVALID)
    if expires is not None and onset is not None and onset >= expires:
        raise field_error("onset", "Must be before the expiry.", Code.INVALID)


def new_identifier(area: Area) -> str:
    return f"linli-{area.code}-{uuid.uuid4().hex}"


def check_shelters(shelters: Sequence[Facility], field: str = "shelter_ids") -> list[Facility]:
    if len(shelters) > 10 or any(s.kind != FacilityKind.SHELTER for s in shelters):
        raise field_error(field, "Name at most 10 shelters (facilities of kind SHELTER).", Code.INVALID)
    return list(dict.fromkeys(shelters))


def issue_alert(area: Area, data: dict[str, Any], *, by: User | None, is_drill: bool = False,
                plan_step: PlanStep | None = None, references: Alert | None = None, msg_type: str = CapMsgType.ALERT,
                drill: Drill | None = None, shelters: Sequence[Facility] = ()) -> Alert:
    """Write an alert and fan it out after commit; `shelters` are where residents should go.
    A drill alert is tied to `drill`, else to the drill covering the area (if any), so that
    the drill's end winds it down."""
    values = check_alert_data(data)
    shelters = check_shelters(shelters)
    if is_drill and drill is None:
        drill = covering_drill(area)
    with transaction.atomic():
        alert = Alert.objects.create(
            identifier=new_identifier(area), area=area, msg_type=msg_type, references=references,
            is_drill=is_drill, drill=drill if is_drill else None, issued_by=by, plan_step=plan_step, **values,
        )
        alert.shelters.set(shelters)
        _announce(alert)
    return alert


def preview_alert(area: Area, data: dict[str, Any], *, is_drill: bool = False) -> Alert:
    """The alert issue_alert would write, checked the same way but not saved: what a
    commander reads (as its CAP document) before sending it to every resident."""
    values = check_alert_data(data)
    return Alert(identifier=new_identifier(area), area=area, msg_type=CapMsgType.ALERT, is_drill=is_drill, **values)


def _announce(alert: Alert) -> None:
    publish_on_commit(events.area_group(alert.area_id), events.make_event(
        events.ALERT_ISSUED, alertId=alert.pk, areaId=alert.area_id, msgType=alert.msg_type,
        severity=alert.severity, isDrill=alert.is_drill, sentAt=alert.sent_at.isoformat(),
    ))
    alert_id = alert.pk
    enqueue_on_commit(FAN_OUT_ALERT, alert_id)


COPIED = ("categories", "event", "urgency", "severity", "certainty", "response_types", "headline", "description",
          "instruction", "headline_en", "description_en", "instruction_en", "onset", "expires", "send_sms")


def _follow_up(alert: Alert, values: dict[str, Any], *, by: User | None, msg_type: str) -> Alert:
    with transaction.atomic():
        now = timezone.now()
        claimed = Alert.objects.filter(pk=alert.pk, superseded_at__isnull=True).exclude(msg_type=CapMsgType.CANCEL).update(
            superseded_at=now)
        if not claimed:
            raise field_error("alert_id", "This alert was already updated or cancelled.", Code.ALERT_NOT_ACTIVE)
        alert.superseded_at = now  # the payload's `references` shows it inactive at once
        # What it said is no longer true: its texts not yet handed over go no more.
        supersede_messages(alert, reason="alert cancelled" if msg_type == CapMsgType.CANCEL else "alert updated")
        data = {name: getattr(alert, name) for name in COPIED}
        data.update(values)
        if not data.get("headline_en"):  # no English headline: no English info at all
            data.update(headline_en="", description_en="", instruction_en="")
        if data.get("expires") is not None and data["expires"] <= timezone.now():
            data["expires"] = None
        shelters = list(alert.shelters.all()) if msg_type == CapMsgType.UPDATE else []  # an all-clear sends nobody anywhere
        return issue_alert(alert.area, data, by=by, is_drill=alert.is_drill, references=alert, msg_type=msg_type,
                           drill=alert.drill, shelters=shelters)


# Each Chinese text and its English counterpart: an update that rewrites one language's text
# and not the other's drops the other's, so no language keeps saying what is no longer true.
TEXT_PAIRS = (("headline", "headline_en"), ("description", "description_en"), ("instruction", "instruction_en"))


def update_alert(alert: Alert, changes: dict[str, Any], *, by: User | None) -> Alert:
    """A new Update message replacing `alert`; `changes` are validated like an alert. Text
    given in one language and not the other clears the other (it would say the old thing):
    a Chinese-only update goes out in Chinese to everyone."""
    changes = check_alert_data(changes, partial=True)
    for zh, en in TEXT_PAIRS:
        if zh in changes and en not in changes:
            changes[en] = ""
    return _follow_up(alert, changes, by=by, msg_type=CapMsgType.UPDATE)


CATEGORY_EN = {"Geo": "geological", "Met": "weather", "Safety": "public safety", "Security": "security",
               "Rescue": "rescue", "Fire": "fire", "Health": "health", "Env": "environmental", "Transport": "transport",
               "Infra": "infrastructure", "CBRNE": "hazardous materials", "Other": ""}


def all_clear_texts(alert: Alert) -> dict[str, str]:
    """The template of a Cancel: says the alert is over, never what it warned of."""
    sent = timezone.localtime(alert.sent_at)
    kind = " ".join(w for w in (CATEGORY_EN.get(c, "") for c in alert.categories[:1]) if w)
    return {
        "headline": f"{alert.event}预警解除"[:160],
        "description": f"{alert.area.name}{sent:%m月%d日%H:%M}发布的{alert.event}预警已解除。",
        "instruction": "预警已解除。",
        "headline_en": "All clear: alert lifted",
        "description_en": f"The {kind + ' ' if kind else ''}alert issued at {sent:%H:%M} on {sent:%d %b} has been lifted.",
        "instruction_en": "This alert has been cancelled.",
    }


def cancel_alert(alert: Alert, *, by: User | None, note: str = "", headline: str = "", description: str = "",
                 headline_en: str = "", description_en: str = "", note_en: str = "") -> Alert:
    """A Cancel message: residents who were told are told it is over. Its headline and
    description are an all-clear in every language the alert had (or the commander's text,
    which may add English): never the warning's own words ("close the windows")."""
    given = check_alert_data({k: v for k, v in {"headline": headline, "description": description, "headline_en": headline_en,
                                                "description_en": description_en}.items() if v}, partial=True)
    note, note_en = clean_text(note, "note", 1000), clean_text(note_en, "note_en", 1000)
    template = all_clear_texts(alert)
    english = bool(alert.headline_en or given.get("headline_en") or given.get("description_en") or note_en)
    values: dict[str, Any] = {
        "response_types": [CapResponseType.ALL_CLEAR], "urgency": CapUrgency.PAST,
        "headline": given.get("headline") or template["headline"],
        "description": given.get("description") or template["description"],
        "instruction": note or template["instruction"],
        "headline_en": (given.get("headline_en") or template["headline_en"]) if english else "",
        "description_en": (given.get("description_en") or template["description_en"]) if english else "",
        "instruction_en": (note_en or template["instruction_en"]) if english else "",
    }
    return _follow_up(alert, values, by=by, msg_type=CapMsgType.CANCEL)


# --- fan-out ----------------------------------------------------------------------------------
PHASES = ("vulnerable", "others")
PREFIX = {CapMsgType.ALERT: ("", ""), CapMsgType.UPDATE: ("【更新】", "UPDATE: "), CapMsgType.CANCEL: ("【解除】", "CANCELLED: ")}


def alert_chunk(alert: Alert) -> bool:
    """One chunk of the fan-out (see emergency.fanout.drive): vulnerable residents first.
    An alert replaced by an update or a cancellation, or expired, is not fanned out further."""
    if alert.superseded_at is not None or (alert.expires is not None and alert.expires <= timezone.now()):
        return True  # replaced, cancelled or over: the rest are not told something no longer true
    phase = alert.fanout_phase or PHASES[0]
    residents = list(
        Resident.objects.in_area(alert.area).filter(is_vulnerable=phase == "vulnerable", pk__gt=alert.fanout_cursor)
        .select_related("user").order_by("pk")[: settings.EMERGENCY_FANOUT_CHUNK]
    )
    if not residents:
        if phase == PHASES[-1]:
            return True
        alert.fanout_phase, alert.fanout_cursor = PHASES[PHASES.index(phase) + 1], 0
        return False
    alert.fanout_phase = phase
    shelters = list(alert.shelters.all())  # once per chunk, not per resident
    # Reachable by app = a live device (notifications/devices.py), not an account: everyone
    # with an account gets the notification in their history, only live devices are woken,
    # and whoever has none is texted.
    live = live_device_users([r.user_id for r in residents if r.user_id is not None and r.uses_app])
    _push(alert, [r.user for r in residents if r.uses_app and r.user is not None], shelters,
          vulnerable={r.user_id for r in residents if r.is_vulnerable and r.user_id})
    # SMS now to those without a live device (and beside the push to those the ladder texts
    # at once: the vulnerable); the others pushed are texted later if nobody opens it.
    ladder = alert_ladder(alert)
    textable = textable_residents(alert, residents)
    later = [r for r in textable if r.user_id in live and not ladder.sms_at_once(is_vulnerable=r.is_vulnerable)]
    waiting = {r.pk for r in later}
    sms = [alert_sms(alert, r, shelters) for r in textable if r.pk not in waiting]
    queue_sms_bulk(sms)
    _watch_pushes(alert, later)
    bump(alert.fanout_counts, residents=len(residents), pushed=sum(r.user_id in live for r in residents), sms=len(sms),
         unreachable=sum(1 for r in residents if r.user_id not in live and not r.sms_phone),
         not_consented=_not_consented(alert, residents) if alert.send_sms else 0)
    alert.fanout_cursor = residents[-1].pk
    return False


def _watch_pushes(alert: Alert, residents: list[Resident]) -> None:
    """The ladder's rows for residents reached by push only (emergency/alert_escalation.py).
    A Cancel's all-clear is not escalated: it is no warning, and replaces the alert's
    notification on the phone (collapse key)."""
    if not residents or not alert.is_active():
        return
    now = timezone.now()
    AlertEscalation.objects.bulk_create(
        [AlertEscalation(alert=alert, resident=r, user_id=r.user_id, pushed_at=now)
         for r in residents if r.user_id is not None],
        batch_size=500, ignore_conflicts=True)


def alert_ladder(alert: Alert) -> Ladder:
    """settings.ESCALATION_LADDERS["alert"], with the "ladder" of the plan step that issued
    the chain on top (an update or cancel follows its first alert's step)."""
    step_id = alert.plan_step_id
    if step_id is None:
        step_id = next((step for _, step in earlier_in_chain(alert) if step is not None), None)
    params = PlanStep.objects.filter(pk=step_id).values_list("params", flat=True).first() if step_id else None
    override = (params or {}).get("ladder")
    return ladder_for("alert", override if isinstance(override, dict) else None)


def shelters_text(shelters: Sequence[Facility], language: str) -> str:
    """"Go to: A (address); B" in the resident's language; empty when none are named."""
    if not shelters:
        return ""
    english = normalize_language(language) == "en"
    names = [f"{(s.name_en if english and s.name_en else s.name)}{f'（{s.address}）' if s.address and not english else ''}"
             for s in shelters]
    return ("Shelters: " + "; ".join(names) + ".") if english else ("避难场所：" + "；".join(names) + "。")


def texts_for(alert: Alert, language: str, shelters: Sequence[Facility] | None = None) -> dict[str, str]:
    english = normalize_language(language) == "en" and bool(alert.headline_en)
    zh_prefix, en_prefix = PREFIX[CapMsgType(alert.msg_type)]
    headline = alert.headline_en if english else alert.headline
    description = alert.description_en if english else alert.description
    instruction = alert.instruction_en if english else alert.instruction
    where = shelters_text(list(alert.shelters.all()) if shelters is None else shelters, language)
    instruction = " ".join(t for t in (instruction, where) if t)
    body = "\n".join(t for t in (description, instruction) if t) or headline
    return {"prefix": en_prefix if normalize_language(language) == "en" else zh_prefix, "headline": headline,
            "instruction": instruction, "body": body}


def collapse_key(alert: Alert) -> str:
    """One key per chain of messages (alert, its updates, its cancel): on the phone an update
    or a cancel replaces the notification of the alert it follows."""
    earlier = earlier_in_chain(alert)
    return f"alert-{earlier[-1][0] if earlier else alert.pk}"


def _push(alert: Alert, users: list[User], shelters: Sequence[Facility], *, vulnerable: set[int] | None = None) -> None:
    by_language: dict[str, list[User]] = {}
    for user in users:
        by_language.setdefault(normalize_language(user.preferred_language), []).append(user)
    # IDs as the API takes them back (global IDs), values as its enums spell them.
    data = {"alertId": to_global_id("Alert", alert.pk), "msgType": str(alert.msg_type).upper(),
            "severity": str(alert.severity).upper(), "areaId": to_global_id("Area", alert.area_id)}
    key = collapse_key(alert)
    for language, group in by_language.items():
        notify_many(group, kind="alert", template="emergency.alert.push", context=texts_for(alert, language, shelters),
                    data=data, related=alert, is_drill=alert.is_drill, lane=lane_for("alert", severity=alert.severity),
                    vulnerable_users=vulnerable, collapse_key=key)


def textable_residents(alert: Alert, residents: list[Resident]) -> list[Resident]:
    """Of `residents`, those the alert's SMS may go to: the alert sends SMS, they have a
    number, and a life-safety alert is an emergency and goes to everyone, anything else (a
    Moderate warning, any drill) only to residents who consented to be contacted
    (community.consent); a cancellation only to those whose SMS of the chain reached a carrier."""
    if not alert.send_sms:
        return []
    emergency = is_life_safety(lane_for("alert", severity=alert.severity)) and not alert.is_drill
    told = _told(alert, residents) if alert.msg_type == CapMsgType.CANCEL else None
    return [r for r in residents if r.sms_phone and may_contact(r, emergency=emergency)
            and (told is None or r.pk in told)]


def alert_sms(alert: Alert, resident: Resident, shelters: Sequence[Facility]) -> SmsItem:
    """The alert's SMS to one resident; its key is one per alert and resident, whichever rung
    sends it (fan-out or ladder), so nobody is texted an alert twice."""
    return SmsItem(
        template="emergency.alert.sms", context=texts_for(alert, resident.language, shelters), purpose="alert",
        idempotency_key=f"alert:{alert.pk}:{resident.pk}", phone=resident.sms_phone, language=resident.language,
        related=alert, is_drill=alert.is_drill, lane=lane_for("alert", severity=alert.severity),
        is_vulnerable=resident.is_vulnerable,
    )


def _not_consented(alert: Alert, residents: list[Resident]) -> int:
    """Residents an SMS would have gone to, held back because this alert is no emergency and
    they did not consent to be contacted (community.consent)."""
    if is_life_safety(lane_for("alert", severity=alert.severity)) and not alert.is_drill:
        return 0
    return sum(1 for r in residents if r.sms_phone and not (r.uses_app and not r.is_vulnerable) and not r.consent_to_contact)


MAX_CHAIN = 50


def earlier_in_chain(alert: Alert) -> list[tuple[int, int | None]]:
    """The alerts this one follows (an update's or cancel's `references`, and theirs), newest
    first, the chain's first alert last: (id, plan step id) each; at most MAX_CHAIN."""
    earlier: list[tuple[int, int | None]] = []
    current = alert.references_id
    while current is not None and len(earlier) < MAX_CHAIN:
        row = Alert.objects.filter(pk=current).values_list("plan_step_id", "references_id").first()
        if row is None:
            break
        earlier.append((current, row[0]))
        current = row[1]
    return earlier


def _told(alert: Alert, residents: list[Resident]) -> set[int]:
    """Residents whose SMS about an earlier alert of this chain reached a carrier."""
    earlier = [pk for pk, _ in earlier_in_chain(alert)]
    keys = {f"alert:{a}:{r.pk}": r.pk for a in earlier for r in residents}
    told: set[int] = set()
    names = list(keys)
    for start in range(0, len(names), 900):
        sent = SmsMessage.objects.filter(idempotency_key__in=names[start:start + 900], status__in=HANDED_OVER)
        told.update(keys[key] for key in sent.values_list("idempotency_key", flat=True))
    return told
