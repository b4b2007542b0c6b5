"""Serve Linli: ASGI (HTTP + WebSocket) on uvicorn, with background work in-process when no
broker is configured. `make run` calls this after migrating and loading demo data."""

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand

from backend.log_masking import uvicorn_log_config


def banner(host: str, port: int, embedded: bool) -> str:
    """What `make run` prints: every URL the README's table lists (a test keeps them equal)."""
    base = f"http://{host}:{port}"
    work = ("in-process Celery worker + beat (memory broker)" if embedded
            else "separate Celery worker (" + settings.CELERY_BROKER_URL.split("@")[-1] + ")")
    return "\n".join([
        "",
        "Linli 邻里 is running.",
        f"  Web console:         {base}/console/",
        f"  GraphQL + GraphiQL:  {base}/graphql/",
        f"  Subscriptions (WS):  ws://{host}:{port}/graphql/  (graphql-transport-ws)",
        f"  Admin (superusers):  {base}/admin/",
        f"  Health:              {base}/healthz",
        f"  CAP feed (Atom):     {base}/cap/feed.atom",
        "  Demo staff login:    admin / linli-demo  (also gridworker1, communityadmin1, commander1)",
        f"  Background work:     {work}",
        "",
    ])


class Command(BaseCommand):
    help = "Serve GraphQL (HTTP and WebSocket), the admin and /healthz."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1)
        parser.add_argument("--no-worker", action="store_true", help="Do not run Celery in-process.")

    def handle(self, host, port, workers, no_worker, **options):
        embedded = settings.LINLI_EMBEDDED_WORKER and not no_worker
        if embedded:
            # Start-up cost: a Celery worker's modules load only on the embedded footing.
            from backend.embedded import start_embedded_worker

            start_embedded_worker(concurrency=settings.LINLI_EMBEDDED_CONCURRENCY)
        self.stdout.write(banner(host, port, embedded))
        uvicorn.run(
            "backend.asgi:application",
            host=host,
            port=port,
            workers=workers if not embedded else 1,
            ws="websockets-sansio",
            ws_max_size=settings.WS_MAX_MESSAGE_BYTES,
            ws_per_message_deflate=settings.WS_PER_MESSAGE_DEFLATE,
            lifespan="off",
            log_level="info",
            log_config=uvicorn_log_config(),
            proxy_headers=True,
            forwarded_allow_ips=settings.FORWARDED_ALLOW_IPS,
        )
