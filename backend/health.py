"""/healthz: database, channel layer and broker, each checked with a short timeout."""

from __future__ import annotations

import asyncio
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from backend.celery import app

logger = logging.getLogger(__name__)
TIMEOUT = 2.0


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


async def _channel_roundtrip() -> None:
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "health.ping"})
    message = await layer.receive(channel)
    if message.get("type") != "health.ping":
        raise RuntimeError("unexpected message")


def check_channel_layer() -> None:
    async def run():
        await asyncio.wait_for(_channel_roundtrip(), TIMEOUT)

    async_to_sync(run)()


def check_broker() -> None:
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=TIMEOUT)


CHECKS = {"database": check_database, "channel_layer": check_channel_layer, "broker": check_broker}


@require_GET
def livez(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers HTTP (no dependency checked). Load balancers and
    orchestrators restart on this; they route traffic on /healthz."""
    return HttpResponse("ok", content_type="text/plain")


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    status: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
            status[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure is a failed check
            logger.warning("health check %s failed: %s", name, type(exc).__name__)
            status[name] = "fail"
    healthy = all(v == "ok" for v in status.values())
    return JsonResponse({"status": "ok" if healthy else "fail", "checks": status}, status=200 if healthy else 503)
