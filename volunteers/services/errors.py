"""Collecting several field errors before raising, so an app can show them all at once."""

from __future__ import annotations

from core.errors import ValidationError


class Errors:
    def __init__(self) -> None:
        self._by_field: dict[str, list[ValidationError]] = {}

    def add(self, field: str, message: str, code: str) -> None:
        self._by_field.setdefault(field, []).append(ValidationError(message, code=code))

    def __bool__(self) -> bool:
        return bool(self._by_field)

    def raise_if_any(self) -> None:
        if self._by_field:
            raise ValidationError(self._by_field)
