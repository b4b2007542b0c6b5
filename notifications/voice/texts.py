"""What a voice call says, in Simplified Chinese and English.

    register_voice_script("emergency.safety.voice", zh="这里是{area}社区应急平台。…", en="…")
    render_script("emergency.safety.voice", {"area": "湖滨街道", "title": "台风报平安"}, "zh-hans")

Separate from notifications/templates.py on purpose: spoken text has no SMS segments to fit,
and a drill is announced in words ("这是一次演练。") rather than with the SMS marker 【演练】,
which a TTS engine would read out with its brackets. Variables are cut to
VOICE_PARAM_MAX_CHARS: a long title read aloud loses an elderly listener before the question.

Twilio speaks the rendered text; Aliyun speaks its own approved TTS templates, which must say
the same thing with the same ${variable} names (see notifications/voice/aliyun.py).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

from django.conf import settings

from notifications.templates import TemplateError, normalize_language

SAFETY_CHECK = "emergency.safety.voice"
ANSWER_SAFE = "voice.answer.safe"
ANSWER_HELP = "voice.answer.help"
ANSWER_OTHER = "voice.answer.other"
NO_KEY = "voice.no_key"

DRILL_PREFIX = {"zh-hans": "这是一次演练。", "en": "This is a drill. "}


@dataclass(frozen=True)
class VoiceScript:
    name: str
    zh: str
    en: str

    def text(self, language: str) -> str:
        return self.en if normalize_language(language) == "en" else self.zh

    @property
    def fields(self) -> tuple[str, ...]:
        found: list[str] = []
        for text in (self.zh, self.en):
            for name in _field_names(text):
                if name not in found:
                    found.append(name)
        return tuple(found)


_scripts: dict[str, VoiceScript] = {}


def register_voice_script(name: str, *, zh: str, en: str) -> None:
    """Register (or replace) a script; only plain {names} may vary."""
    for text in (zh, en):
        for field in _field_names(text):
            if not field.isidentifier():
                raise TemplateError(f"voice script {name!r}: only plain {{names}} are allowed, not {{{field}}}")
    _scripts[name] = VoiceScript(name, zh, en)


def get_voice_script(name: str) -> VoiceScript:
    try:
        return _scripts[name]
    except KeyError:
        raise TemplateError(f"unknown voice script {name!r}; register it with register_voice_script()") from None


def render_script(name: str, params: dict[str, str] | None = None, language: str = "zh-hans", *,
                  is_drill: bool = False) -> str:
    """The words of script `name` in `language`, announced as a drill when `is_drill`."""
    script = get_voice_script(name)
    language = normalize_language(language)
    values = spoken_params(script, params or {})
    text = script.text(language).format_map(values)
    return (DRILL_PREFIX[language] if is_drill else "") + text


def spoken_params(script: VoiceScript, params: dict[str, str]) -> dict[str, str]:
    """The script's variables, cleaned and cut to a listenable length; a missing one is an
    error (a call that says "这里是社区应急平台" with no area is worse than no call)."""
    limit = settings.VOICE_PARAM_MAX_CHARS
    values: dict[str, str] = {}
    for field in script.fields:
        if field not in params or params[field] is None:
            raise TemplateError(f"voice script {script.name!r} needs {{{field}}}")
        values[field] = clean_spoken(str(params[field]))[:limit].strip()
    return values


_CONTROL = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]+")
_SPACES = re.compile(r"\s+")


def clean_spoken(text: str) -> str:
    """Control characters and lone surrogates out, runs of whitespace to one space."""
    return _SPACES.sub(" ", _CONTROL.sub(" ", text)).strip()


def _field_names(text: str) -> list[str]:
    return [field for _, field, _, _ in string.Formatter().parse(text) if field is not None]


def register_builtin_scripts() -> None:
    register_voice_script(
        SAFETY_CHECK,
        zh="这里是{area}社区应急平台。{title}。您是否平安？平安请按1，需要帮助请按2。",
        en="This is the {area} community emergency service. {title}. Are you safe? "
           "If you are safe, press 1. If you need help, press 2.",
    )
    register_voice_script(
        ANSWER_SAFE,
        zh="收到，您已报平安。谢谢您，再见。",
        en="Thank you. We have recorded that you are safe. Goodbye.",
    )
    register_voice_script(
        ANSWER_HELP,
        zh="收到您的求助，社区工作人员会尽快联系您。请保持电话畅通。再见。",
        en="We have received your request for help. Community staff will contact you as soon as possible. "
           "Please keep your phone nearby. Goodbye.",
    )
    register_voice_script(
        ANSWER_OTHER,
        zh="对不起，没有听清您的按键。平安请按1，需要帮助请按2。",
        en="Sorry, we did not recognise that key. If you are safe, press 1. If you need help, press 2.",
    )
    register_voice_script(
        NO_KEY,
        zh="没有收到您的按键。社区工作人员会再与您联系。再见。",
        en="We did not receive a key press. Community staff will contact you again. Goodbye.",
    )


register_builtin_scripts()
