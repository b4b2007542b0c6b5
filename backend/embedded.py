"""The embedded footing's background work: a Celery worker and beat in threads of the web
process, consuming the in-memory broker (`memory://`). With REDIS_URL set, run
`celery -A backend worker -B` as separate processes instead (see README)."""

from __future__ import annotations

import logging
import tempfile
import threading
from pathlib import Path

logger = logging.getLogger(__name__)
_started = threading.Event()


def start_embedded_worker(concurrency: int = 2, beat: bool = True):
    """Start once per process; returns the worker controller."""
    # Start-up cost: the worker and beat machinery load only when started.
    from celery.beat import EmbeddedService
    from celery.worker import WorkController

    from backend.celery import app

    if _started.is_set():
        return None
    _started.set()
    # Beat's schedule ticks and each routine task's received/succeeded lines would bury the
    # server's own output every few seconds; failures still log (WARNING and above).
    if logging.getLogger().level > logging.DEBUG:
        for name in ("celery.beat", "celery.worker.strategy", "celery.app.trace"):
            logging.getLogger(name).setLevel(logging.WARNING)
    worker = WorkController(
        app=app,
        concurrency=concurrency,
        pool="threads",
        hostname="embedded@linli",
        without_heartbeat=True,
        without_mingle=True,
        without_gossip=True,
        loglevel="WARNING",
    )
    threading.Thread(target=worker.start, name="celery-worker", daemon=True).start()
    if beat:
        schedule = Path(tempfile.gettempdir()) / "linli-celerybeat-schedule"
        EmbeddedService(app, thread=True, schedule_filename=str(schedule)).start()
    logger.info("embedded Celery worker%s started on %s", " and beat" if beat else "", app.conf.broker_url)
    return worker
