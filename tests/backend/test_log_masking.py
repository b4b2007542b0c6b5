"""No phone number reaches the console log, not even inside a traceback."""

import logging

from django.db import IntegrityError

from backend.log_masking import MaskingFormatter, mask_phones


def test_phone_numbers_in_every_spelling_are_masked():
    for text in ("+8613712345678", "8613712345678", "13712345678", "+86 137 1234 5678", "137-1234-5678",
                 "Key (phone)=(+8613712345678) already exists."):
        masked = mask_phones(text)
        assert "5678" in masked and "1234" not in masked, (text, masked)
    assert mask_phones("order 20261126 at 12:00, 3 km") == "order 20261126 at 12:00, 3 km"


def test_the_configured_formatter_masks_tracebacks():
    from django.conf import settings

    config = settings.LOGGING["formatters"]["plain"]
    assert config["()"] == "backend.log_masking.MaskingFormatter"
    formatter = MaskingFormatter(config["format"])
    try:
        raise IntegrityError('duplicate key DETAIL:  Key (phone)=(+8613712345678) already exists.')
    except IntegrityError as exc:
        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "saving %s failed", ("+8613712345678",),
                                   (type(exc), exc, exc.__traceback__))
    text = formatter.format(record)
    assert "IntegrityError" in text and "+8613712345678" not in text and "****5678" in text


def test_the_access_log_keeps_no_download_token():
    import logging.config

    from backend.log_masking import uvicorn_log_config

    config = uvicorn_log_config()
    assert config["handlers"]["access"]["filters"] == ["redact_tokens"]
    logging.config.dictConfig(config)
    handler = logging.getLogger("uvicorn.access").handlers[0]
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5", "GET", "/reports/after-action/?t=eyJ.secret:sig&x=1", "1.1", 200), None)
    assert handler.filter(record)
    assert "secret" not in record.getMessage() and "t=[redacted]&x=1" in record.getMessage()
