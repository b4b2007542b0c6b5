"""Background work follows committed rows (DESIGN.md principle 1) — the one way to start it.

    enqueue_on_commit(send_sms, message.pk)                      # a task object
    enqueue_on_commit("community.tasks.fan_out_alert", alert.pk)  # or its registered name

The task is sent once the surrounding transaction commits (at once outside one). The
database already holds the truth, so a broker that is down or slow must not fail the request
that committed it: the send is tried briefly, a failure is logged, and the periodic sweep
that owns that kind of work finds the row and re-drives it later. A name is looked up in the
Celery app's registry, so a service can start a task defined in a module that imports it.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from celery import Task, current_app
from django.db import transaction

logger = logging.getLogger(__name__)

# Fail fast when the broker is unreachable; the sweeps are the retry.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}


def _task(task: Task | str) -> Task:
    if not isinstance(task, str):
        return task
    if task not in current_app.tasks:
        # Celery imports the apps' tasks modules only when a worker starts; a web process
        # that names a task it never imported asks for that discovery once.
        current_app.autodiscover_tasks(force=True)
    return current_app.tasks[task]


def enqueue_now(task: Task | str, *args: Any, **kwargs: Any) -> bool:
    """Send `task` now; False (logged) if the broker could not take it."""
    name = task if isinstance(task, str) else task.name
    try:
        _task(task).apply_async(args=args, kwargs=kwargs, retry=True, retry_policy=PUBLISH_RETRY_POLICY)
        return True
    except Exception as exc:  # noqa: BLE001 - kombu/redis raise many kinds; the sweep re-drives
        logger.warning("could not enqueue %s (%s); the periodic sweep will re-drive it", name, type(exc).__name__)
        return False


def enqueue_later(task: Task | str, *args: Any, countdown: float) -> bool:
    """Send `task` to run in `countdown` seconds; False (logged) if the broker could not take it."""
    name = task if isinstance(task, str) else task.name
    try:
        _task(task).apply_async(args=args, countdown=countdown, retry=True, retry_policy=PUBLISH_RETRY_POLICY)
        return True
    except Exception as exc:  # noqa: BLE001 - as in enqueue_now: the sweep re-drives
        logger.warning("could not enqueue %s (%s); the periodic sweep will re-drive it", name, type(exc).__name__)
        return False


def enqueue_on_commit(task: Task | str, *args: Any, **kwargs: Any) -> None:
    """Send `task` after the current transaction commits (immediately outside one)."""
    transaction.on_commit(partial(enqueue_now, task, *args, **kwargs))
