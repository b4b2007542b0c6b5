"""A database that is briefly unreachable is a retryable condition, not a server error.

A request that cannot reach the database has changed nothing (every write is in a
transaction that never committed), so the client may safely retry the same request.
"""

from __future__ import annotations

from django.db import InterfaceError, OperationalError

RETRY_AFTER_SECONDS = 5
UNAVAILABLE_CODE = "SERVICE_UNAVAILABLE"
UNAVAILABLE_MESSAGE = "The service is briefly unavailable; nothing was changed. Please retry shortly."


def is_database_unavailable(exc: BaseException | None) -> bool:
    return isinstance(exc, OperationalError | InterfaceError)
