"""Phone numbers never reach a log line: the console formatter masks every one in the whole
formatted record — message, arguments and tracebacks (a database error quotes the row it
refused, a phone number included).

    +8613812345678, 8613812345678, 13812345678, +86 138 1234 5678  ->  ****5678
"""

from __future__ import annotations

import logging
import re

from core.masking import mask_phones


class MaskingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask_phones(super().format(record))


_TOKEN_PARAM = re.compile(r"([?&]t=)[^&\s\"]+")


class RedactLinkTokens(logging.Filter):
    """The access log never keeps a signed download link's token (`?t=...`): whoever reads
    the log could replay it while it lasts."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_TOKEN_PARAM.sub(r"\1[redacted]", a) if isinstance(a, str) else a for a in record.args)
        return True


def uvicorn_log_config() -> dict:
    """uvicorn's own logging, with link tokens kept out of its access log."""
    import copy

    # Start-up cost: only `serve` needs uvicorn, not every process that logs.
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_tokens"] = {"()": "backend.log_masking.RedactLinkTokens"}
    config["handlers"]["access"]["filters"] = ["redact_tokens"]
    return config
