"""Which drill covers an area: the overlay's read side (the switch is emergency.switching).

    active_drill(area) -> Drill | None     # the drill running on the area itself
    covering_drill(area) -> Drill | None   # on the area or its nearest ancestor that has one

Nothing real reads these: answer times, pools, overrides and effective modes read the real
mode. They tell the API (Area.activeDrill) and tie what a drill creates to it.
"""

from __future__ import annotations

from django.db.models import Q

from community.models import Area, ModeSwitch

from .models import Drill


def active_drill(area: Area) -> Drill | None:
    return Drill.objects.filter(area=area, ended_at__isnull=True).select_related("area").first()


def covering_drill(area: Area) -> Drill | None:
    return (Drill.objects.filter(area__path__in=area.ancestor_paths(), ended_at__isnull=True)
            .select_related("area").order_by("-area__depth").first())


def drill_of(switch: ModeSwitch) -> Drill | None:
    """The drill a drill switch started, changed or ended: its area's drill running then."""
    if not switch.is_drill:
        return None
    return (Drill.objects.filter(area_id=switch.area_id, started_at__lte=switch.switched_at)
            .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=switch.switched_at))
            .select_related("area").order_by("-started_at", "-id").first())
