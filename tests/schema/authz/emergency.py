"""The matrix for the emergency footing: plans and their runs, alerts, safety checks and
answers, mobilisation calls, the after-action report."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from .matrix import (
    ABSENT,
    EMPTY,
    FORBID,
    MASKED,
    UNAUTH,
    Entry,
    community_admin_refusals,
    done,
    grid_staff_refusals,
    sees,
    shows,
    value,
)

SAFETY_CHECKS = """query SafetyChecks($areaId: ID!) {
  safetyChecks(areaId: $areaId) { totalCount edges { node { id title residentCount counts { total } } } }
}"""

ANSWERABLE_DEEP = """query Answerable {
  mySafetyStatuses { edges { node { id isVulnerable resident { displayName phone address careNotes
    vulnerability { isVulnerable } emergencyContacts { name phone } } } } }
}"""

ALERT_INPUT = {"categories": ["MET"], "event": "暴雨", "urgency": "EXPECTED", "severity": "MODERATE",
               "certainty": "LIKELY", "headline": "暴雨蓝色预警", "instruction": "减少外出"}


def _period(w) -> dict:
    now = timezone.now()
    return {"areaId": w.gid("com_a"), "since": (now - dt.timedelta(days=1)).isoformat(),
            "until": (now + dt.timedelta(minutes=5)).isoformat(), "drills": True}


PLANS = [
    Entry("Query.responsePlans", "emergency/ResponsePlans", lambda w: {"areaId": w.gid("com_a"), "mode": "STANDBY"},
          allowed={"admin": sees("plan"), "commander": sees("plan")},
          refused=community_admin_refusals(), secrets=("plan",)),
    Entry("Query.effectivePlan", "emergency/ResponsePlans", lambda w: {"areaId": w.gid("grid_a1"), "mode": "STANDBY"},
          allowed={"worker": sees("plan"), "admin": sees("plan"), "commander": sees("plan")},
          refused=grid_staff_refusals(), secrets=("plan",)),
    Entry("Query.planRuns", "emergency/PlanRuns", lambda w: {"areaId": w.gid("com_a")},
          allowed={"admin": sees("run"), "commander": sees("run")},
          refused=community_admin_refusals(), secrets=("plan",)),
    Entry("Query.afterActionReport", "emergency/AfterActionReport", _period,
          allowed={"admin": shows("甲社区台风预警-秘密"), "commander": value("area.id", lambda w: w.gid("com_a"))},
          refused=community_admin_refusals(), secrets=("alert", "check", "switch")),
    Entry("Mutation.saveResponsePlan", "emergency/SaveResponsePlan",
          lambda w: {"areaId": w.gid("com_a"), "mode": "EMERGENCY", "name": "甲社区应急预案",
                     "actions": [{"type": "SAFETY_CHECK", "params": {}}]},
          allowed={"admin": done("plan"), "commander": done("plan")},
          refused=community_admin_refusals()),
    Entry("Mutation.saveResponsePlan", "emergency/SaveResponsePlan",
          lambda w: {"areaId": w.gid("grid_a1"), "mode": "EMERGENCY", "name": "网格预案",
                     "actions": [{"type": "SAFETY_CHECK", "params": {}}]}, variant="(on their own grid)",
          refused={"worker": FORBID}),
]

ALERTS = [
    Entry("Query.alerts", "emergency/AreaAlerts", lambda w: {"areaId": w.gid("com_a")},
          allowed={"resident": sees("alert"), "volunteer": sees("alert"), "worker_other_grid": sees("alert"),
                   "admin": sees("alert")},
          refused={"anonymous": UNAUTH, "stranger": FORBID, "other_resident": FORBID, "worker_other_community": FORBID,
                   "admin_other": FORBID},
          secrets=("alert",)),
    Entry("Mutation.issueAlert", "emergency/IssueAlert", lambda w: {"areaId": w.gid("com_a"), "input": ALERT_INPUT},
          allowed={"admin": done("alert"), "commander": done("alert")},
          refused=community_admin_refusals()),
    Entry("Mutation.issueAlert", "emergency/IssueAlert", lambda w: {"areaId": w.gid("grid_a1"), "input": ALERT_INPUT},
          variant="(on their own grid)", refused={"worker": FORBID}),
    Entry("Mutation.issueAlert", "emergency/IssueAlert", lambda w: {"areaId": w.gid("district"), "input": ALERT_INPUT},
          variant="(the area above theirs)", allowed={"commander": done("alert")}, refused={"admin": FORBID}),
    Entry("Mutation.previewAlert", "emergency/PreviewAlert", lambda w: {"areaId": w.gid("com_a"), "input": ALERT_INPUT},
          allowed={"admin": done("capXml"), "commander": done("capXml")},
          refused=community_admin_refusals()),
    Entry("Mutation.previewAlert", "emergency/PreviewAlert", lambda w: {"areaId": w.gid("grid_a1"), "input": ALERT_INPUT},
          variant="(on their own grid)", refused={"worker": FORBID}),
    Entry("Mutation.updateAlert", "emergency/UpdateAlert",
          lambda w: {"alertId": w.gid("alert"), "changes": {"headline": "台风预警升级"}},
          allowed={"admin": done("alert"), "commander": done("alert")},
          refused=community_admin_refusals(), secrets=("alert",)),
    Entry("Mutation.cancelAlert", "emergency/CancelAlert", lambda w: {"alertId": w.gid("alert"), "note": "解除"},
          allowed={"admin": done("alert"), "commander": done("alert")},
          refused=community_admin_refusals(), secrets=("alert",)),
]

SAFETY = [
    Entry("Query.safetyChecks", SAFETY_CHECKS, lambda w: {"areaId": w.gid("grid_a1")},
          allowed={"worker": sees("check"), "admin": sees("check"), "commander": sees("check")},
          refused=grid_staff_refusals(), secrets=("check",)),
    Entry("Query.mySafetyStatuses", "emergency/MySafetyStatuses", lambda w: {"activeOnly": True},
          allowed={"resident": sees("status"), "spouse": sees("status")},
          refused={"anonymous": UNAUTH, "neighbour": ABSENT, "other_resident": ABSENT, "volunteer": EMPTY,
                   "worker": EMPTY},
          secrets=("resident", "household")),
    Entry("Query.mySafetyStatuses", ANSWERABLE_DEEP, variant="(the people they may answer for)",
          allowed={"resident": shows("13900000001", "王强", "13700000009")},
          refused={"spouse": MASKED}, secrets=("resident_private",)),
    Entry("Mutation.startSafetyCheck", "emergency/StartSafetyCheck", lambda w: {"areaId": w.gid("com_a"), "title": "再次报平安"},
          allowed={"admin": done("safetyCheck"), "commander": done("safetyCheck")},
          refused=community_admin_refusals()),
    Entry("Mutation.closeSafetyCheck", "emergency/CloseSafetyCheck", lambda w: {"safetyCheckId": w.gid("check")},
          allowed={"admin": done("safetyCheck")},
          refused=community_admin_refusals(), secrets=("check",)),
    Entry("Mutation.answerSafetyCheck", "emergency/AnswerSafetyCheck",
          lambda w: {"safetyCheckId": w.gid("check"), "status": "SAFE", "residentId": w.gid("resident_row")},
          allowed={"resident": done("status"), "spouse": done("status"), "worker": done("status")},
          refused={"anonymous": UNAUTH, "neighbour": FORBID, "other_resident": FORBID, "volunteer": FORBID,
                   "worker_other_grid": FORBID, "worker_other_community": FORBID, "admin_other": FORBID},
          secrets=("resident",)),
]

MOBILISATION = [
    Entry("Query.myMobilisations", "emergency/MyMobilisations",
          allowed={"volunteer": sees("mobilisation")},
          refused={"anonymous": UNAUTH, "other_volunteer": ABSENT, "resident": EMPTY, "admin": EMPTY},
          secrets=("mobilisation",)),
    Entry("Mutation.respondToMobilisation", "emergency/RespondToMobilisation",
          lambda w: {"mobilisationId": w.gid("mobilisation"), "available": True},
          allowed={"volunteer": done("mobilisation")},
          refused={"anonymous": UNAUTH, "other_volunteer": FORBID, "worker": FORBID, "admin": FORBID},
          secrets=("mobilisation",)),
]

DRILLS = [
    Entry("Query.drills", "emergency/Drills", lambda w: {"areaId": w.gid("com_a")},
          allowed={"admin": sees("drill"), "commander": sees("drill")},
          refused=community_admin_refusals(), secrets=("switch",)),
    Entry("Query.windDowns", "emergency/WindDowns", lambda w: {"areaId": w.gid("grid_a1")},
          allowed={"worker": sees("wind_down"), "admin": sees("wind_down"), "commander": sees("wind_down")},
          refused=grid_staff_refusals()),
    Entry("Mutation.closeTasks", "emergency/CloseTasks", lambda w: {"areaId": w.gid("grid_a1"), "reason": "收尾"},
          allowed={"worker": done("taskIds"), "admin": done("taskIds"), "commander": done("taskIds")},
          refused=grid_staff_refusals()),
]

ENTRIES = PLANS + ALERTS + SAFETY + MOBILISATION + DRILLS
