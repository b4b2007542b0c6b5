"""Background work follows committed rows (DESIGN.md principle 1).

`enqueue_on_commit(task, *args)` sends a Celery task once the surrounding transaction
commits. The database already holds the truth, so a broker that is down or slow must not
fail the request that committed it: the send is tried briefly, a failure is logged, and the
periodic sweep that owns that kind of work re-drives it later.
"""

from __future__ import annotations

import logging
from functools import partial

from django.db import transaction

logger = logging.getLogger(__name__)

# Fail fast when the broker is unreachable; the sweeps are the retry.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}


def enqueue_now(task, *args, **kwargs) -> bool:
    """Send `task` now; False (logged) if the broker could not take it."""
    try:
        task.apply_async(args=args, kwargs=kwargs, retry=True, retry_policy=PUBLISH_RETRY_POLICY)
        return True
    except Exception as exc:  # noqa: BLE001 - kombu/redis raise many kinds; the sweep re-drives
        logger.warning("could not enqueue %s (%s); the periodic sweep will re-drive it", task.name, type(exc).__name__)
        return False


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Send `task` after the current transaction commits (immediately outside one)."""
    transaction.on_commit(partial(enqueue_now, task, *args, **kwargs))
