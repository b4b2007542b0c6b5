"""The ValidationError every Linli service raises.

Django's ValidationError silently drops `code` when the message is a dict
(`ValidationError({"phone": "Not valid."}, code="invalid_phone")` yields an error without a
code), and the code is what a mobile app switches on. This subclass keeps it: each field's
message gets the code. It is still a django.core.exceptions.ValidationError, so forms, the
admin and `except ValidationError` treat it as usual.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError


class ValidationError(DjangoValidationError):
    def __init__(self, message, code=None, params=None):
        if isinstance(message, dict) and code is not None:
            message = {
                field: msg if isinstance(msg, DjangoValidationError) else DjangoValidationError(msg, code=code, params=params)
                for field, msg in message.items()
            }
        super().__init__(message, code, params)
        if code is not None and not hasattr(self, "code"):
            self.code = code


__all__ = ["ValidationError"]
