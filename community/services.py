"""Community services: check_* validates and raises ValidationError(code=...);
do_* owns the transaction, writes and emits (events after commit)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from backend.errors import ValidationError
from notifications import events
from notifications.realtime import publish_on_commit

from .error_codes import CommunityErrorCode
from .models import Area, Mode, ModeSwitch, User


def check_switch_mode(area: Area, to_mode: str, reason: str) -> None:
    if to_mode not in Mode.values:
        raise ValidationError({"mode": "Unknown mode."}, code=CommunityErrorCode.INVALID_MODE)
    if len(reason) > 2000:
        raise ValidationError({"reason": "At most 2000 characters."}, code=CommunityErrorCode.INVALID)


def do_switch_mode(
    area: Area, to_mode: str, *, by: User | None, reason: str = "", is_drill: bool = False
) -> ModeSwitch:
    """Set `area`'s own mode. Concurrent switches of one area serialise on its row lock; each
    is recorded, and the last to commit is the area's state."""
    check_switch_mode(area, to_mode, reason)
    with transaction.atomic():
        locked = Area.objects.select_for_update().get(pk=area.pk)
        switch = ModeSwitch.objects.create(
            area=locked,
            from_mode=locked.mode,
            to_mode=to_mode,
            reason=reason,
            is_drill=is_drill,
            switched_by=by,
        )
        now = timezone.now()
        Area.objects.filter(pk=locked.pk).update(mode=to_mode, mode_changed_at=now)
        area.mode, area.mode_changed_at = to_mode, now
        publish_on_commit(
            events.area_group(locked.pk),
            events.make_event(
                events.AREA_MODE_CHANGED,
                areaId=locked.pk,
                mode=to_mode,
                fromMode=switch.from_mode,
                isDrill=is_drill,
                reason=reason,
                switchId=switch.pk,
                changedAt=now.isoformat(),
            ),
        )
    return switch
