"""GraphQL types of the emergency footing: plans and their runs, alerts, safety checks,
mobilisation calls. Lists are scoped in get_queryset and get_node repeats the check."""

from __future__ import annotations

import graphene
from django.db.models import Exists, OuterRef, Q
from graphene.types.generic import GenericScalar
from graphene_django import DjangoObjectType
from graphql_relay import to_global_id

from community.models import Area, EmergencyContact, ModeSwitch
from community.permissions import Action, can, scope_paths, scope_q, visible_areas_q
from community.privacy import may_see_personal_data
from emergency.cap import alert_to_cap
from emergency.drills import drill_of
from emergency.models import (
    Alert,
    AnswerChannel,
    CapCategory,
    CapCertainty,
    CapMsgType,
    CapResponseType,
    CapSeverity,
    CapUrgency,
    FanoutStatus,
    Mobilisation,
    MobilisationKind,
    MobilisationLevel,
    PlanAction,
    PlanRun,
    PlanRunStatus,
    PlanStep,
    PlanStepStatus,
    ResponsePlan,
    SafetyCheck,
    SafetyCheckStatus,
    SafetyState,
    SafetyStatus,
    WindDown,
)
from emergency.safety import safety_counts, statuses_vulnerable_first

from ..community.people_types import ResidentType
from ..community.types import AreaType, ModeEnum
from ..core.scalars import Location
from ..core.types import CountedConnection, Node, decode_id, plain
from .plan_params import params_out

PlanActionEnum = graphene.Enum.from_enum(PlanAction, description="What a plan does on entering its mode")
PlanRunStatusEnum = graphene.Enum.from_enum(PlanRunStatus)
PlanStepStatusEnum = graphene.Enum.from_enum(PlanStepStatus)
FanoutStatusEnum = graphene.Enum.from_enum(FanoutStatus, description="Progress of a background fan-out")
CapMsgTypeEnum = graphene.Enum("CapMsgType", [(m.name, m.value) for m in CapMsgType])
CapCategoryEnum = graphene.Enum("CapCategory", [(m.name, m.value) for m in CapCategory])
CapUrgencyEnum = graphene.Enum("CapUrgency", [(m.name, m.value) for m in CapUrgency])
CapSeverityEnum = graphene.Enum("CapSeverity", [(m.name, m.value) for m in CapSeverity])
CapCertaintyEnum = graphene.Enum("CapCertainty", [(m.name, m.value) for m in CapCertainty])
CapResponseTypeEnum = graphene.Enum("CapResponseType", [(m.name, m.value) for m in CapResponseType])
SafetyCheckStatusEnum = graphene.Enum.from_enum(SafetyCheckStatus)
SafetyStateEnum = graphene.Enum.from_enum(SafetyState, description="UNANSWERED, SAFE (平安) or NEED_HELP (需要帮助)")
AnswerChannelEnum = graphene.Enum("SafetyAnswerChannel", [(m.name, m.value) for m in AnswerChannel])
MobilisationLevelEnum = graphene.Enum.from_enum(MobilisationLevel)
MobilisationKindEnum = graphene.Enum.from_enum(MobilisationKind)


def _user(info):
    return info.context.user



def plain_resolver(name: str):
    """Enum fields: the stored string (a fresh instance may hold a TextChoices member)."""
    def resolve(self, info):
        value = getattr(self, name)
        return getattr(value, "value", value)
    return resolve


# --- plans --------------------------------------------------------------------------------------
class PlanActionType(graphene.ObjectType):
    type = graphene.Field(PlanActionEnum, required=True)
    params = GenericScalar(required=True, description="The action's parameters, camelCase keys (see mobile_api_docs/emergency.md).")


class ResponsePlanType(DjangoObjectType):
    area = graphene.Field(AreaType, required=True)
    mode = graphene.Field(ModeEnum, required=True)
    actions = graphene.List(graphene.NonNull(PlanActionType), required=True)
    created_by_name = graphene.String()
    auto_switch_severity = graphene.Field(
        lambda: CapSeverityEnum, description="An incoming warning at least this severe switches the area by itself.")

    class Meta:
        model = ResponsePlan
        name = "ResponsePlan"
        interfaces = (Node,)
        connection_class = CountedConnection
        fields = ("id", "area", "mode", "version", "name", "description", "is_enabled", "change_note", "created_at")

    @classmethod
    def get_queryset(cls, queryset, info):
        return queryset.filter(scope_q(_user(info), Action.VIEW_AREA, "area__path")).select_related("area", "created_by")

    @classmethod
    def get_node(cls, info, id):
        plan = ResponsePlan.objects.select_related("area").filter(pk=id).first()
        return plan if plan and can(_user(info), Action.VIEW_AREA, plan.area) else None

    def resolve_actions(self, info):
        return [PlanActionType(type=a["type"], params=params_out(a["params"])) for a in self.actions]

    def resolve_created_by_name(self, info):
        return str(self.created_by) if self.created_by_id else None

    def resolve_auto_switch_severity(self, info):
        return self.auto_switch_severity or None


