"""Linli templates -> the pre-approved templates of domestic SMS providers (Aliyun, Tencent).

Mainland carriers only deliver texts from templates a provider approved beforehand: a sign
name (签名, shown as 【邻里】), a template code and variables. Each Linli template that may go
out by SMS therefore needs one approved template per provider, per language (a template has
one text), and a second one for drills, whose text carries the drill marker (演练) in its fixed
part: a drill is never sent without it, and variables may not carry 【】.

Shape (settings.SMS_PROVIDER_TEMPLATES, from the env JSON ALIYUN_SMS_TEMPLATES and
TENCENT_SMS_TEMPLATES, merged entry by entry and variant by variant over DEFAULT_TEMPLATES):

    {"emergency.safety.sms": {
        "params": ["title", "code"],       # Linli variables in the provider template's order
        "zh-hans": "SMS_2000001",          # variant -> approved template code (Tencent: its ID)
        "en": "SMS_2000002",
        "zh-hans.drill": "SMS_2000003",
        "en.drill": {"template": "SMS_2000004", "sign": "邻里"},   # a variant may override
        "limits": {"title": 20},           # characters per variable, when the console says so
        "if_empty": {"code": "-"},         # providers refuse empty variables
    },
     "*": {"limits": {"*": 20}}}           # provider-wide defaults ("*" = every variable)

params is a list (Aliyun: the named variables ${title} ${code}; Tencent: {1} {2} in that
order) or, for Aliyun, a dict {provider variable: Linli variable}. A variant may override
params, limits, if_empty and sign (default: the provider's *_SMS_SIGN_NAME). "X.drill" inherits
from "X". An English message whose "en" variant has no code goes out with the "zh-hans" one
(Chinese text, English values) rather than not at all; a drill without a drill template is
refused (no_template). A variant without a code is "no mapping": a permanent TransportError
with code "no_template", so operators see which template is missing.

What staff typed travels only inside variables: each value has whitespace and control
characters folded to single spaces and 【】 turned into 〔〕, then is cut to the variable's
limit with an ellipsis (variables in the Linli template's `keep`, such as reply codes, are cut
at a space instead, never through a code).

Defaults: the params of every Linli template that is sent by SMS today, with no codes. The
suggested provider text is the Linli text without 【邻里】 (the sign adds it), e.g. Aliyun
"${title}：您是否平安？回复1 平安，回复2 需要帮助（编号${code}）。", Tencent "{1}：您是否平安？…{2}…".

| Linli template | variables (zh-hans; en where different) | type |
| --- | --- | --- |
| login.code | code, minutes | verification (验证码) |
| emergency.alert.sms | prefix, headline, instruction | notice |
| emergency.safety.sms | title, code | notice |
| emergency.mobilise.standby.sms | area, mode, message; en: area, mode_en, message | notice |
| emergency.mobilise.callin.sms | area, mode, code, message; en: area, mode_en, code, message | notice |
| task.offer.sms | area, headcount, task, distance, minutes, code; en: …, distance, code, minutes | notice |
| task.offer.withdrawn.sms | task, why | notice |
| task.assignment.ended.sms | task, why | notice |
| task.assignment.added.sms | task, area | notice |
| sms.text | text (answers to replies: see below) | notice |
| sms.help.pending / sms.reply.which / sms.reply.unknown_code | codes | notice |
| sms.reply.unrecognised | code | notice |
| sms.help, sms.start, sms.stop, sms.reply.nothing_pending, sms.reply.already_answered, sms.reply.received, sms.reply.closed | none | notice |

Push-only templates (*.push, *.title, task.offer, task.unstaffed, notification.default.title)
and the texts rendered into sms.text (emergency.*.reply.*, task reply texts) have no entry:
providers approve no template that is a variable alone, so sms.text needs a fixed lead-in
(e.g. "您的回复已处理：${text}") and its variable is cut to the limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from ..templates import get_template, has_template
from .base import OutgoingSms, TransportError

ELLIPSIS = "…"
EMPTY_VALUE = "-"  # providers refuse empty variables; an entry's if_empty says better
NO_TEMPLATE = "no_template"
TEMPLATE_PARAMS = "template_params"

_LANGUAGES = ("zh-hans", "en")

# Linli template -> its variables in the provider template (zh-hans, en when they differ).
SMS_TEMPLATE_PARAMS: dict[str, tuple[list[str], list[str] | None]] = {
    "login.code": (["code", "minutes"], None),
    "emergency.alert.sms": (["prefix", "headline", "instruction"], None),
    "emergency.safety.sms": (["title", "code"], None),
    "emergency.mobilise.standby.sms": (["area", "mode", "message"], ["area", "mode_en", "message"]),
    "emergency.mobilise.callin.sms": (["area", "mode", "code", "message"], ["area", "mode_en", "code", "message"]),
    "task.offer.sms": (["area", "headcount", "task", "distance", "minutes", "code"],
                       ["area", "headcount", "task", "distance", "code", "minutes"]),
    "task.offer.withdrawn.sms": (["task", "why"], None),
    "task.assignment.ended.sms": (["task", "why"], None),
    "task.assignment.added.sms": (["task", "area"], None),
    "sms.text": (["text"], None),
    "sms.help": ([], None),
    "sms.help.pending": (["codes"], None),
    "sms.start": ([], None),
    "sms.stop": ([], None),
    "sms.reply.which": (["codes"], None),
    "sms.reply.unknown_code": (["codes"], None),
    "sms.reply.nothing_pending": ([], None),
    "sms.reply.unrecognised": (["code"], None),
    "sms.reply.already_answered": ([], None),
    "sms.reply.received": ([], None),
    "sms.reply.closed": ([], None),
}
# Optional variables that are often empty, and what stands in for them.
_IF_EMPTY = {"prefix": "-", "instruction": "-", "message": "-", "codes": "-"}


def _default_entry(zh: list[str], en: list[str] | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"params": list(zh), "if_empty": dict(_IF_EMPTY)}
    if en is not None:
        entry["en"] = {"params": list(en)}
    return entry


DEFAULT_TEMPLATES: dict[str, dict[str, dict[str, Any]]] = {
    provider: {name: _default_entry(zh, en) for name, (zh, en) in SMS_TEMPLATE_PARAMS.items()}
    for provider in ("aliyun", "tencent")
}


@dataclass(frozen=True)
class ProviderTemplate:
    """The approved template one message goes out with, its variables filled and cut."""

    code: str
    sign: str
    values: tuple[tuple[str, str], ...]  # (provider variable name, value), in template order

    def named(self) -> dict[str, str]:
        return dict(self.values)

    def positional(self) -> list[str]:
        return [value for _, value in self.values]


def choose_template(provider: str, message: OutgoingSms, *, sign: str, default_limit: int,
                    entries: Mapping[str, Mapping[str, Any]] | None = None) -> ProviderTemplate:
    """The provider template for `message`; TransportError (permanent) when there is none.
    `entries` is provider_entries(provider), when the caller has it for a whole batch."""
    entries = provider_entries(provider) if entries is None else entries
    entry = entries.get(message.template)
    if entry is None:
        raise _no_template(provider, message, "no entry")
    variant = _variant(entry, message)
    if variant is None or not str(variant.get("template") or ""):
        raise _no_template(provider, message, "no approved template code")
    spec = {**_mapping(entries.get("*")), **variant}
    limits = {**_mapping(_mapping(entries.get("*")).get("limits")), **_mapping(variant.get("limits"))}
    if_empty = _mapping(spec.get("if_empty"))
    keep = get_template(message.template).keep if has_template(message.template) else ("code",)
    values = []
    for provider_name, linli_name in _param_pairs(spec.get("params") or []):
        if linli_name not in message.params:
            raise TransportError(f"{provider} template for {message.template!r} needs {{{linli_name}}}",
                                 TEMPLATE_PARAMS, permanent=True)
        limit = int(limits.get(linli_name, limits.get("*", default_limit)))
        value = clean_value(str(message.params[linli_name]))
        value = cut(value, limit, whole_words=linli_name in keep) or str(if_empty.get(linli_name, EMPTY_VALUE))
        values.append((provider_name, value))
    return ProviderTemplate(code=str(variant["template"]), sign=str(spec.get("sign") or sign), values=tuple(values))


def provider_entries(provider: str) -> dict[str, dict[str, Any]]:
    """DEFAULT_TEMPLATES[provider] with settings.SMS_PROVIDER_TEMPLATES[provider] merged over it."""
    configured = _mapping(getattr(settings, "SMS_PROVIDER_TEMPLATES", {}).get(provider))
    merged = {name: dict(entry) for name, entry in DEFAULT_TEMPLATES.get(provider, {}).items()}
    for name, entry in configured.items():
        base = merged.setdefault(str(name), {})
        for key, value in _mapping(entry).items():
            if _is_variant_key(key) and isinstance(base.get(key), dict):
                base[key] = {**base[key], **_as_variant(value)}
            else:
                base[key] = value
    return merged


def template_variables(name: str) -> frozenset[str]:
    """The Linli variables any provider's template for `name` takes (every variant)."""
    found: set[str] = set()
    for provider in DEFAULT_TEMPLATES:
        entry = provider_entries(provider).get(name) or {}
        specs = [entry, *(_as_variant(v) for k, v in entry.items() if _is_variant_key(k))]
        for spec in specs:
            found.update(linli for _, linli in _param_pairs(spec.get("params") or []))
    return frozenset(found)


