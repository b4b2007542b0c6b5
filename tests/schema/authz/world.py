"""A two-community world with one of everything, for the authorization matrix.

Everything a caller might try to reach lives on side A (community 甲, grid 甲一); side B
(community 乙, grid 乙一) holds the same things for the other community's staff and people,
so their lists are not empty by accident. Rows are made by the services the API calls (a
mode switch runs its plan, an alert and a safety check fan out), so the objects look like
production ones. `secrets` holds, per target, the strings a refused caller must never see:
`personal` (phones, addresses, care notes, certificate numbers) and `identity` (names, titles
and descriptions of things that are not theirs).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone
from graphql_jwt.refresh_token.utils import get_refresh_token_model
from graphql_relay import to_global_id

from community.hazards import do_create_hazard_point, do_record_inspection
from community.models import (
    Area,
    EmergencyContact,
    HazardPoint,
    Household,
    ModeSwitch,
    Resident,
    Role,
    User,
)
from community.reports import do_submit_report
from community.rights import request_correction
from emergency.alerts import issue_alert
from emergency.models import (
    Drill,
    Mobilisation,
    PlanRun,
    SafetyStatus,
    Sensor,
    WarningProposal,
    WarningSource,
    WindDown,
)
from emergency.plans import save_plan_version
from emergency.safety import start_safety_check
from emergency.safety_answers import answer_safety_check
from emergency.switching import switch_mode
from emergency.tasks import run_pending_emergency_jobs
from emergency.warnings.ingest import ingest_cap
from notifications.devices import register_device
from notifications.services import notify
from privacy.access import record, resident_read
from privacy.models import Channel
from resources.deliveries import add_task_supply
from resources.facilities import FacilitySpec, check_in, save_facility, set_facility_status
from resources.models import Facility, Stock
from resources.supplies import ItemSpec, distribute, receive, save_item, save_warehouse
from tests.emergency.cap_documents import cap
from tests.world import World, build_world, give_role, make_user
from volunteers.models import (
    ActivitySignup,
    PartyMemberRegistration,
    PartyRegistrationStatus,
    ServiceActivity,
    ServiceHoursKind,
    Skill,
    Task,
    TaskEvent,
    Volunteer,
    VolunteerSkill,
    VolunteerStatus,
)
from volunteers.services import (
    TaskSpec,
    TeamSpec,
    add_person,
    add_team_member,
    close_task,
    create_task,
    do_check_in,
    offer_task_to,
    offer_task_to_team,
    record_service_hours,
    save_team,
)

A_POINT = (30.271, 120.151)  # grid 甲一's centre
B_POINT = (30.291, 120.171)  # grid 乙一's centre

ALERT = {
    "categories": ["Met"], "event": "台风", "urgency": "Immediate", "severity": "Severe", "certainty": "Likely",
    "instruction": "请留在室内", "expires_in_minutes": 720,
}


@dataclass
class Secrets:
    personal: list[str] = field(default_factory=list)
    identity: list[str] = field(default_factory=list)

    def all(self) -> list[str]:
        return self.personal + self.identity


@dataclass
class AuthzWorld:
    base: World
    users: dict[str, User] = field(default_factory=dict)
    rows: dict[str, object] = field(default_factory=dict)
    secrets: dict[str, Secrets] = field(default_factory=dict)

    def __getattr__(self, name):
        for bag in ("rows", "users"):
            found = self.__dict__.get(bag, {})
            if name in found:
                return found[name]
        base = self.__dict__.get("base")
        if base is not None:
            return getattr(base, name)
        raise AttributeError(name)

    def gid(self, name: str) -> str:
        """The Relay ID of a named row (or area / user of the base world)."""
        row = getattr(self, name)
        return to_global_id(type(row).__name__, row.pk)  # model names are the GraphQL type names

    def qgid(self, name: str) -> str:
        """The Relay ID as it appears in a JSON answer (quoted: "QXJlYTo3" is a prefix of "QXJlYTo3MA==")."""
        return f'"{self.gid(name)}"'

    def secret(self, *names: str, personal_only: bool = False) -> list[str]:
        found: list[str] = []
        for name in names:
            s = self.secrets[name]
            found += s.personal if personal_only else s.all()
        return found


# --- people -----------------------------------------------------------------------------------
def _resident(grid: Area, name: str, *, phone: str | None, user: User | None = None, point=None, **fields) -> Resident:
    row = Resident(grid=grid, display_name=name, phone=phone, user=user, **fields)
    row.set_location(*(point or (grid.center_lat, grid.center_lng)))
    row.save()
    return row


def _volunteer(user: User, area: Area, point, status=VolunteerStatus.APPROVED, certificate: str = "", **fields) -> Volunteer:
    now = timezone.now()
    volunteer = Volunteer(user=user, area=area, status=status, on_duty_until=now + dt.timedelta(hours=12), **fields)
    if status == VolunteerStatus.APPROVED:
        volunteer.approved_at = now
    if status == VolunteerStatus.SUSPENDED:
        volunteer.suspended_at, volunteer.suspended_reason = now, "多次爽约"
    volunteer.set_location(*point)
    volunteer.save()
    volunteer.service_areas.set([area])
    if certificate:
        VolunteerSkill.objects.create(volunteer=volunteer, skill=Skill.objects.get(code="first_aid"), certificate_ref=certificate,
                                      expires_on=(now + dt.timedelta(days=365)).date())
    return volunteer


def _person(w: AuthzWorld, key: str, name: str, phone: str | None) -> User:
    user = make_user(key, phone, display_name=name)
    w.users[key] = user
    return user


def _build_people(w: AuthzWorld) -> None:
    b = w.base
    _person(w, "worker_a2", "网格员甲二", "+8613800000006")
    give_role(w.worker_a2, b.grid_a2, Role.GRID_WORKER)
    _person(w, "stranger", "路人", "+8613600000001")
    for key in ("resident", "other_resident"):
        w.users[key] = getattr(b, key)
    User.objects.filter(pk=b.resident.pk).update(display_name="王秀英")
    User.objects.filter(pk=b.other_resident.pk).update(display_name="赵桂兰")
    _person(w, "spouse", "李建国", "+8613900000011")
    _person(w, "neighbour", "陈邻居", "+8613900000021")
    home = Household.objects.create(grid=b.grid_a1, label="1幢101-甲", address="甲社区1幢101室")
    w.rows["home"] = home
    w.rows["resident_row"] = _resident(b.grid_a1, "王秀英", phone="+8613900000001", user=b.resident, household=home,
                                       address="甲社区1幢101室", elderly_living_alone=True, care_notes="需要助行器-甲")
    w.rows["spouse_row"] = _resident(b.grid_a1, "李建国", phone="+8613900000011", user=w.spouse, household=home,
                                     address="甲社区1幢101室")
    w.rows["neighbour_row"] = _resident(b.grid_a1, "陈邻居", phone="+8613900000021", user=w.neighbour,
                                        address="甲社区2幢202室", care_notes="邻居备注-甲")
    w.rows["elder_row"] = _resident(b.grid_a1, "孙大娘", phone="+8613900000031", address="甲社区3幢303室",
                                    reduced_mobility=True, care_notes="卧床-需每日探视-甲")
    w.rows["contact"] = EmergencyContact.objects.create(resident=w.resident_row, name="王强", phone="+8613700000009",
                                                        relation="family")
    home_b = Household.objects.create(grid=b.grid_b1, label="2幢202-乙", address="乙社区2幢202室")
    w.rows["home_b"] = home_b
    w.rows["other_row"] = _resident(b.grid_b1, "赵桂兰", phone="+8613900000002", user=b.other_resident, household=home_b,
                                    address="乙社区2幢202室", disabled=True, care_notes="独自居住-乙")
    w.secrets["resident"] = Secrets(["13900000001", "甲社区1幢101室", "需要助行器-甲", "王强", "13700000009"], ["王秀英"])
    # What a household member must not see of the resident (they share the address).
    w.secrets["resident_private"] = Secrets(["13900000001", "需要助行器-甲", "王强", "13700000009"], [])
    w.secrets["spouse"] = Secrets(["13900000011"], ["李建国"])
    w.secrets["neighbour"] = Secrets(["13900000021", "甲社区2幢202室", "邻居备注-甲"], ["陈邻居"])
    w.secrets["elder"] = Secrets(["13900000031", "甲社区3幢303室", "卧床-需每日探视-甲"], ["孙大娘"])
    w.secrets["household"] = Secrets(["甲社区1幢101室"], ["1幢101-甲", "王秀英", "李建国"])
    w.secrets["contact"] = Secrets(["13700000009"], ["王强"])
    w.secrets["other"] = Secrets(["13900000002", "乙社区2幢202室", "独自居住-乙"], ["赵桂兰"])


def _build_volunteers(w: AuthzWorld) -> None:
    b = w.base
    w.rows["volunteer_row"] = _volunteer(_person(w, "volunteer", "小王甲", "+8613700000101"), b.grid_a1, A_POINT,
                                         certificate="CERT-甲-7781", max_concurrent_tasks=3)
    w.rows["other_volunteer_row"] = _volunteer(_person(w, "other_volunteer", "小李甲", "+8613700000102"), b.grid_a1, A_POINT)
    w.rows["pending_row"] = _volunteer(_person(w, "pending_volunteer", "小赵待审", "+8613700000103"), b.grid_a1, A_POINT,
                                       status=VolunteerStatus.PENDING)
    w.rows["suspended_row"] = _volunteer(_person(w, "suspended_volunteer", "小钱停用", "+8613700000104"), b.grid_a1,
                                         A_POINT, status=VolunteerStatus.SUSPENDED)
    w.rows["volunteer_b_row"] = _volunteer(_person(w, "volunteer_b", "小王乙", "+8613700000201"), b.grid_b1, B_POINT,
                                           certificate="CERT-乙-9902")
    w.secrets["volunteer"] = Secrets(["13700000101", "CERT-甲-7781"], ["小王甲"])
    w.secrets["pending"] = Secrets(["13700000103"], ["小赵待审"])
    w.secrets["suspended"] = Secrets(["13700000104"], ["小钱停用"])
    w.secrets["volunteer_b"] = Secrets(["13700000201", "CERT-乙-9902"], ["小王乙"])
    # Of community 乙, living 1.5 km north of 甲一's centre: the mutual-aid helper (see _build_tasks).
    w.rows["helper_b_row"] = _volunteer(_person(w, "helper_b", "小张乙", "+8613700000202"), b.grid_b1,
                                        (A_POINT[0] + 0.0135, A_POINT[1]), max_concurrent_tasks=5)
    w.secrets["helper_b"] = Secrets(["13700000202"], ["小张乙"])
    party = dict(party_branch="第一党支部-甲")
    w.rows["party_row"] = PartyMemberRegistration.objects.create(
        user=_person(w, "party_member", "党员甲", "+8613700000301"), community=b.com_a,
        status=PartyRegistrationStatus.CONFIRMED, name="党员甲", home_address="甲社区党员楼8号", confirmed_at=timezone.now(),
        work_unit="市供电公司-甲", **party)
    w.rows["party_pending_row"] = PartyMemberRegistration.objects.create(
        user=_person(w, "party_pending", "党员待审", "+8613700000302"), community=b.com_a, name="党员待审",
        home_address="甲社区待审楼9号", work_unit="区教育局-甲", **party)
    w.rows["party_b_row"] = PartyMemberRegistration.objects.create(
        user=_person(w, "party_b", "党员乙", "+8613700000401"), community=b.com_b, status=PartyRegistrationStatus.CONFIRMED,
        name="党员乙", home_address="乙社区党员楼1号", work_unit="乙单位", party_branch="乙支部", confirmed_at=timezone.now())
    w.secrets["party"] = Secrets(["13700000301", "甲社区党员楼8号"], ["党员甲", "市供电公司-甲"])
    w.secrets["party_pending"] = Secrets(["13700000302", "甲社区待审楼9号"], ["党员待审"])


# --- places, reports, plans, alerts, checks -----------------------------------------------------
def _build_hazards_and_reports(w: AuthzWorld) -> None:
    b = w.base
    past = timezone.now() - dt.timedelta(days=3)
    hazard = do_create_hazard_point(by=b.worker_a1, grid=b.grid_a1, location=A_POINT, first_due=past, data={
        "name": "甲一易涝点", "kind": "waterlogging", "severity": 3, "address": "甲社区低洼路口",
        "description": "雨季积水-甲", "inspection_interval_days": 30})
    HazardPoint.objects.filter(pk=hazard.pk).update(next_inspection_due=past)
    w.rows["hazard"] = HazardPoint.objects.get(pk=hazard.pk)
    w.rows["inspection"] = do_record_inspection(w.hazard, by=b.worker_a1, result="issues_found", findings="积水30厘米-甲",
                                                inspected_at=past - dt.timedelta(days=40))
    HazardPoint.objects.filter(pk=hazard.pk).update(next_inspection_due=past)
    w.rows["hazard"] = HazardPoint.objects.get(pk=hazard.pk)
    w.rows["hazard_b"] = do_create_hazard_point(by=b.worker_b1, grid=b.grid_b1, location=B_POINT, data={
        "name": "乙一边坡", "kind": "slope", "severity": 2, "inspection_interval_days": 30})
    w.rows["report"] = do_submit_report(b.resident, kind="help", description="楼道堆放杂物-甲-求助", location=A_POINT)
    w.rows["report_b"] = do_submit_report(b.other_resident, kind="hazard", description="乙社区井盖缺失", location=B_POINT)
    w.secrets["hazard"] = Secrets(["甲社区低洼路口"], ["甲一易涝点", "雨季积水-甲", "积水30厘米-甲"])
    w.secrets["report"] = Secrets(["13900000001"], ["楼道堆放杂物-甲-求助", "王秀英"])


def _build_emergency(w: AuthzWorld) -> None:
    b = w.base
    mobilise = [{"type": "MOBILISE", "params": {"level": "CALL_IN", "include_party_members": True}}]
    w.rows["plan"] = save_plan_version(b.com_a, "STANDBY", name="甲社区预警预案", actions=mobilise, by=b.admin_a,
                                       description="甲社区集结-秘密")
    save_plan_version(b.com_b, "STANDBY", name="乙社区预警预案", actions=mobilise, by=b.admin_b)
    w.rows["switch"] = switch_mode(b.com_a, "STANDBY", by=b.admin_a, reason="甲社区演练切换-秘密", is_drill=True)
    switch_mode(b.com_b, "STANDBY", by=b.admin_b, reason="乙社区演练", is_drill=True)
    w.rows["alert"] = issue_alert(b.com_a, {**ALERT, "headline": "甲社区台风预警-秘密"}, by=b.admin_a, is_drill=True)
    w.rows["alert_b"] = issue_alert(b.com_b, {**ALERT, "headline": "乙社区台风预警"}, by=b.admin_b, is_drill=True)
    w.rows["check"] = start_safety_check(b.com_a, by=b.admin_a, title="甲社区报平安-秘密", is_drill=True)
    w.rows["check_b"] = start_safety_check(b.com_b, by=b.admin_b, title="乙社区报平安", is_drill=True)
    run_pending_emergency_jobs()
    w.rows["run"] = PlanRun.objects.get(mode_switch=w.switch)
    w.rows["switch"] = ModeSwitch.objects.get(pk=w.switch.pk)
    w.rows["status"] = SafetyStatus.objects.get(safety_check=w.check, resident=w.resident_row)
    w.rows["mobilisation"] = Mobilisation.objects.get(user=w.volunteer, area=b.com_a)
    w.secrets["plan"] = Secrets([], ["甲社区预警预案", "甲社区集结-秘密"])
    w.secrets["switch"] = Secrets([], ["甲社区演练切换-秘密", "甲社区预警预案"])
    w.secrets["alert"] = Secrets([], ["甲社区台风预警-秘密"])
    w.secrets["check"] = Secrets([], ["甲社区报平安-秘密"])
    w.secrets["mobilisation"] = Secrets([], [w.qgid("mobilisation")])
    # A drill practised and ended on grid A1: its wind-down (com_a's own drill runs on).
    switch_mode(b.grid_a1, "EMERGENCY", by=b.admin_a, reason="甲一网格演练", is_drill=True)
    ended = switch_mode(b.grid_a1, "NORMAL", by=b.admin_a, reason="甲一网格演练结束-秘密", is_drill=True)
    run_pending_emergency_jobs()
    w.rows["wind_down"] = WindDown.objects.get(mode_switch=ended)
    w.rows["drill"] = Drill.objects.get(area=b.com_a)


# --- tasks, activities, hours, notifications ---------------------------------------------------
def _build_tasks(w: AuthzWorld) -> None:
    b = w.base
    w.rows["task"] = create_task(TaskSpec(title="甲任务-搬运物资", address="甲社区5幢门口-秘密", location=A_POINT, headcount=2, description="搬运-甲"), area=b.grid_a1, created_by=b.worker_a1, dispatch=False)
    w.rows["assignment"] = add_person(w.task, w.volunteer_row, by=b.worker_a1)
    w.rows["task_offered"] = create_task(TaskSpec(title="甲任务-送药上门", address="甲社区6幢-秘密", location=A_POINT, headcount=1), area=b.grid_a1, created_by=b.worker_a1, dispatch=False)
    w.rows["offer"] = offer_task_to(w.task_offered, w.volunteer_row, by=b.worker_a1)
    w.rows["task_b"] = create_task(TaskSpec(title="乙任务-巡查", address="乙社区7幢", location=B_POINT, headcount=1), area=b.grid_b1, created_by=b.worker_b1, dispatch=False)
    w.rows["assignment_b"] = add_person(w.task_b, w.volunteer_b_row, by=b.worker_b1)
    _build_mutual_aid(w)
    for name in ("task", "task_offered", "offer", "assignment"):
        w.rows[name] = type(w.rows[name]).objects.get(pk=w.rows[name].pk)
    w.rows["task_event"] = TaskEvent.objects.filter(task=w.task).order_by("id").first()
    # The neighbour asks for help in the safety check: a life-safety task at their home address.
    answer_safety_check(SafetyStatus.objects.select_related("resident__user", "grid", "safety_check").get(
        safety_check=w.check, resident=w.neighbour_row), "NEED_HELP", by=w.neighbour, channel="APP",
        note="腿受伤-需要担架-甲", location=A_POINT)
    w.rows["need_help_task"] = Task.objects.get(pk=SafetyStatus.objects.get(
        safety_check=w.check, resident=w.neighbour_row).need_help_task_id)
    w.secrets["need_help_address"] = Secrets(["甲社区2幢202室"], [])
    w.secrets["need_help_note"] = Secrets(["腿受伤-需要担架-甲"], [])
    w.secrets["task"] = Secrets(["甲社区5幢门口-秘密"], ["甲任务-搬运物资", "搬运-甲"])
    w.secrets["task_offered"] = Secrets(["甲社区6幢-秘密"], ["甲任务-送药上门"])
    # (The offer's SMS reply code is two characters: too short to look for; checked field by field.)
    w.secrets["offer"] = Secrets([], [w.qgid("offer")])
    w.secrets["assignment"] = Secrets(["甲社区5幢门口-秘密"], [w.qgid("assignment")])


def _build_mutual_aid(w: AuthzWorld) -> None:
    """The district commander widened three tasks of grid 甲一 to the district (mutual aid)
    and brought in 乙's helper: offered one, on the second, on the third until it closed.
    甲一's staff may not see the helper in their own right."""
    b = w.base

    def mutual(title: str, headcount: int = 2) -> Task:
        return create_task(TaskSpec(title=title, location=A_POINT, headcount=headcount), area=b.grid_a1,
                           created_by=b.commander, dispatch=False, pool_area=b.district)

    w.rows["task_mutual"] = mutual("甲任务-互助派单")
    w.rows["offer_mutual"] = offer_task_to(w.task_mutual, w.helper_b_row, by=b.commander)
    w.rows["task_mutual_held"] = mutual("甲任务-互助在岗", headcount=1)  # STAFFED
    w.rows["assignment_mutual"] = add_person(w.task_mutual_held, w.helper_b_row, by=b.commander)
    w.rows["task_mutual_done"] = mutual("甲任务-互助结束")
    w.rows["assignment_mutual_done"] = add_person(w.task_mutual_done, w.helper_b_row, by=b.commander)
    close_task(Task.objects.get(pk=w.task_mutual_done.pk), by=b.commander)
    for name in ("task_mutual", "task_mutual_held", "task_mutual_done"):
        w.rows[name] = Task.objects.get(pk=w.rows[name].pk)