class PlanStepType(DjangoObjectType):
    action = graphene.Field(PlanActionEnum, required=True)
    status = graphene.Field(PlanStepStatusEnum, required=True)
    params = GenericScalar(required=True)
    counts = GenericScalar(required=True, description="e.g. {\"told\": 120, \"sms\": 40} or {\"tasks\": 12}")
    result = GenericScalar(required=True, description="e.g. {\"alert_id\": 3} or {\"safety_check_id\": 5}")

    class Meta:
        model = PlanStep
        name = "PlanStep"
        fields = ("position", "action", "status", "error", "started_at", "finished_at")

    def resolve_params(self, info):
        return params_out(self.params)



class PlanRunType(DjangoObjectType):
    area = graphene.Field(AreaType, required=True)
    mode = graphene.Field(ModeEnum, required=True)
    status = graphene.Field(PlanRunStatusEnum, required=True)
    fanout_status = graphene.Field(FanoutStatusEnum, required=True)
    plan = graphene.Field(ResponsePlanType, description="The plan that ran (null: no plan for this mode).")
    plan_area = graphene.Field(AreaType, description="Where that plan is defined (the area or an ancestor).")
    steps = graphene.List(graphene.NonNull(PlanStepType), required=True)
    triggered_by = graphene.Field(lambda: PlanRunType, description="For a descendant's own plan: the run of the ancestor whose switch started it.")
    descendant_runs = graphene.List(graphene.NonNull(lambda: PlanRunType), required=True,
                                    description="The runs of descendants' own plans this switch started, one per area.")
    drill = graphene.Field("schema.emergency.drill_types.DrillType", description="The drill this run belongs to (isDrill).")

    class Meta:
        model = PlanRun
        name = "PlanRun"
        interfaces = (Node,)
        connection_class = CountedConnection
        fields = ("id", "area", "mode", "is_drill", "plan", "plan_version", "status", "cleared_dispatch_override",
                  "created_at", "finished_at")

    @classmethod
    def get_queryset(cls, queryset, info):
        return (queryset.filter(scope_q(_user(info), Action.VIEW_AREA, "area__path"))
                .select_related("area", "plan__area").prefetch_related("steps"))

    @classmethod
    def get_node(cls, info, id):
        run = PlanRun.objects.select_related("area", "plan__area").filter(pk=id).first()
        return run if run and can(_user(info), Action.VIEW_AREA, run.area) else None

    def resolve_plan(self, info):
        return self.plan

    def resolve_plan_area(self, info):
        return self.plan.area if self.plan_id else None

    def resolve_steps(self, info):
        return list(self.steps.all())

    def resolve_triggered_by(self, info):
        return self.parent

    def resolve_descendant_runs(self, info):
        return list(self.descendant_runs.select_related("area", "plan__area").order_by("area__path"))

    def resolve_drill(self, info):
        return self.drill


# --- alerts -------------------------------------------------------------------------------------

class ModeSwitchType(DjangoObjectType):
    from_mode = graphene.Field(ModeEnum, required=True)
    to_mode = graphene.Field(ModeEnum, required=True)
    area = graphene.Field(AreaType, required=True)
    plan_run = graphene.Field(
        "schema.emergency.types.PlanRunType",
        description="The response plan run this switch started (null when the mode did not change).",
    )
    drill = graphene.Field("schema.emergency.drill_types.DrillType",
                           description="isDrill: the drill this switch started, changed or ended.")
    wind_down = graphene.Field(
        "schema.emergency.drill_types.WindDownType",
        description="Ending a drill, or entering RECOVERY or NORMAL: what it closes and what still runs (in the background).")

    class Meta:
        model = ModeSwitch
        name = "ModeSwitch"
        interfaces = (Node,)
        fields = ("id", "area", "from_mode", "to_mode", "reason", "is_drill", "switched_at")

    # The record of a switch (its reason, the plan it ran) is for staff of the area; residents
    # and volunteers learn of switches through areaModeChanged.
    @classmethod
    def get_queryset(cls, queryset, info):
        return queryset.filter(scope_q(info.context.user, Action.VIEW_AREA, "area__path"))

    @classmethod
    def get_node(cls, info, id):
        return cls.get_queryset(ModeSwitch.objects.filter(pk=id), info).select_related("area").first()

    def resolve_plan_run(self, info):
        return PlanRun.objects.select_related("plan").filter(mode_switch=self).first()

    def resolve_drill(self, info):
        return drill_of(self) if self.is_drill else None

    def resolve_wind_down(self, info):
        return WindDown.objects.filter(mode_switch=self).select_related("area", "drill").first()


