"""When the database is briefly unreachable, say so clearly and retryably instead of a 500.

A request that cannot reach the database has changed nothing (every write is in a
transaction that never committed), so the client may safely retry the same request; mobile
clients send idempotency keys for exactly this case.
"""

from __future__ import annotations

import logging

from django.http import JsonResponse

from core.unavailable import (
    RETRY_AFTER_SECONDS,
    UNAVAILABLE_CODE,
    UNAVAILABLE_MESSAGE,
    is_database_unavailable,
)

logger = logging.getLogger(__name__)

def unavailable_response() -> JsonResponse:
    response = JsonResponse(
        {"errors": [{"message": UNAVAILABLE_MESSAGE, "extensions": {"code": UNAVAILABLE_CODE, "retryable": True}}]},
        status=503,
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if is_database_unavailable(exception):
            logger.warning("database unavailable during %s %s: %s", request.method, request.path, type(exception).__name__)
            return unavailable_response()
        return None