def _build_activities_and_hours(w: AuthzWorld) -> None:
    b = w.base
    start = timezone.now() - dt.timedelta(minutes=10)
    activity = ServiceActivity(community=b.com_a, title="甲社区楼道清理", address="甲社区活动室", starts_at=start,
                               ends_at=start + dt.timedelta(hours=3), capacity=10, checkin_radius_m=200,
                               checkin_code="QZ7KXW", created_by=b.admin_a)
    activity.set_location(*A_POINT)
    activity.save()
    for user in (w.volunteer, w.party_member):
        ActivitySignup.objects.create(activity=activity, user=user)
    ServiceActivity.objects.filter(pk=activity.pk).update(signed_up_count=2)
    w.rows["activity"] = ServiceActivity.objects.get(pk=activity.pk)
    w.rows["signup"] = ActivitySignup.objects.get(activity=activity, user=w.volunteer)
    w.rows["checkin"] = do_check_in(w.activity, w.party_member, point=A_POINT)
    activity_b = ServiceActivity(community=b.com_b, title="乙社区义诊", starts_at=start, ends_at=start + dt.timedelta(hours=3),
                                 capacity=5, checkin_radius_m=200, created_by=b.admin_b)
    activity_b.set_location(*B_POINT)
    activity_b.save()
    w.rows["activity_b"] = activity_b
    w.rows["entry"] = record_service_hours(w.volunteer, b.com_a, Decimal("2.5"), kind=ServiceHoursKind.MANUAL,
                                           created_by=b.admin_a, reason="甲社区手工登记-秘密")
    w.rows["entry_b"] = record_service_hours(w.volunteer_b, b.com_b, Decimal("1.5"), kind=ServiceHoursKind.MANUAL,
                                             created_by=b.admin_b, reason="乙社区手工登记")
    w.secrets["activity"] = Secrets(["QZ7KXW"], ["甲社区楼道清理", w.qgid("activity")])
    w.secrets["entry"] = Secrets([], ["甲社区手工登记-秘密", w.qgid("entry")])
    w.secrets["signup"] = Secrets([], [w.qgid("signup")])
    w.secrets["checkin"] = Secrets([], [w.qgid("checkin")])