class AlertType(DjangoObjectType):
    area = graphene.Field(AreaType, required=True)
    msg_type = graphene.Field(CapMsgTypeEnum, required=True)
    categories = graphene.List(graphene.NonNull(CapCategoryEnum), required=True)
    urgency = graphene.Field(CapUrgencyEnum, required=True)
    severity = graphene.Field(CapSeverityEnum, required=True)
    certainty = graphene.Field(CapCertaintyEnum, required=True)
    response_types = graphene.List(graphene.NonNull(CapResponseTypeEnum), required=True)
    references = graphene.Field(lambda: AlertType, description="The alert this one updates or cancels.")
    is_active = graphene.Boolean(required=True, description="Not cancelled, not replaced by an update, not expired.")
    cap_status = graphene.String(required=True, description="CAP status: Actual, or Exercise for drills.")
    cap_xml = graphene.String(required=True, description="This alert as an OASIS CAP 1.2 XML document.")
    fanout_status = graphene.Field(FanoutStatusEnum, required=True)
    delivery = GenericScalar(required=True, description="Staff: {residents, pushed, sms, sms_escalated, unreachable, "
                                                        "not_consented} so far (sms_escalated: texted later by the escalation "
                                                        "ladder, a push nobody opened; not_consented: no SMS, the alert being "
                                                        "no emergency; issue 21).")
    shelters = graphene.List(graphene.NonNull("schema.resources.types.FacilityType"), required=True,
                             description="Where residents are told to go.")

    class Meta:
        model = Alert
        name = "Alert"
        interfaces = (Node,)
        connection_class = CountedConnection
        fields = ("id", "identifier", "area", "is_drill", "event", "headline", "description", "instruction",
                  "headline_en", "description_en", "instruction_en", "onset", "expires", "sent_at", "send_sms",
                  "superseded_at")

    @classmethod
    def get_queryset(cls, queryset, info):
        visible = Area.objects.filter(visible_areas_q(_user(info)))
        return queryset.filter(area__in=visible).select_related("area", "references")

    @classmethod
    def get_node(cls, info, id):
        return cls.get_queryset(Alert.objects.filter(pk=id), info).first()

    def resolve_categories(self, info):
        return self.categories

    def resolve_response_types(self, info):
        return self.response_types

    def resolve_is_active(self, info):
        return self.is_active()

    def resolve_cap_xml(self, info):
        return alert_to_cap(self).decode("utf-8")

    def resolve_delivery(self, info):
        return self.fanout_counts if can(_user(info), Action.VIEW_AREA, self.area) else {}

    def resolve_shelters(self, info):
        return list(self.shelters.all())


# --- safety checks --------------------------------------------------------------------------------
class SafetyTallyFields:
    total = graphene.Int(required=True)
    accounted_for = graphene.Int(required=True)
    safe = graphene.Int(required=True)
    need_help = graphene.Int(required=True)
    unanswered = graphene.Int(required=True)
    vulnerable = graphene.Int(required=True)
    vulnerable_accounted_for = graphene.Int(required=True)
    unreachable = graphene.Int(
        required=True, description="Unanswered and not reachable at all (no app, no phone that takes SMS, opted out, "
                                   "undeliverable): counted at once; vulnerable ones get a welfare visit at once.")
    reached = graphene.Int(required=True, description="Answered, or opened the push in the app (acknowledged): "
                                                       "not merely sent a message.")
    pushed = graphene.Int(required=True, description="Ladder rung 1: asked by push to a live device.")
    acknowledged = graphene.Int(required=True, description="Opened the push in the app.")
    texted = graphene.Int(required=True, description="Ladder rung 2: asked by SMS (at once, or when the push was not opened).")
    called = graphene.Int(required=True, description="Ladder rung 3: called (at once for those who cannot read SMS, "
                                                     "or silent vulnerable residents later).")


