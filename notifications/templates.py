"""Resident-facing text: one template per message, in Simplified Chinese and English.

    register_template("offer.sms", zh="{task}需要您，回复 是 {code} 接受", en="...", max_segments=2)
    render("offer.sms", {"task": "送药"}, language="en", is_drill=True)

An SMS is billed and delivered in segments: GSM-7 text fits 160 characters in one segment and
153 per part when split; anything else (Chinese) is UCS-2, 70 and 67. A rendered SMS is kept
within the template's max_segments by shortening the variable parts, never the fixed text,
the drill marker, or the protected variables (the reply code by default). Drill messages
carry a visible marker so nobody mistakes a practice for the real thing.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass

DRILL_MARKER = {"zh-hans": "【演练】", "en": "[DRILL] "}
DEFAULT_LANGUAGE = "zh-hans"

# GSM 03.38 basic character set, and the extension table (each costs two septets).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")


@dataclass(frozen=True)
class Template:
    name: str
    zh: str
    en: str
    max_segments: int
    keep: tuple[str, ...]

    def text(self, language: str) -> str:
        return self.en if language == "en" else self.zh


_templates: dict[str, Template] = {}


class TemplateError(ValueError):
    pass


def register_template(
    name: str, *, zh: str, en: str, max_segments: int = 3, keep: tuple[str, ...] = ("code",)
) -> None:
    """Register (or replace) a template. `keep` names variables that are never shortened."""
    if max_segments < 1:
        raise TemplateError("max_segments must be at least 1")
    for text in (zh, en):
        for field in _field_names(text):
            if not field.isidentifier():
                raise TemplateError(f"template {name!r}: only plain {{names}} are allowed, not {{{field}}}")
    template = Template(name, zh, en, max_segments, tuple(keep))
    for language, marker in DRILL_MARKER.items():
        # The fixed text, the marker and protected values must fit on their own.
        text = template.text(language)
        bare = marker + text.format_map({f: ("0000" if f in keep else "") for f in _field_names(text)})
        if segment_count(bare) > max_segments:
            raise TemplateError(f"template {name!r} ({language}) is longer than {max_segments} segment(s) without its variables")
    _templates[name] = template


def get_template(name: str) -> Template:
    try:
        return _templates[name]
    except KeyError:
        raise TemplateError(f"unknown template {name!r}; register it with register_template()") from None


def has_template(name: str) -> bool:
    return name in _templates


def field_names(name: str) -> frozenset[str]:
    """The variables template `name` uses in either language (none for an unknown name)."""
    template = _templates.get(name)
    if template is None:
        return frozenset()
    return frozenset(_field_names(template.zh)) | frozenset(_field_names(template.en))


def normalize_language(language: str | None) -> str:
    return "en" if (language or "").lower().startswith("en") else DEFAULT_LANGUAGE


def render(
    name: str, context: Mapping[str, object], *, language: str = DEFAULT_LANGUAGE, is_drill: bool = False, sms: bool = True
) -> str:
    """The text of template `name` in `language`, with the drill marker when `is_drill`;
    for SMS (sms=True) shortened to fit the template's max_segments."""
    template = get_template(name)
    language = normalize_language(language)
    text = template.text(language)
    values = _stringify(text, context, name)
    marker = DRILL_MARKER[language] if is_drill else ""
    rendered = marker + text.format_map(values)
    if not sms or segment_count(rendered) <= template.max_segments:
        return rendered
    return marker + _shorten(text, values, template, marker)


def _field_names(text: str) -> list[str]:
    return [field for _, field, _, _ in string.Formatter().parse(text) if field is not None]


def _stringify(text: str, context: Mapping[str, object], name: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for field in _field_names(text):
        if field not in context:
            raise TemplateError(f"template {name!r} needs {{{field}}}")
        values[field] = "" if context[field] is None else str(context[field])
    return values


def _shorten(text: str, values: dict[str, str], template: Template, marker: str) -> str:
    """Cut the longest shortenable variable until the text fits; an ellipsis shows the cut."""
    values = dict(values)
    for _ in range(100):
        rendered = text.format_map(values)
        overflow = units(marker + rendered) - capacity(marker + rendered, template.max_segments)
        if overflow <= 0:
            return rendered
        candidates = [k for k, v in values.items() if k not in template.keep and v]
        if not candidates:
            break
        longest = max(candidates, key=lambda k: len(values[k]))
        current = values[longest].rstrip("…").rstrip(".")
        ellipsis = _ellipsis(marker + rendered)
        keep_chars = max(0, len(current) - max(1, overflow) - len(ellipsis))
        values[longest] = current[:keep_chars] + ellipsis if keep_chars else ""
    raise TemplateError(f"template {template.name!r} cannot fit {template.max_segments} segment(s)")


def _ellipsis(text: str) -> str:
    return "..." if is_gsm7(text) else "…"


# --- segments -----------------------------------------------------------------------------
def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text)


def units(text: str) -> int:
    """Length in the encoding's units: septets for GSM-7, UTF-16 code units for UCS-2."""
    if is_gsm7(text):
        return sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
    return len(text.encode("utf-16-le")) // 2


def capacity(text: str, segments: int) -> int:
    single, part = (160, 153) if is_gsm7(text) else (70, 67)
    return single if segments == 1 else part * segments


def segment_count(text: str) -> int:
    n = units(text)
    single, part = (160, 153) if is_gsm7(text) else (70, 67)
    if n <= single:
        return 1
    return -(-n // part)
