"""Callbacks of the domestic SMS providers: delivery receipts and replies (上行).

    POST /sms/aliyun/report/?token=…   Alibaba Cloud "HTTP batch push" SmsReport
    POST /sms/aliyun/reply/?token=…    Alibaba Cloud SmsUp
    POST /sms/tencent/report/?token=…  Tencent Cloud status callback
    POST /sms/tencent/reply/?token=…   Tencent Cloud reply callback

Neither provider signs its callbacks: the URL configured in its console carries a secret
(ALIYUN_SMS_CALLBACK_TOKEN, TENCENT_SMS_CALLBACK_TOKEN), compared in constant time, over HTTPS.
A body over SMS_WEBHOOK_MAX_BYTES answers 413 before it is read; a wrong token 403; anything
that is not what the provider sends 400 — and nothing is kept. A good one is answered the way
the provider expects (Aliyun {"code": 0, "msg": "成功"}, Tencent {"result": 0, "errmsg": "OK"}),
otherwise it pushes the same records again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.module_loading import import_string
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .receipts import record_receipts, store_replies
from .transports import CallbackError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Provider:
    module: str  # the transport module holding parse_receipt_callback / parse_reply_callback
    ok: Mapping[str, Any]  # what the provider expects back


# The SDK modules load only when a callback arrives (start-up cost of every web process).
PROVIDERS = {
    "aliyun": Provider("notifications.transports.aliyun", {"code": 0, "msg": "成功"}),
    "tencent": Provider("notifications.transports.tencent", {"result": 0, "errmsg": "OK"}),
}
STATUS = {"bad_token": 403, "too_large": 413}


def _too_big(request: HttpRequest) -> bool:
    limit: int = settings.SMS_WEBHOOK_MAX_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return True
    return declared > limit


def _handle(request: HttpRequest, provider: str, kind: str) -> HttpResponse:
    spec = PROVIDERS[provider]
    if _too_big(request):
        return HttpResponse("Request too large.", status=413)
    parse: Callable[..., list[Any]] = import_string(f"{spec.module}.parse_{kind}_callback")
    query = {key: request.GET.get(key, "") for key in request.GET}
    try:
        records = parse(request.body, dict(request.headers), query=query)
    except CallbackError as error:
        logger.warning("%s %s callback refused: %s", provider, kind, error.code)
        return JsonResponse({"error": error.code}, status=STATUS.get(error.code, 400))
    if kind == "receipt":
        record_receipts(provider, records)
    else:
        store_replies(provider, records)
    return JsonResponse(dict(spec.ok), json_dumps_params={"ensure_ascii": False})


@csrf_exempt
@require_POST
def aliyun_report(request: HttpRequest) -> HttpResponse:
    return _handle(request, "aliyun", "receipt")


@csrf_exempt
@require_POST
def aliyun_reply(request: HttpRequest) -> HttpResponse:
    return _handle(request, "aliyun", "reply")


@csrf_exempt
@require_POST
def tencent_report(request: HttpRequest) -> HttpResponse:
    return _handle(request, "tencent", "receipt")


@csrf_exempt
@require_POST
def tencent_reply(request: HttpRequest) -> HttpResponse:
    return _handle(request, "tencent", "reply")
