"""What volunteers holds about a person, for their export (privacy.my_data)."""

from __future__ import annotations

from typing import Any

from privacy.my_data import Row, register_section, rows

from .models import ServiceHoursEntry, TaskAssignment, Volunteer


def volunteer(user: Any) -> list[Row]:
    return rows(Volunteer.objects.filter(user=user), ["area__name", "status", "signed_up_at", "approved_at", "lat", "lng"])


def service_hours(user: Any) -> list[Row]:
    return rows(ServiceHoursEntry.objects.filter(user=user).order_by("occurred_at", "id"),
                ["community__name", "hours", "kind", "reason", "occurred_at"])


def tasks(user: Any) -> list[Row]:
    return rows(TaskAssignment.objects.filter(user=user).order_by("id"), ["task__title", "status"])


def register_all() -> None:
    register_section("volunteer", volunteer)
    register_section("service_hours", service_hours)
    register_section("task_assignments", tasks)
