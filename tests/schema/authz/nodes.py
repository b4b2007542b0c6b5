"""node(id:) for every Node type: Relay's direct access by ID must repeat each list's scope
check (research R1.7), so each type gets its own row of the matrix."""

from __future__ import annotations

from .matrix import ABSENT, MASKED, NULL, Entry, all_of, sees, shows, value

NODE = """query Node($id: ID!) {{
  node(id: $id) {{ id ... on {type} {{ {fields} }} }}
}}"""

MODE_SWITCH_HOLE = ("AUTHZ HOLE: Query.node(id: ModeSwitch) has no scope check (ModeSwitchType defines neither "
                    "get_queryset nor get_node): anyone, even without logging in, reads any area's mode switch with "
                    "its reason, and through planRun the response plan's name, actions and step results")


SAFETY_NOTES = """query Notes($id: ID!) {
  node(id: $id) { ... on SafetyCheck { statuses(first: 50) { edges { node { status note location { latitude }
    resident { displayName } } } } } }
}"""
COMMANDER_SEES_NOTES = (
    "AUTHZ HOLE: SafetyCheck.statuses shows a district commander (residents masked for them) each resident's "
    "answer note and reported location (SafetyStatusType.note / resolve_location check nothing beyond seeing the "
    "row, while isVulnerable on the same row is masked with may_see_personal_data)")


def node(type_name: str, row: str, fields: str, allowed: dict, refused: dict, secrets: tuple[str, ...],
         variant: str = "", holes: dict | None = None) -> Entry:
    return Entry("Query.node", NODE.format(type=type_name, fields=fields), lambda w: {"id": w.gid(row)},
                 allowed=allowed, refused=refused, secrets=secrets, variant=variant or f"({type_name})",
                 holes=holes or {})


