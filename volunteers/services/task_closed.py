"""What other apps do when a task ends, without volunteers knowing them.

    register_task_closed_handler("resources.deliveries", handler)  # handler(task, closing)

Apps above volunteers (resources: a task that carries supplies records their distribution
when it is done and releases the reservation when it is cancelled) register a handler in
their AppConfig.ready. Handlers run inside the transaction that closes the task, with the
task row locked, once per closing (a task is closed once: DONE and CANCELLED are final); a
handler that raises rolls the closing back, so the task and what hangs on it stay in step.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from community.models import User

from ..models import Task


@dataclass(frozen=True)
class TaskClosing:
    status: str  # TaskStatus.DONE or TaskStatus.CANCELLED
    at: dt.datetime
    by: User | None


Handler = Callable[[Task, TaskClosing], None]

# name -> handler; named so that registering again (a reloaded app) replaces, never doubles.
_handlers: dict[str, Handler] = {}


def register_task_closed_handler(name: str, handler: Handler) -> None:
    _handlers[name] = handler


def task_closed(task: Task, closing: TaskClosing) -> None:
    """Run every registered handler (in the closing transaction)."""
    for handler in list(_handlers.values()):
        handler(task, closing)
