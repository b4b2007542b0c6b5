"""What an SMS reply says: the words for yes and no, the keywords, and a reply code.

    parse_reply("是 AB12") -> Reply(intent="yes", code="AB12", text="是 AB12")
    keyword("退订") -> "stop"

Keywords are whole-message (as Twilio does): STOP/退订 opt out — and the habits of Chinese
SMS, T, TD and 回复TD退订 —, START/订阅 opt back in, HELP/帮助 explains. "STOP PLEASE" is an
ordinary reply. 取消 ("cancel") is not an opt-out: it answers about the task it replies to
(intent "cancel", which an offer takes as "no").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

YES_WORDS = {"1", "Y", "YES", "OK", "OKAY", "SURE", "YEP", "YEAH", "是", "接", "好", "可以", "好的", "接受", "行", "同意",
             "是的"}
NO_WORDS = {"2", "N", "NO", "NOPE", "NAH", "否", "不", "不行", "不可以", "不接", "拒绝", "不去", "不了"}
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "退订", "T", "TD", "回复TD退订", "TD退订", "回T退订"}
CANCEL_WORDS = {"取消"}
START_WORDS = {"START", "UNSTOP", "订阅"}
HELP_WORDS = {"HELP", "INFO", "帮助"}
KEYWORDS = {**{w: "stop" for w in STOP_WORDS}, **{w: "start" for w in START_WORDS}, **{w: "help" for w in HELP_WORDS}}

_TOKEN_RE = re.compile(r"[A-Z0-9]+|[\u3400-\u9fff]+")
_CODE_RE = re.compile(r"^[A-Z][A-Z0-9]{1,3}$")


@dataclass(frozen=True)
class Reply:
    intent: str  # "yes" | "no" | "cancel" | "unknown"
    code: str | None  # the reference code the person included, if any
    text: str  # the original body


def normalize(body: str) -> str:
    # NFKC folds full-width letters and digits (Ｙ, １) typed on Chinese keyboards.
    return unicodedata.normalize("NFKC", body or "").strip().upper()


def keyword(body: str) -> str | None:
    """"stop", "start" or "help" when the whole message is one keyword."""
    text = normalize(body).strip(" .!。！")
    return KEYWORDS.get(text)


def parse_reply(body: str) -> Reply:
    """Yes/no with an optional code before or after: "Y AB12", "AB12 1", "是 AB12", "是AB"."""
    tokens = _TOKEN_RE.findall(normalize(body))
    code = None
    intents = []
    for token in tokens:
        if token in YES_WORDS:
            intents.append("yes")
        elif token in NO_WORDS:
            intents.append("no")
        elif token in CANCEL_WORDS:
            intents.append("cancel")
        elif code is None and _CODE_RE.match(token):
            code = token
        else:
            intents.append("unknown")
    intent = intents[0] if len(intents) == 1 else "unknown"
    return Reply(intent=intent, code=code, text=body)