ENTRIES = [
    node("Area", "grid_a1", "name mode effectiveMode",
         {"resident": sees("grid_a1"), "worker": sees("grid_a1")},
         {"anonymous": NULL, "stranger": NULL, "other_resident": NULL, "worker_other_community": NULL}, ("grid",)),
    node("User", "resident", "username displayName phone roles { role }",
         {"resident": shows("13900000001")},
         {"anonymous": NULL, "neighbour": NULL, "worker": NULL, "admin": NULL}, ("resident",)),
    node("ModeSwitch", "switch", "reason isDrill fromMode toMode area { name } planRun { status plan { name actions { type } } }",
         {"admin": shows("甲社区演练切换-秘密"), "commander": shows("甲社区演练切换-秘密")},
         {"anonymous": NULL, "resident": NULL, "other_resident": NULL, "worker_other_community": NULL, "admin_other": NULL},
         ("switch",),
         holes={c: MODE_SWITCH_HOLE for c in ("anonymous", "resident", "other_resident", "worker_other_community",
                                               "admin_other")}),
    node("Resident", "resident_row", "displayName phone address careNotes emergencyContacts { name phone } household { label }",
         {"resident": shows("13900000001", "王强"), "worker": shows("resident")},
         {"anonymous": NULL, "neighbour": NULL, "spouse": NULL, "volunteer": NULL, "worker_other_grid": NULL,
          "worker_other_community": NULL, "admin_other": NULL, "commander": MASKED},
         ("resident",)),
    node("Household", "home", "label address members { displayName phone }",
         {"spouse": shows("王秀英"), "worker": shows("household")},
         {"anonymous": NULL, "neighbour": NULL, "other_resident": NULL, "worker_other_community": NULL, "admin_other": NULL},
         ("household",)),
    node("EmergencyContact", "contact", "name phone relation linkedResidentName",
         {"resident": shows("contact"), "worker": shows("contact")},
         {"anonymous": NULL, "spouse": NULL, "neighbour": NULL, "commander": NULL, "worker_other_community": NULL,
          "admin_other": NULL},
         ("contact",)),
    node("HazardPoint", "hazard", "name address description",
         {"worker": shows("hazard"), "commander": shows("hazard")},
         {"anonymous": NULL, "resident": NULL, "worker_other_grid": NULL, "worker_other_community": NULL}, ("hazard",)),
    node("Inspection", "inspection", "findings inspectorName",
         {"worker": shows("积水30厘米-甲")},
         {"anonymous": NULL, "resident": NULL, "worker_other_community": NULL, "admin_other": NULL}, ("hazard",)),
    node("ResidentReport", "report", "description reporterName reporterPhone",
         {"resident": shows("report"), "worker": shows("report")},
         {"anonymous": NULL, "neighbour": NULL, "worker_other_grid": NULL, "worker_other_community": NULL,
          "commander": MASKED},
         ("report",)),
    node("ResponsePlan", "plan", "name description actions { type }",
         {"admin": sees("plan"), "commander": sees("plan")},
         {"anonymous": NULL, "resident": NULL, "worker": NULL, "admin_other": NULL}, ("plan",)),
    node("PlanRun", "run", "status plan { name } steps { action counts }",
         {"admin": sees("run")},
         {"anonymous": NULL, "resident": NULL, "volunteer": NULL, "admin_other": NULL}, ("plan",)),
    node("Alert", "alert", "headline delivery capXml",
         {"resident": shows("甲社区台风预警-秘密"), "admin": shows("甲社区台风预警-秘密")},
         {"anonymous": NULL, "stranger": NULL, "other_resident": NULL, "admin_other": NULL}, ("alert",)),
    node("SafetyStatus", "status", "status isVulnerable resident { displayName phone } safetyCheck { title }",
         {"resident": sees("status"), "spouse": sees("status"), "worker": shows("13900000001")},
         {"anonymous": NULL, "neighbour": NULL, "other_resident": NULL, "worker_other_grid": NULL, "admin_other": NULL},
         ("resident", "check")),
    Entry("Query.node", "emergency/SafetyCheck", lambda w: {"id": w.gid("check"), "first": 50}, variant="(SafetyCheck)",
          allowed={"worker": shows("陈邻居"), "admin": shows("孙大娘"), "commander": sees("check")},
          refused={"anonymous": NULL, "other_resident": NULL, "worker_other_community": NULL, "admin_other": NULL,
                   "volunteer": NULL},
          secrets=("check", "neighbour", "elder")),
    Entry("Query.node", SAFETY_NOTES, lambda w: {"id": w.gid("check")}, variant="(SafetyCheck answer notes)",
          allowed={"worker": shows("腿受伤-需要担架-甲"), "admin": shows("腿受伤-需要担架-甲")},
          refused={"commander": MASKED}, secrets=("need_help_note",),
          holes={"commander": COMMANDER_SEES_NOTES}),
    Entry("Query.node", "emergency/SafetyCheck", lambda w: {"id": w.gid("check"), "first": 50},
          variant="(a SafetyCheck asking about the caller)",
          allowed={"resident": sees("check"), "spouse": sees("check")},
          refused={"resident": ABSENT, "spouse": ABSENT}, secrets=("neighbour", "elder")),
    node("Mobilisation", "mobilisation", "level kind response",
         {"volunteer": sees("mobilisation")},
         {"anonymous": NULL, "other_volunteer": NULL, "admin": NULL, "commander": NULL}, ("mobilisation",)),
    node("Notification", "notification", "title body data",
         {"resident": shows("给王秀英的私人通知")},
         {"anonymous": NULL, "spouse": NULL, "worker": NULL, "admin": NULL}, ("notification",)),
    node("Volunteer", "volunteer_row", "displayName phone homeLocation { latitude } skills { certificateRef }",
         {"volunteer": shows("volunteer"), "worker": shows("volunteer")},
         {"anonymous": NULL, "other_volunteer": NULL, "resident": NULL, "worker_other_grid": NULL,
          "worker_other_community": NULL, "admin_other": NULL, "commander": MASKED},
         ("volunteer",)),
    node("PartyMemberRegistration", "party_row", "name phone homeAddress workUnit",
         {"party_member": shows("party"), "admin": shows("party")},
         {"anonymous": NULL, "party_pending": NULL, "worker": NULL, "admin_other": NULL, "commander": MASKED},
         ("party",)),
    node("ServiceActivity", "activity", "title checkinCode mySignup { status }",
         {"volunteer": sees("activity"), "admin": shows("QZ7KXW")},
         {"anonymous": NULL, "other_resident": NULL, "admin_other": NULL, "worker_other_community": NULL,
          "volunteer": MASKED},
         ("activity",),
         holes={"anonymous": ("BUG (no leak): Query.node(id: ServiceActivity) without a login is an INTERNAL error, "
                              "not null: ServiceActivityType.get_queryset prefetches the caller's sign-ups and "
                              "check-ins filtered by an AnonymousUser (TypeError)")}),
    node("ActivitySignup", "signup", "status signedUpAt",
         {"volunteer": sees("signup")},
         {"anonymous": NULL, "party_member": NULL, "admin": NULL}, ("signup",)),
    node("ActivityCheckIn", "checkin", "method distanceM checkedInAt",
         {"party_member": sees("checkin")},
         {"anonymous": NULL, "volunteer": NULL, "admin": NULL}, ("checkin",)),
    node("ServiceHoursEntry", "entry", "hours reason memberName",
         {"volunteer": sees("entry"), "admin": sees("entry")},
         {"anonymous": NULL, "other_volunteer": NULL, "worker": NULL, "admin_other": NULL}, ("entry", "volunteer")),
    node("Task", "task", "title address location { latitude } people { personName phone }",
         {"volunteer": shows("甲社区5幢门口-秘密"), "worker": shows("task")},
         {"anonymous": NULL, "other_volunteer": NULL, "resident": NULL, "worker_other_grid": NULL, "admin_other": NULL},
         ("task", "volunteer")),
    node("TaskEvent", "task_event", "kind data actorName",
         {"worker": sees("task_event")},
         {"anonymous": NULL, "volunteer": NULL, "worker_other_community": NULL, "admin_other": NULL}, ("task",)),
    node("Offer", "offer", "status smsCode personName phone task { title address }",
         {"volunteer": value("smsCode", lambda w: w.offer.sms_code or None),
          "worker": all_of(value("smsCode", None), shows("13700000101", "甲社区6幢-秘密"))},
         {"anonymous": NULL, "other_volunteer": NULL, "worker_other_grid": NULL, "worker_other_community": NULL,
          "admin_other": NULL},
         ("offer", "task_offered")),
    node("TaskAssignment", "assignment", "status personName phone task { address }",
         {"volunteer": shows("甲社区5幢门口-秘密"), "worker": shows("13700000101")},
         {"anonymous": NULL, "other_volunteer": NULL, "worker_other_community": NULL, "admin_other": NULL},
         ("assignment", "volunteer")),
]
