"""The matrix for subscriptions, over a real WebSocket (graphql-transport-ws).

Refused means: the socket is closed at connection_init (no token: 4442), or the subscription
gets an `error` message (NOT_FOUND/FORBIDDEN/UNAUTHENTICATED) and joins no group; or, for the
"yours only" streams, an event about someone else — even one pushed into the caller's own
group by mistake — never arrives, while the caller's own next event does (so the silence is
not an artefact of a dead stream).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.utils import timezone
from graphql_relay import to_global_id

from community.models import Area, Resident, Role
from community.reports import do_submit_report
from emergency.alerts import issue_alert
from emergency.models import WarningSource
from emergency.safety import start_safety_check
from emergency.switching import switch_mode
from emergency.tasks import run_pending_emergency_jobs
from emergency.warnings.ingest import ingest_cap
from notifications import events
from notifications.models import Notification
from notifications.realtime import publish
from notifications.services import notify
from resources.facilities import check_in, set_facility_status
from resources.models import Facility
from tests.emergency.cap_documents import cap
from tests.resources.conftest import shelter
from tests.world import World, build_world, give_role, make_user
from volunteers.models import Volunteer, VolunteerStatus
from volunteers.services import TaskSpec, create_task, offer_task_to, set_task_headcount

from .world import A_POINT, ALERT


@dataclass
class LiveWorld:
    """The base world plus the few rows the subscriptions are about (all on side A)."""

    base: World
    rows: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name):
        rows = self.__dict__.get("rows", {})
        if name in rows:
            return rows[name]
        return getattr(self.__dict__["base"], name)


USERS = {
    "anonymous": None, "stranger": "stranger", "resident": "resident", "neighbour": "neighbour",
    "other_resident": "other_resident", "volunteer": "volunteer", "other_volunteer": "other_volunteer",
    "worker": "worker_a1", "worker_other_grid": "worker_a2", "worker_other_community": "worker_b1",
    "admin": "admin_a", "admin_other": "admin_b",
}


def _volunteer(username: str, phone: str, grid: Area) -> Volunteer:
    volunteer = Volunteer(user=make_user(username, phone, display_name=username), area=grid,
                          status=VolunteerStatus.APPROVED, approved_at=timezone.now())
    volunteer.set_location(*A_POINT)
    volunteer.save()
    volunteer.service_areas.set([grid])
    return volunteer


def build_live_world() -> LiveWorld:
    w = LiveWorld(build_world())
    b = w.base
    b.users["stranger"] = make_user("stranger", "+8613600000001")
    b.users["neighbour"] = make_user("neighbour", "+8613900000021", display_name="陈邻居")
    b.users["worker_a2"] = make_user("worker_a2", "+8613800000006")
    give_role(b.users["worker_a2"], b.grid_a2, Role.GRID_WORKER)
    for user, name in ((b.resident, "王秀英"), (b.users["neighbour"], "陈邻居")):
        row = Resident(grid=b.grid_a1, display_name=name, user=user, phone=user.phone)
        row.set_location(*A_POINT)
        row.save()
    w.rows["volunteer_row"] = _volunteer("volunteer", "+8613700000101", b.grid_a1)
    w.rows["other_volunteer_row"] = _volunteer("other_volunteer", "+8613700000102", b.grid_a1)
    b.users["volunteer"], b.users["other_volunteer"] = w.volunteer_row.user, w.other_volunteer_row.user
    w.rows["task"] = create_task(TaskSpec(title="甲任务-搬运物资", address="甲社区5幢门口-秘密", location=A_POINT, headcount=2), area=b.grid_a1, created_by=b.worker_a1, dispatch=False)
    w.rows["check"] = start_safety_check(b.com_a, by=b.admin_a, title="甲社区报平安-秘密", is_drill=True)
    run_pending_emergency_jobs()  # one status row per resident
    return w


# --- before and during: facilities and warnings, made on first use ----------------------------------
def live_facility(w, name: str = "closed") -> Facility:
    """The live world's facilities, made on first use: a closed shelter of grid 甲一 (staff
    only) and an open one of community 甲."""
    key = f"facility_{name}"
    if key not in w.rows:
        b = w.base
        if name == "closed":
            w.rows[key] = shelter(b.grid_a1, "live-a1-closed", name="甲一网格备用避难所-秘密", at=A_POINT, open_=False)
        else:
            w.rows[key] = shelter(b.com_a, "live-a-school", name="甲社区避难场所-实时", at=A_POINT, capacity=50)
    return w.rows[key]


def live_open(w) -> None:
    set_facility_status(live_facility(w, "closed"), "OPEN", by=None)


def live_check_in(w) -> None:
    check_in(live_facility(w, "open"), walk_ins=["路人甲"], by=None)


def live_warning(w) -> None:
    source, _ = WarningSource.objects.get_or_create(code="live-cma", defaults={"name": "气象台", "kind": "CAP_WEBHOOK", "secret": "k"})
    ingest_cap(cap(f"live-{timezone.now().timestamp()}", circle="30.270000,120.150000 1", headline="甲社区暴雨预警-秘密"),
               source=source)


def user_for(w: LiveWorld, caller: str):
    key = USERS[caller]
    return None if key is None else w.base.users[key]




class WsForm(StrEnum):
    CLOSED = "CLOSED"  # refused at connection_init (4442): no token
    ERROR = "ERROR"  # an `error` message; no group joined
    SILENT = "SILENT"  # a "yours only" stream: someone else's event never arrives


@dataclass(frozen=True)
class SubEntry:
    field: str
    document: str  # operation name
    variables: Callable[[LiveWorld], dict]
    group: Callable[[LiveWorld], str]  # the group the subscription listens to (for the target)
    trigger: Callable[[LiveWorld], None]  # make the event happen (for the target)
    allowed: Mapping[str, Callable[[dict, LiveWorld], None]]
    refused: Mapping[str, WsForm]
    secrets: tuple[str, ...] = ()
    # SILENT: (group of the caller's own stream, a wrongly addressed event about the target,
    # the caller's own event that must still arrive)
    own_group: Callable[[LiveWorld, Any], str] | None = None
    misaddressed: Callable[[LiveWorld, Any], None] | None = None
    own_event: Callable[[LiveWorld, Any], None] | None = None

    @property
    def name(self) -> str:
        return self.field.split(".", 1)[1]


def gid(type_name: str, row) -> str:
    return to_global_id(type_name, row.pk)


def _has(*texts: str):
    def check(data, w):
        import json

        text = json.dumps(data, ensure_ascii=False)
        for t in texts:
            assert t in text, (t, text)

    return check


def _notify_resident(w: LiveWorld) -> None:
    notify(w.base.resident, kind="test.private", title="给王秀英的私人通知", body="您的药已送达-甲")


def _misaddressed_notification(w: LiveWorld, user) -> None:
    """The resident's notification pushed into the caller's own group (a routing mistake)."""
    _notify_resident(w)
    theirs = Notification.objects.filter(user=w.base.resident).latest("id")
    publish(events.user_group(user.pk), events.make_event(events.NOTIFICATION_CREATED, notificationId=theirs.pk))


def _misaddressed_offer(w: LiveWorld, user) -> None:
    offer = offer_task_to(w.task, w.volunteer_row, by=w.base.worker_a1)
    publish(events.user_group(user.pk), events.make_event(events.OFFER_CREATED, offerId=offer.pk, taskId=w.task.pk))


def _offer_to_caller(w: LiveWorld, user) -> None:
    offer_task_to(w.task, Volunteer.objects.get(user=user), by=w.base.worker_a1)


NOT_MINE = {"anonymous": WsForm.CLOSED}

ENTRIES = [
    SubEntry("Subscription.areaAlerts", "emergency/OnAreaAlert", lambda w: {"areaId": gid("Area", w.com_a)},
             group=lambda w: events.area_group(w.com_a.pk),
             trigger=lambda w: issue_alert(w.com_a, {**ALERT, "headline": "甲社区台风预警-秘密"}, by=w.admin_a, is_drill=True),
             allowed={"resident": _has("甲社区台风预警-秘密"), "worker": _has("甲社区台风预警-秘密")},
             refused={"anonymous": WsForm.CLOSED, "stranger": WsForm.ERROR, "other_resident": WsForm.ERROR,
                      "worker_other_community": WsForm.ERROR, "admin_other": WsForm.ERROR},
             secrets=("甲社区台风预警-秘密",)),
    SubEntry("Subscription.areaModeChanged", "community/OnAreaModeChanged", lambda w: {"areaId": gid("Area", w.grid_a1)},
             group=lambda w: events.area_group(w.com_a.pk),
             trigger=lambda w: switch_mode(w.com_a, "STANDBY", by=w.admin_a, reason="甲社区演练切换-秘密", is_drill=True),
             allowed={"resident": _has("甲社区演练切换-秘密"), "worker": _has("STANDBY")},
             refused={"anonymous": WsForm.CLOSED, "stranger": WsForm.ERROR, "other_resident": WsForm.ERROR,
                      "worker_other_community": WsForm.ERROR},
             secrets=("甲社区演练切换-秘密",)),
    SubEntry("Subscription.facilityUpdated", "resources/OnFacilityUpdated",
             lambda w: {"facilityId": gid("Facility", live_facility(w))},
             group=lambda w: events.facility_group(live_facility(w).pk), trigger=live_open,
             allowed={"worker": _has('"capacity": 4'), "admin": _has('"capacity": 4')},  # its state, at once
             refused={"anonymous": WsForm.CLOSED, "resident": WsForm.ERROR, "other_resident": WsForm.ERROR,
                      "worker_other_community": WsForm.ERROR, "admin_other": WsForm.ERROR}),
    SubEntry("Subscription.facilitiesInArea", "resources/OnFacilitiesInArea", lambda w: {"areaId": gid("Area", w.com_a)},
             group=lambda w: events.area_group(w.com_a.pk), trigger=live_check_in,
             allowed={"admin": _has("甲社区避难场所-实时")},
             refused={"anonymous": WsForm.CLOSED, "resident": WsForm.ERROR, "worker": WsForm.ERROR,
                      "worker_other_community": WsForm.ERROR, "admin_other": WsForm.ERROR}),
    SubEntry("Subscription.warningProposed", "emergency/OnWarningProposed", lambda w: {"areaId": gid("Area", w.com_a)},
             group=lambda w: events.area_group(w.com_a.pk), trigger=live_warning,
             allowed={"admin": _has("甲社区暴雨预警-秘密")},
             refused={"anonymous": WsForm.CLOSED, "resident": WsForm.ERROR, "worker": WsForm.ERROR,
                      "worker_other_community": WsForm.ERROR, "admin_other": WsForm.ERROR},
             secrets=("甲社区暴雨预警-秘密",)),
    SubEntry("Subscription.myNotifications", "notifications/OnMyNotification", lambda w: {},
             group=lambda w: events.user_group(w.base.resident.pk), trigger=_notify_resident,
             allowed={"resident": _has("给王秀英的私人通知")},
             refused={"anonymous": WsForm.CLOSED, "neighbour": WsForm.SILENT, "worker": WsForm.SILENT},
             secrets=("给王秀英的私人通知", "您的药已送达-甲"),
             own_group=lambda w, user: events.user_group(user.pk), misaddressed=_misaddressed_notification,
             own_event=lambda w, user: notify(user, kind="test.own", title="你自己的通知", body="自己的")),
    SubEntry("Subscription.myOffers", "tasks/OnMyOffers", lambda w: {},
             group=lambda w: events.user_group(w.volunteer_row.user_id),
             trigger=lambda w: offer_task_to(w.task, w.volunteer_row, by=w.worker_a1),
             allowed={"volunteer": _has("甲任务-搬运物资")},
             refused={"anonymous": WsForm.CLOSED, "other_volunteer": WsForm.SILENT},
             own_group=lambda w, user: events.user_group(user.pk), misaddressed=_misaddressed_offer,
             own_event=_offer_to_caller),
    SubEntry("Subscription.reportsInArea", "community/OnReportsInArea", lambda w: {"areaId": gid("Area", w.grid_a1)},
             group=lambda w: events.area_group(w.grid_a1.pk),
             trigger=lambda w: do_submit_report(w.resident, kind="help", description="楼道堆放杂物-甲-求助", location=A_POINT),
             allowed={"worker": _has("楼道堆放杂物-甲-求助"), "admin": _has("楼道堆放杂物-甲-求助")},
             refused={"anonymous": WsForm.CLOSED, "resident": WsForm.ERROR, "worker_other_grid": WsForm.ERROR,
                      "worker_other_community": WsForm.ERROR, "admin_other": WsForm.ERROR},
             secrets=("楼道堆放杂物-甲-求助",)),
    SubEntry("Subscription.safetyCheckCounts", "emergency/OnSafetyCheckCounts",
             lambda w: {"safetyCheckId": gid("SafetyCheck", w.check)},
             group=lambda w: events.safety_check_group(w.check.pk), trigger=lambda w: None,
             allowed={"admin": _has('"total": 2'), "worker": _has('"total": 2')},
             refused={"anonymous": WsForm.CLOSED, "resident": WsForm.ERROR, "other_volunteer": WsForm.ERROR,
                      "worker_other_community": WsForm.ERROR, "admin_other": WsForm.ERROR}),
    SubEntry("Subscription.taskUpdated", "tasks/OnTaskUpdated", lambda w: {"taskId": gid("Task", w.task)},
             group=lambda w: events.task_group(w.task.pk),
             trigger=lambda w: set_task_headcount(w.task, 3, by=w.worker_a1),
             allowed={"worker": _has('"headcount": 3'), "admin": _has('"headcount": 3')},
             refused={"anonymous": WsForm.CLOSED, "resident": WsForm.ERROR, "other_volunteer": WsForm.ERROR,
                      "worker_other_grid": WsForm.ERROR, "worker_other_community": WsForm.ERROR,
                      "admin_other": WsForm.ERROR}),
    SubEntry("Subscription.tasksInArea", "tasks/OnTasksInArea", lambda w: {"areaId": gid("Area", w.grid_a1)},
             group=lambda w: events.area_group(w.grid_a1.pk),
             trigger=lambda w: create_task(TaskSpec(title="甲任务-新建-秘密", location=A_POINT, deadline=timezone.now() + dt.timedelta(hours=4)), area=w.grid_a1, created_by=w.worker_a1, dispatch=False),
             allowed={"worker": _has("甲任务-新建-秘密"), "admin": _has("甲任务-新建-秘密")},
             refused={"anonymous": WsForm.CLOSED, "volunteer": WsForm.ERROR, "worker_other_grid": WsForm.ERROR,
                      "worker_other_community": WsForm.ERROR, "admin_other": WsForm.ERROR},
             secrets=("甲任务-搬运物资",)),
]