def _build_notifications(w: AuthzWorld) -> None:
    w.rows["notification"] = notify(w.resident, kind="test.private", title="给王秀英的私人通知", body="您的药已送达-甲")
    w.rows["notification_b"] = notify(w.other_resident, kind="test.private", title="给赵桂兰的通知", body="乙")
    w.secrets["notification"] = Secrets([], ["给王秀英的私人通知", "您的药已送达-甲", w.qgid("notification")])
    w.rows["device"] = register_device(w.resident, platform="ios", provider="apns", token="ab" * 32, app_version="2.0.0")
    w.secrets["device"] = Secrets([], [w.qgid("device")])
    # A grid worker's read of 王秀英's phone, as the API records it (privacy.access).
    record(w.worker_a1, Channel.API, "authz-read-甲", [resident_read(w.resident_row, {"phone"}, role="grid_worker")])
    record(w.worker_b1, Channel.API, "authz-read-乙", [resident_read(w.other_row, {"phone"}, role="grid_worker")])
    w.secrets["access_log"] = Secrets([], ["authz-read-甲"])
    w.rows["session"] = get_refresh_token_model().objects.create(user=w.worker_a1, token="authz-session-of-worker-a1")
    w.secrets["session"] = Secrets([], [to_global_id("Session", w.session.pk)])
    w.rows["rights_request"] = request_correction(w.resident, field="address", value="甲社区更正后的地址-秘密")
    w.secrets["rights_request"] = Secrets(["甲社区更正后的地址-秘密"], [w.qgid("rights_request")])


