"""SHIM — delete when notifications.outbox.supersede_messages is on main (issue 14).

Another engineer builds `notifications.outbox.supersede_messages(related, *, reason) -> int`
(not-yet-sent outbox rows about those objects become SUPERSEDED). Until it lands, this stand-in
with the same signature marks them REFUSED with error code "superseded" (SmsStatus has no
SUPERSEDED yet): never sent, and counted apart in the after-action report. Only the wind-down
calls it; switching the import in emergency/winddown.py and emergency/safety_answers.py is
all the change the real one needs.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model
from django.utils import timezone

from notifications.models import SmsMessage, SmsStatus

SUPERSEDED_CODE = "superseded"


def supersede_messages(related: Model | Iterable[Model], *, reason: str) -> int:
    objects = [related] if isinstance(related, Model) else list(related)
    by_type: dict[type[Model], list[str]] = {}
    for obj in objects:
        by_type.setdefault(type(obj), []).append(str(obj.pk))
    dropped = 0
    for model, ids in by_type.items():
        kind = ContentType.objects.get_for_model(model)
        for start in range(0, len(ids), 900):
            dropped += SmsMessage.objects.filter(
                related_type=kind, related_id__in=ids[start:start + 900], status=SmsStatus.QUEUED,
            ).update(status=SmsStatus.REFUSED, error_code=SUPERSEDED_CODE, error_message=reason[:500],
                     status_changed_at=timezone.now())
    return dropped
