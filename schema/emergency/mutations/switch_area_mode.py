import graphene

from community.models import Area
from community.permissions import Action
from emergency.drills import drill_of
from emergency.models import WindDown
from emergency.switching import switch_mode

from ...community.types import AreaType, ModeEnum
from ...core.lookup import get_node_or_error
from ...core.mutations import BaseMutation
from ...core.permissions import require
from ...core.types import plain
from ..drill_types import DrillType, WindDownType
from ..types import ModeSwitchType


class SwitchAreaMode(BaseMutation):
    """Set an area's own mode (it applies to the whole subtree). Entitled roles only. Entering a
    mode runs the area's response plan in the background (switch.planRun), and the own plans
    of descendants that have one for that mode (planRun.descendantRuns); legal moves are in
    community.modes.MODE_TRANSITIONS.

    isDrill: true starts, changes or ends the area's drill instead (a drill ends on NORMAL);
    the real mode does not change. Entering RECOVERY or NORMAL, or ending a drill, winds down
    what that footing started (windDown)."""

    area = graphene.Field(AreaType)
    switch = graphene.Field(ModeSwitchType)
    drill = graphene.Field(DrillType, description="isDrill: the drill started, changed or ended.")
    wind_down = graphene.Field(WindDownType, description="What this switch winds down (null when it ends no footing).")

    class Arguments:
        area_id = graphene.ID(required=True)
        mode = ModeEnum(required=True)
        reason = graphene.String(default_value="")
        is_drill = graphene.Boolean(default_value=False)
        skip_recovery = graphene.Boolean(
            default_value=False, description="EMERGENCY -> NORMAL without RECOVERY (e.g. a false alarm); needs a reason.")

    class Meta:
        idempotent = True

    @classmethod
    def perform_mutation(cls, root, info, area_id, mode, reason="", is_drill=False, skip_recovery=False):
        area = get_node_or_error(Area, area_id, "area_id")
        user = require(info, Action.SWITCH_MODE, area)
        switch = switch_mode(area, plain(mode), by=user, reason=reason, is_drill=is_drill,
                                skip_recovery=skip_recovery)
        return cls(errors=[], area=area, switch=switch, drill=drill_of(switch),
                   wind_down=WindDown.objects.filter(mode_switch=switch).first())