# --- before and during: facilities, supplies, teams, warnings in ----------------------------------
EXTREME_AROUND_A = dict(circle="30.270000,120.150000 1", severity="Extreme", headline="甲社区暴雨预警-秘密")


def _shelter(area, code: str, name: str, point, *, open_: bool = True, capacity: int = 50) -> Facility:
    facility = save_facility(FacilitySpec(code=code, kind="SHELTER", name=name, location=point, capacity=capacity,
                                          address="学院路1号"), area=area, by=None)
    return set_facility_status(facility, "OPEN", by=None) if open_ else facility


def _build_resources(w: AuthzWorld) -> None:
    """Facilities, supplies, teams, an incoming warning and a sensor (issue 20)."""
    b = w.base
    w.rows["shelter"] = _shelter(b.com_a, "authz-a-school", "甲社区避难场所", A_POINT)
    check_in(w.shelter, household=w.home, by=b.admin_a)  # 王秀英 and 李建国 are inside
    w.rows["shelter_closed"] = _shelter(b.com_a, "authz-a-closed", "甲社区备用避难所-关闭", A_POINT, open_=False)
    w.rows["shelter_b"] = _shelter(b.com_b, "authz-b-school", "乙社区避难场所", B_POINT)
    w.rows["item"] = save_item(ItemSpec(code="authz-water", name="矿泉水", unit="箱", category="WATER"))
    w.rows["store"] = save_warehouse(area=b.com_a, code="authz-a-store", name="甲社区物资仓库-秘密")
    w.rows["store_b"] = save_warehouse(area=b.com_b, code="authz-b-store", name="乙社区物资仓库")
    receive(w.store, w.item, 30, by=b.admin_a, reason="甲社区入库-秘密")
    receive(w.store_b, w.item, 10, by=b.admin_b)
    distribute(w.store, w.item, 1, household=w.home, by=b.admin_a)
    w.rows["stock"] = Stock.objects.get(warehouse=w.store, item=w.item)
    w.rows["task_supply"] = add_task_supply(w.task, w.store, w.item, 2, household=w.home, by=b.admin_a)
    w.rows["team"] = _team(b.com_a, "甲社区救援队-秘密", _person(w, "team_leader", "张队长", "+8613600009000"))
    w.rows["member"] = add_team_member(w.team, name="队员甲", phone="+8613600009001")
    _team(b.com_b, "乙社区救援队", w.users["volunteer_b"])
    w.rows["team_task"] = create_task(TaskSpec(title="甲任务-转移住户", location=A_POINT, headcount=3), area=b.grid_a1,
                                      created_by=b.worker_a1, dispatch=False)
    w.rows["team_task_2"] = create_task(TaskSpec(title="甲任务-排涝", location=A_POINT, headcount=3), area=b.grid_a1,
                                        created_by=b.worker_a1, dispatch=False)
    w.rows["team_offer"] = offer_task_to_team(w.team_task, w.team, by=b.admin_a)
    source = WarningSource.objects.create(code="authz-cma", name="气象台", kind="CAP_WEBHOOK", secret="k")
    w.rows["warning"] = ingest_cap(cap("authz-a-1", **EXTREME_AROUND_A), source=source).warning
    w.rows["proposal"] = WarningProposal.objects.get(warning=w.warning, area=b.com_a)
    gauges = WarningSource.objects.create(code="authz-gauges", name="水位站", kind="SENSOR_WEBHOOK", secret="k")
    sensor = Sensor(source=gauges, code="authz-wl-1", name="甲社区水位站-秘密", kind="WATER_LEVEL", unit="m", area=b.com_a,
                    thresholds=[{"value": 3.0, "severity": "Moderate", "event": ""}])
    sensor.set_location(*A_POINT)
    sensor.save()
    w.rows["sensor"] = sensor
    w.secrets["stays"] = Secrets(["李建国"], [])  # who is inside the shelter: for those who check people in
    w.secrets["closed_shelter"] = Secrets([], ["甲社区备用避难所-关闭"])
    w.secrets["store"] = Secrets([], ["甲社区物资仓库-秘密", "甲社区入库-秘密"])
    w.secrets["team"] = Secrets(["13600009001"], ["甲社区救援队-秘密"])
    w.secrets["warning"] = Secrets([], ["甲社区暴雨预警-秘密"])
    w.secrets["sensor"] = Secrets([], ["甲社区水位站-秘密"])


def _team(area, name: str, leader):
    return save_team(TeamSpec(name=name, kind="RESCUE", leader=leader), area=area, by=None)



def build_authz_world() -> AuthzWorld:
    w = AuthzWorld(base=build_world())
    _build_people(w)
    for key in ("worker_a1", "worker_b1", "admin_a", "admin_b", "commander"):
        w.users[key] = getattr(w.base, key)
    _build_volunteers(w)
    _build_hazards_and_reports(w)
    _build_emergency(w)
    _build_tasks(w)
    _build_activities_and_hours(w)
    _build_notifications(w)
    _build_resources(w)
    w.secrets["grid"] = Secrets([], ["甲一网格", w.qgid("grid_a1")])
    for key, user in w.users.items():
        w.users[key] = User.objects.get(pk=user.pk)  # fresh: no cached roles or homes
    return w
