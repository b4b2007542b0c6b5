"""Recording reads of sensitive personal information (the access log, PIPL art. 51, 55).

Reads are gathered while a request runs and written at its end, one row per subject:

    with collecting(user, channel=Channel.API, operation="Residents"):
        ...                         # resolvers and exporters call note(...)
    # -> AccessLog rows, one per (subject, task) with the union of the fields read

    record(user, Channel.EXPORT, "serviceHours", [Read(...), ...])   # outside a request

A person reading their own record is not logged (it is theirs); nor is an anonymous caller
(they are refused before anything personal is resolved).
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from .models import AccessLog, Channel, SubjectKind

logger = logging.getLogger(__name__)


@dataclass
class Read:
    subject_kind: str
    subject_id: int
    fields: set[str]
    area_path: str = ""
    subject_user_id: int | None = None
    role: str = ""
    task_id: int | None = None


@dataclass
class _Collector:
    actor: Any
    channel: str
    operation: str
    reads: dict[tuple[str, int], Read] = field(default_factory=dict)

    def add(self, read: Read) -> None:
        """One row per subject: a board listing one volunteer on forty tasks is one read of
        their phone (under the first task it came through), not forty."""
        key = (read.subject_kind, read.subject_id)
        known = self.reads.get(key)
        if known is None:
            self.reads[key] = Read(read.subject_kind, read.subject_id, set(read.fields), read.area_path,
                                   read.subject_user_id, read.role, read.task_id)
        else:
            known.fields |= read.fields
            known.task_id = known.task_id or read.task_id


_current: contextvars.ContextVar[_Collector | None] = contextvars.ContextVar("linli_access_reads", default=None)


def _actor_name(actor: Any) -> str:
    name = getattr(actor, "public_name", None) or getattr(actor, "username", "") or str(actor.pk)
    return str(name)[:150]


def _loggable(actor: Any, read: Read) -> bool:
    """A person reading their own record is not logged; nor is an anonymous caller."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not read.fields:
        return False
    return read.subject_user_id is None or read.subject_user_id != actor.pk


def record(actor: Any, channel: str, operation: str, reads: Iterable[Read]) -> int:
    """Write the access-log rows for `reads` now (merged per subject); returns how many."""
    collector = _Collector(actor, channel, operation)
    for read in reads:
        collector.add(read)
    return _flush(collector)


def _flush(collector: _Collector) -> int:
    # A callable stands for "whoever is signed in when the document ends" (a login mutation
    # may change it midway); anything else is the account itself.
    actor = collector.actor() if callable(collector.actor) else collector.actor
    rows = [
        AccessLog(actor_id=actor.pk, actor_name=_actor_name(actor), role=read.role[:200], task_id=read.task_id,
                  subject_kind=read.subject_kind, subject_id=read.subject_id, subject_user_id=read.subject_user_id,
                  area_path=read.area_path, fields=sorted(read.fields), channel=collector.channel,
                  operation=collector.operation[:100])
        for read in collector.reads.values() if _loggable(actor, read)
    ]
    if rows:
        AccessLog.objects.bulk_create(rows)
    return len(rows)


@contextmanager
def collecting(actor: Any, *, channel: str = Channel.API, operation: str = "") -> Iterator[None]:
    """Gather note() calls made inside and write them when the block ends (also on error:
    what was resolved before the error may have been sent)."""
    collector = _Collector(actor, channel, operation)
    token = _current.set(collector)
    try:
        yield
    finally:
        _current.reset(token)
        if collector.reads:
            _flush(collector)


def note(read: Read) -> None:
    """Record a read in the current request; outside one (a shell, a test helper) it is a
    programming error in production paths, so it is logged and dropped."""
    collector = _current.get()
    if collector is None:
        logger.warning("sensitive read of %s %s outside a recorded request", read.subject_kind, read.subject_id)
        return
    collector.add(read)


def resident_read(resident: Any, fields: Iterable[str], *, role: str = "", task_id: int | None = None) -> Read:
    """A Read of a community.Resident (duck-typed: this module imports no app above it)."""
    return Read(SubjectKind.RESIDENT, resident.pk, set(fields), area_path=resident.grid.path,
                subject_user_id=resident.user_id, role=role, task_id=task_id)
