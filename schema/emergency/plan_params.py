"""Plan action params at the API's edge: camelCase, like every field and error path of the
API (`welfareAfterMinutes`, errors on `actions.2.params.welfareAfterMinutes`). The services
keep snake_case; snake_case input is still accepted (clients written before)."""

from __future__ import annotations

import re
from typing import Any

_UPPER = re.compile(r"(?<=[a-z0-9])([A-Z])")


def snake(name: str) -> str:
    return _UPPER.sub(r"_\1", name).lower()


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def params_in(params: Any) -> Any:
    """Top-level keys to snake_case (values untouched: priorities, flags, CAP values)."""
    if not isinstance(params, dict):
        return params
    return {snake(k) if isinstance(k, str) else k: v for k, v in params.items()}


def params_out(params: Any) -> Any:
    if not isinstance(params, dict):
        return params
    return {camel(k) if isinstance(k, str) else k: v for k, v in params.items()}
