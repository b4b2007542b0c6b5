"""The demo city's response plans (预案), so that switching a demo area's mode does what a
real one would (a demo step: community.demo discovers it)."""

from __future__ import annotations

from typing import Any

from community.demo import DemoCity, register_demo_step
from community.models import Area, AreaKind, Mode
from resources.demo_steps import shelter_code

from .plans import save_plan_version

# Response plans (预案) so that switching a demo area's mode does what a real one would.
_ALERT = {
    "categories": ["Met"], "event": "暴雨", "urgency": "Immediate", "severity": "Severe", "certainty": "Likely",
    "headline": "暴雨红色预警：社区进入应急状态", "instruction": "请远离地下空间和低洼地带，老人儿童留在家中，需要帮助请回复2。",
    "expires_in_minutes": 720,
}
_WARNING = {**_ALERT, "urgency": "Expected", "severity": "Moderate", "headline": "暴雨预警：请做好防范",
            "instruction": "请关好门窗，检查家中排水，留意社区通知。"}
EMERGENCY_PLAN: list[dict[str, Any]] = [
    {"type": "FACILITIES", "params": {"status": "OPEN", "kinds": ["SHELTER", "MEDICAL", "WATER"]}},
    {"type": "ALERT", "params": _ALERT},
    {"type": "SAFETY_CHECK", "params": {"title": "暴雨报平安", "welfare_after_minutes": 30}},
    {"type": "MOBILISE", "params": {"level": "CALL_IN", "message": "社区进入应急状态，请尽快到社区报到。"}},
    {"type": "SET_DISPATCH", "params": {"answer_seconds": 120}},
    {"type": "CREATE_TASKS", "params": {"target": "HAZARD_POINTS", "title": "巡查易涝点", "hazard_kinds": ["waterlogging"]}},
    {"type": "CREATE_TASKS", "params": {"target": "VULNERABLE_RESIDENTS", "title": "探访独居老人"}},
]
STANDBY_PLAN = [
    {"type": "ALERT", "params": _WARNING},
    {"type": "MOBILISE", "params": {"level": "STANDBY", "message": "暴雨预警，请做好随时支援的准备。"}},
]


def demo_plans(demo: DemoCity) -> None:
    commander = demo.staff["commander1"]
    district = Area.objects.get(kind=AreaKind.DISTRICT)
    save_plan_version(district, Mode.STANDBY, name="区级暴雨预警预案", actions=STANDBY_PLAN, by=commander)
    for community in demo.communities:
        # The alert names the community's own shelter, which the plan's first action opens.
        actions = [{**a, "params": {**a["params"], "shelter_codes": [shelter_code(community)]}} if a["type"] == "ALERT" else a
                   for a in EMERGENCY_PLAN]
        save_plan_version(community, Mode.EMERGENCY, name=f"{community.name}防汛应急预案", actions=actions, by=commander)
    # Recovery sends people home from the shelters (water and medical points stay open).
    recovery = [{"type": "FACILITIES", "params": {"status": "CLOSED", "kinds": ["SHELTER"]}}]
    for community in demo.communities:
        save_plan_version(community, Mode.RECOVERY, name=f"{community.name}灾后恢复预案", actions=recovery, by=commander)


register_demo_step(40, demo_plans)