def _variant(entry: Mapping[str, Any], message: OutgoingSms) -> dict[str, Any] | None:
    """The entry's fields overridden by the variant for the message's language (and drill)."""
    common = {k: v for k, v in entry.items() if not _is_variant_key(k)}
    language = "en" if message.language.lower().startswith("en") else "zh-hans"
    for lang in dict.fromkeys([language, "zh-hans"]):
        plain = _as_variant(entry.get(lang))
        if not message.is_drill and plain.get("template"):
            return {**common, **plain}
        drill = _as_variant(entry.get(f"{lang}.drill"))
        if message.is_drill and drill.get("template"):
            # "X.drill" inherits params and limits from "X", never its (non-drill) code
            return {**common, **{k: v for k, v in plain.items() if k != "template"}, **drill}
    return None


def _param_pairs(params: object) -> list[tuple[str, str]]:
    if isinstance(params, Mapping):
        return [(str(k), str(v)) for k, v in params.items()]
    if isinstance(params, list | tuple):
        return [(str(p), str(p)) for p in params]
    return []


def _is_variant_key(key: str) -> bool:
    return key.split(".")[0] in _LANGUAGES


def _as_variant(value: object) -> dict[str, Any]:
    if isinstance(value, str):
        return {"template": value}
    return dict(value) if isinstance(value, Mapping) else {}


