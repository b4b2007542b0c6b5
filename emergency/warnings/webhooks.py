"""The signed webhooks warnings come in by.

    POST /warnings/cap/<source code>/       body: one CAP 1.2 document (application/cap+xml)
    POST /warnings/sensors/<source code>/   body: {"readings": [{"sensor", "value", "observedAt"}]}

Both are signed (emergency.warnings.signing) with the source's key. Answers are JSON:
200 {"outcome": "created"|"duplicate", "identifier", "proposals"} (sensors: {"stored", "warnings"}),
or {"error": {"code", "message"}} with 401 (unsigned, stale_timestamp, bad_signature), 409
(replayed), 400 (invalid_cap, invalid_reading, unknown_sensor), 404 (no such source), 413
(too large). A refused request changes nothing, its nonce included.
"""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.errors import ValidationError

from ..error_codes import EmergencyErrorCode as Code
from ..models import WarningSource, WarningSourceKind
from .cap_in import InvalidCap
from .ingest import ingest_cap
from .sensors import record_readings
from .signing import WebhookRefused, use_nonce, verify

logger = logging.getLogger(__name__)


def _error(status: int, code: str, message: str, **extra: object) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, **extra}}, status=status)


def _source(request: HttpRequest, code: str, kind: str) -> WarningSource | HttpResponse:
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit() or int(declared) > settings.WARNING_WEBHOOK_MAX_BYTES \
            or len(request.body) > settings.WARNING_WEBHOOK_MAX_BYTES:
        return _error(413, "too_large", f"At most {settings.WARNING_WEBHOOK_MAX_BYTES} bytes.")
    source = WarningSource.objects.filter(code=code[:64], kind=kind, is_enabled=True).first()
    if source is None:
        return _error(404, "not_found", "No such warning source.")
    return source


@csrf_exempt
@require_POST
def cap_webhook(request: HttpRequest, code: str) -> HttpResponse:
    source = _source(request, code, WarningSourceKind.CAP_WEBHOOK)
    if isinstance(source, HttpResponse):
        return source
    try:
        nonce = verify(request, source)
        with transaction.atomic():
            use_nonce(source, nonce)
            ingested = ingest_cap(request.body, source=source)
    except WebhookRefused as refused:
        logger.warning("CAP webhook %s refused: %s", source.code, refused.code)
        return _error(refused.status, refused.code, refused.message)
    except InvalidCap as invalid:
        return _error(400, Code.INVALID_CAP, "Not a valid CAP 1.2 document.", problems=invalid.problems[:20])
    return JsonResponse({"outcome": ingested.outcome, "identifier": ingested.warning.identifier,
                         "proposals": len(ingested.proposals)})


@csrf_exempt
@require_POST
def sensor_webhook(request: HttpRequest, code: str) -> HttpResponse:
    source = _source(request, code, WarningSourceKind.SENSOR_WEBHOOK)
    if isinstance(source, HttpResponse):
        return source
    try:
        nonce = verify(request, source)
        payload = json.loads(request.body or b"null")
        readings = payload.get("readings") if isinstance(payload, dict) else None
        with transaction.atomic():
            use_nonce(source, nonce)
            stored, raised = record_readings(source, readings)
    except WebhookRefused as refused:
        logger.warning("sensor webhook %s refused: %s", source.code, refused.code)
        return _error(refused.status, refused.code, refused.message)
    except (ValueError, UnicodeDecodeError):
        return _error(400, Code.INVALID_READING, "The body is not JSON.")
    except ValidationError as exc:
        (field, errors), *_ = exc.error_dict.items()
        return _error(400, str(errors[0].code or Code.INVALID_READING), f"{field}: {errors[0].message}")
    return JsonResponse({"stored": stored, "warnings": [i.warning.identifier for i in raised]})