def _tally_values(tally) -> dict:
    return dict(total=tally.total, accounted_for=tally.accounted_for, safe=tally.safe, need_help=tally.need_help,
                unanswered=tally.unanswered, vulnerable=tally.vulnerable, vulnerable_accounted_for=tally.vulnerable_accounted,
                unreachable=tally.unreachable, reached=tally.reached, pushed=tally.pushed, acknowledged=tally.acknowledged,
                texted=tally.texted, called=tally.called)


class AreaSafetyCounts(SafetyTallyFields, graphene.ObjectType):
    area = graphene.Field(AreaType, required=True)


class SafetyCounts(SafetyTallyFields, graphene.ObjectType):
    """Live counts: accounted for = safe + need help."""

    safety_check_id = graphene.ID(required=True)
    by_area = graphene.List(graphene.NonNull(AreaSafetyCounts), required=True,
                            description="The check's area and every community (etc.) between it and the grids.")
    by_grid = graphene.List(graphene.NonNull(AreaSafetyCounts), required=True)


def counts_payload(check: SafetyCheck) -> SafetyCounts:
    counts = safety_counts(check)
    return SafetyCounts(
        safety_check_id=to_global_id("SafetyCheck", check.pk), **_tally_values(counts.overall),
        by_area=[AreaSafetyCounts(area=a.area, **_tally_values(a.tally)) for a in counts.by_area],
        by_grid=[AreaSafetyCounts(area=a.area, **_tally_values(a.tally)) for a in counts.by_grid],
    )


def answerable_q(user) -> Q:
    """Status rows the user answers themself or may answer for (household, linked contact)."""
    household = SafetyStatus.objects.filter(resident__household__members__user=user).values("pk")
    contacts = EmergencyContact.objects.filter(Q(linked_user=user) | Q(linked_resident__user=user)).values("resident_id")
    return Q(resident__user=user) | Q(pk__in=household) | Q(resident_id__in=contacts)


def _task_gid(pk):
    return to_global_id("Task", pk) if pk else None


class SafetyStatusType(DjangoObjectType):
    resident = graphene.Field(ResidentType, required=True)
    grid = graphene.Field(AreaType, required=True)
    status = graphene.Field(SafetyStateEnum, required=True)
    channel = graphene.Field(AnswerChannelEnum)
    is_vulnerable = graphene.Boolean(description="Null when personal data is masked for you.")
    location = graphene.Field(Location, description="Where the person said they are (WGS-84). Null when personal data is masked for you.")
    note = graphene.String(description="What the person said. Null when personal data is masked for you.")
    need_help_task_id = graphene.ID(description="The life-safety task a NEED_HELP answer created.")
    welfare_task_id = graphene.ID(description="The welfare-check task created because a vulnerable resident stayed silent.")
    safety_check = graphene.Field(lambda: SafetyCheckType, required=True)
    asked_at = graphene.DateTime(description="When the question reached them (push sent, SMS handed to a carrier, or "
                                             "delivered): their silence is counted from here. Null until then.")
    unreachable_reason = graphene.String(description="NO_PHONE, OPTED_OUT or UNDELIVERABLE when nobody could ask them; "
                                                     "null otherwise.")

    class Meta:
        model = SafetyStatus
        name = "SafetyStatus"
        interfaces = (Node,)
        connection_class = CountedConnection
        fields = ("id", "resident", "grid", "status", "first_answered_at", "answered_at", "channel", "note",
                  "asked_by_push", "asked_by_sms", "safety_check")

    def resolve_unreachable_reason(self, info):
        return self.unreachable_reason or None

    @classmethod
    def get_queryset(cls, queryset, info):
        user = _user(info)
        own = answerable_q(user) if user.is_authenticated else Q(pk__in=[])
        scope = scope_q(user, Action.VIEW_PEOPLE, "grid__path")
        q = Q() if scope == Q() else scope | own
        return queryset.filter(q).select_related("resident__user", "resident__grid", "grid", "safety_check__area")

    @classmethod
    def get_node(cls, info, id):
        return cls.get_queryset(SafetyStatus.objects.filter(pk=id), info).first()

    def resolve_channel(self, info):
        return self.channel or None

    def resolve_is_vulnerable(self, info):
        return self.is_vulnerable if may_see_personal_data(_user(info), self.resident) else None

    def resolve_note(self, info):
        return self.note if may_see_personal_data(_user(info), self.resident) else None

    def resolve_location(self, info):
        if self.lat is None or not may_see_personal_data(_user(info), self.resident):
            return None
        return {"latitude": self.lat, "longitude": self.lng}

    def resolve_need_help_task_id(self, info):
        return _task_gid(self.need_help_task_id)

    def resolve_welfare_task_id(self, info):
        return _task_gid(self.welfare_task_id)