def _mapping(value: object) -> dict[str, Any]:
    return {str(k): v for k, v in value.items()} if isinstance(value, Mapping) else {}


def _no_template(provider: str, message: OutgoingSms, why: str) -> TransportError:
    variant = f"{message.language}{'.drill' if message.is_drill else ''}"
    return TransportError(f"{provider}: {why} for {message.template!r} ({variant})", NO_TEMPLATE, permanent=True)


# --- variable values ----------------------------------------------------------------------
_FOLD = str.maketrans({"【": "〔", "】": "〕"})


def clean_value(value: str) -> str:
    """Whitespace and control characters folded to single spaces; 【】 (reserved for the sign
    by both providers) turned into 〔〕."""
    text = "".join(" " if (ch.isspace() or ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0) else ch for ch in value)
    return " ".join(text.translate(_FOLD).split())


def cut(value: str, limit: int, *, whole_words: bool = False) -> str:
    """`value` in at most `limit` characters (each Chinese character, letter, digit or
    punctuation mark counts one, as both providers count)."""
    if limit <= 0 or len(value) <= limit:
        return value
    if whole_words:
        head = value[: limit + 1]
        return head[: head.rfind(" ")].rstrip() if " " in head else value[:limit]
    return value[: limit - 1].rstrip() + ELLIPSIS if limit > 1 else value[:limit]
