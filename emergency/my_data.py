"""What emergency holds about a person, for their export (privacy.my_data): their answers to
safety checks (报平安)."""

from __future__ import annotations

from typing import Any

from privacy.my_data import Row, register_section, rows

from .models import SafetyStatus


def safety_answers(user: Any) -> list[Row]:
    return rows(SafetyStatus.objects.filter(resident__user=user).order_by("id"),
                ["safety_check__title", "status", "answered_at", "channel", "note"])


def register_all() -> None:
    register_section("safety_checks", safety_answers)