def overlapping_scope_q(user, action: Action, path_field: str = "area__path") -> Q:
    """Rows whose area is inside the user's scope or above it (a check started on a community
    concerns its grid workers too). Matches nothing without a scope; everything for superusers."""
    paths = scope_paths(user, action)
    if paths is None:
        return Q()
    q = Q(pk__in=[])
    for p in paths:
        steps = range(Area.steplen, len(p) + 1, Area.steplen)
        q |= Q(**{f"{path_field}__startswith": p}) | Q(**{f"{path_field}__in": [p[:i] for i in steps]})
    return q


def may_watch(user, area: Area) -> bool:
    paths = scope_paths(user, Action.VIEW_PEOPLE) if user.is_authenticated else []
    return paths is None or any(area.path.startswith(p) or p.startswith(area.path) for p in paths)


class SafetyCheckType(DjangoObjectType):
    area = graphene.Field(AreaType, required=True)
    status = graphene.Field(SafetyCheckStatusEnum, required=True)
    fanout_status = graphene.Field(FanoutStatusEnum, required=True)
    counts = graphene.Field(SafetyCounts, description="Staff: live counts per area and grid.")
    statuses = graphene.ConnectionField(
        SafetyStatusType._meta.connection, status=SafetyStateEnum(), grid_id=graphene.ID(),
        description="Staff: one row per resident, vulnerable residents first (then need help, silent, safe).",
    )

    class Meta:
        model = SafetyCheck
        name = "SafetyCheck"
        interfaces = (Node,)
        connection_class = CountedConnection
        fields = ("id", "area", "title", "is_drill", "status", "started_at", "welfare_after_minutes", "welfare_due_at",
                  "reply_until", "resident_count", "closed_at")

    @classmethod
    def get_queryset(cls, queryset, info):
        user = _user(info)
        if not user.is_authenticated:
            return queryset.none()
        mine = Exists(SafetyStatus.objects.filter(answerable_q(user), safety_check=OuterRef("pk")))
        scope = overlapping_scope_q(user, Action.VIEW_PEOPLE)
        q = Q() if scope == Q() else scope | Q(mine)
        return queryset.filter(q).select_related("area")

    @classmethod
    def get_node(cls, info, id):
        return cls.get_queryset(SafetyCheck.objects.filter(pk=id), info).first()

    def resolve_counts(self, info):
        return counts_payload(self) if may_watch(_user(info), self.area) else None

    def resolve_statuses(self, info, status=None, grid_id=None, **kwargs):
        if not may_watch(_user(info), self.area):
            return SafetyStatus.objects.none()
        qs = SafetyStatusType.get_queryset(statuses_vulnerable_first(self), info)
        if status:
            qs = qs.filter(status=plain(status))
        if grid_id:
            qs = qs.filter(grid_id=decode_id(grid_id, "Area", "grid_id"))
        return qs


class MobilisationType(DjangoObjectType):
    area = graphene.Field(AreaType, required=True)
    level = graphene.Field(MobilisationLevelEnum, required=True)
    kind = graphene.Field(MobilisationKindEnum, required=True)
    response = graphene.String(description="AVAILABLE, UNAVAILABLE, or null before you answer.")
    mode = graphene.Field(ModeEnum, required=True)

    class Meta:
        model = Mobilisation
        name = "Mobilisation"
        interfaces = (Node,)
        connection_class = CountedConnection
        fields = ("id", "area", "level", "kind", "is_drill", "notified_at", "responded_at")

    @classmethod
    def get_queryset(cls, queryset, info):
        user = _user(info)
        return queryset.filter(user=user).select_related("area", "step__run") if user.is_authenticated else queryset.none()

    @classmethod
    def get_node(cls, info, id):
        return cls.get_queryset(Mobilisation.objects.filter(pk=id), info).first()

    def resolve_response(self, info):
        return self.response or None

    def resolve_mode(self, info):
        return self.step.run.mode


# Graphene looks resolvers up when the schema is built, so they can be attached here.
for _type, _names in (
    (ResponsePlanType, ("mode",)), (PlanStepType, ("action", "status")), (PlanRunType, ("mode", "status", "fanout_status")),
    (AlertType, ("msg_type", "urgency", "severity", "certainty", "fanout_status")), (SafetyStatusType, ("status",)),
    (SafetyCheckType, ("status", "fanout_status")), (MobilisationType, ("level", "kind")),
):
    for _name in _names:
        setattr(_type, f"resolve_{_name}", plain_resolver(_name))
