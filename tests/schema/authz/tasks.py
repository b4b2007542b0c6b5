"""The matrix for tasks, offers and places on tasks: the staff board and dispatch, the
volunteer's answers and steps."""

from __future__ import annotations

from .matrix import (
    ABSENT,
    DENIED,
    EMPTY,
    FORBID,
    MASKED,
    NULL,
    UNAUTH,
    Entry,
    all_of,
    done,
    grid_staff_refusals,
    non_empty,
    sees,
    shows,
    value,
)
from .world import A_POINT

HERE = {"latitude": A_POINT[0], "longitude": A_POINT[1], "datum": "WGS84"}


def _task(w) -> dict:
    return {"taskId": w.gid("task")}


def _volunteer_side(**more) -> dict:
    """Steps only the person holding the place may take."""
    refused = {"anonymous": UNAUTH, "other_volunteer": FORBID, "resident": FORBID, "worker_other_community": FORBID}
    refused.update(more)
    return refused


BOARD = [
    Entry("Query.tasks", "tasks/TaskBoard", lambda w: {"areaId": w.gid("grid_a1"), "activeOnly": False},
          variant="(grid A1)",
          allowed={"worker": all_of(sees("task", "task_offered"), shows("13700000101")), "admin": sees("task"),
                   "commander": sees("task")},
          refused=grid_staff_refusals(other_volunteer=FORBID),
          secrets=("task", "task_offered", "volunteer")),
    Entry("Query.tasks", "tasks/TaskBoard", lambda w: {"areaId": w.gid("grid_a1"), "activeOnly": False},
          variant="(phones of the people on them)",
          allowed={"admin": shows("13700000101")},
          refused={"commander": MASKED}, secrets=("volunteer",)),
    Entry("Query.tasks", "tasks/TaskBoard", lambda w: {"activeOnly": False}, variant="(all areas)",
          allowed={"worker": sees("task", "task_offered"), "commander": sees("task")},
          refused={"anonymous": UNAUTH, "volunteer": FORBID, "stranger": FORBID, "worker_other_grid": EMPTY,
                   "worker_other_community": ABSENT, "admin_other": ABSENT},
          secrets=("task", "task_offered", "volunteer")),
    Entry("Query.task", "tasks/Task", lambda w: {"id": w.gid("task")},
          # Commanders see the task but not the door: a task's exact place follows the
          # personal-data rule (it is often someone's home).
          allowed={"worker": shows("task", "13700000101"), "admin": shows("task"), "commander": shows("甲任务-搬运物资"),
                   "volunteer": shows("甲社区5幢门口-秘密")},
          refused={"anonymous": UNAUTH, "other_volunteer": NULL, "resident": NULL, "worker_other_grid": NULL,
                   "worker_other_community": NULL, "admin_other": NULL},
          secrets=("task", "volunteer")),
    Entry("Query.task", "tasks/Task", lambda w: {"id": w.gid("task")}, variant="(phones of the people on it)",
          allowed={"admin": shows("13700000101")},
          refused={"commander": MASKED}, secrets=("volunteer",)),
    Entry("Query.task", "tasks/Task", lambda w: {"id": w.gid("need_help_task")}, variant="(a resident's call for help)",
          allowed={"worker": shows("甲社区2幢202室"), "admin": shows("甲社区2幢202室")},
          refused={"commander": MASKED, "worker_other_grid": NULL, "admin_other": NULL, "volunteer": NULL},
          secrets=("need_help_address", "neighbour")),
    Entry("Query.task", "tasks/Task", lambda w: {"id": w.gid("task_offered")}, variant="(offered, not yet accepted)",
          allowed={"worker": shows("甲社区6幢-秘密")},
          refused={"volunteer": MASKED, "other_volunteer": NULL},
          secrets=("task_offered",)),
    Entry("Query.dispatchParameters", "tasks/DispatchParameters", lambda w: {"areaId": w.gid("grid_a1"), "priority": "URGENT"},
          allowed={"worker": non_empty, "admin": non_empty},
          refused=grid_staff_refusals()),
    Entry("Query.dispatchMetrics", "tasks/DispatchMetrics", lambda w: {"areaId": w.gid("grid_a1")},
          allowed={"worker": non_empty, "commander": non_empty},
          refused=grid_staff_refusals()),
]

STAFF_MUTATIONS = [
    Entry("Mutation.createTask", "tasks/CreateTask",
          lambda w: {"input": {"areaId": w.gid("grid_a1"), "title": "清理积水", "location": HERE, "autoDispatch": False}},
          allowed={"worker": done("task"), "admin": done("task")},
          refused=grid_staff_refusals()),
    Entry("Mutation.createTaskFromReport", "tasks/CreateTaskFromReport", lambda w: {"reportId": w.gid("report")},
          allowed={"worker": done("task"), "admin": done("task")},
          refused=grid_staff_refusals(), secrets=("report",)),
    Entry("Mutation.updateTask", "tasks/UpdateTask",
          lambda w: {**_task(w), "expectedVersion": w.task.version, "changes": {"title": "搬运物资(改)"}},
          allowed={"worker": done("task"), "admin": done("task")},
          refused=grid_staff_refusals(other_volunteer=FORBID), secrets=("task",)),
    Entry("Mutation.setTaskHeadcount", "tasks/SetTaskHeadcount", lambda w: {**_task(w), "headcount": 3},
          allowed={"worker": done("task")},
          refused=grid_staff_refusals(), secrets=("task",)),
    Entry("Mutation.cancelTask", "tasks/CancelTask", lambda w: {**_task(w), "reason": "物资已到"},
          allowed={"worker": done("task"), "commander": done("task")},
          refused=grid_staff_refusals(), secrets=("task",)),
    Entry("Mutation.closeTask", "tasks/CloseTask", _task,
          allowed={"worker": done("task")},
          refused=grid_staff_refusals(), secrets=("task",)),
    Entry("Mutation.startDispatch", "tasks/StartDispatch", _task,
          allowed={"worker": done("task")},
          refused=grid_staff_refusals(), secrets=("task",)),
    Entry("Mutation.offerTaskToVolunteer", "tasks/OfferTaskToVolunteer",
          lambda w: {**_task(w), "volunteerId": w.gid("other_volunteer_row")},
          allowed={"worker": done("offer"), "admin": done("offer")},
          refused=grid_staff_refusals(), secrets=("task",)),
    Entry("Mutation.offerTaskToVolunteer", "tasks/OfferTaskToVolunteer",
          lambda w: {**_task(w), "volunteerId": w.gid("volunteer_b_row")}, variant="(a volunteer of another community)",
          refused={"worker": DENIED, "admin": DENIED},
          secrets=("volunteer_b",)),
    Entry("Mutation.addPersonToTask", "tasks/AddPersonToTask",
          lambda w: {**_task(w), "volunteerId": w.gid("other_volunteer_row")},
          allowed={"worker": done("assignment"), "admin": done("assignment")},
          refused=grid_staff_refusals(), secrets=("task",)),
    Entry("Mutation.addPersonToTask", "tasks/AddPersonToTask",
          lambda w: {**_task(w), "volunteerId": w.gid("volunteer_b_row")}, variant="(a volunteer of another community)",
          refused={"worker": DENIED, "admin": DENIED},
          secrets=("volunteer_b",)),
    Entry("Mutation.removePersonFromTask", "tasks/RemovePersonFromTask", lambda w: {"assignmentId": w.gid("assignment")},
          allowed={"worker": done("assignment"), "admin": done("assignment")},
          refused=grid_staff_refusals(other_volunteer=FORBID), secrets=("assignment",)),
]

VOLUNTEER_SIDE = [
    Entry("Query.myOffers", "tasks/MyOffers",
          allowed={"volunteer": all_of(sees("offer"), value("edges.0.node.smsCode", lambda w: w.offer.sms_code or None))},
          refused={"anonymous": UNAUTH, "other_volunteer": EMPTY, "resident": EMPTY, "worker": EMPTY},
          secrets=("offer", "task_offered")),
    Entry("Query.myTaskAssignments", "tasks/MyTaskAssignments",
          allowed={"volunteer": all_of(sees("assignment"), shows("甲社区5幢门口-秘密"))},
          refused={"anonymous": UNAUTH, "other_volunteer": EMPTY, "worker": EMPTY},
          secrets=("assignment", "task")),
    Entry("Mutation.respondToOffer", "tasks/RespondToOffer", lambda w: {"offerId": w.gid("offer"), "accept": True},
          allowed={"volunteer": done("offer")},
          refused=_volunteer_side(worker=FORBID), secrets=("offer", "task_offered")),
    Entry("Mutation.markEnRoute", "tasks/MarkEnRoute", lambda w: {"assignmentId": w.gid("assignment")},
          allowed={"volunteer": done("assignment")},
          refused=_volunteer_side(worker=FORBID), secrets=("assignment",)),
    Entry("Mutation.checkInOnSite", "tasks/CheckInOnSite", lambda w: {"assignmentId": w.gid("assignment"), "location": HERE},
          allowed={"volunteer": done("assignment")},
          refused=_volunteer_side(worker=FORBID), secrets=("assignment",)),
    Entry("Mutation.completeTaskAssignment", "tasks/CompleteTaskAssignment",
          lambda w: {"assignmentId": w.gid("assignment"), "hours": "2"},
          allowed={"worker": done("assignment"), "admin": done("assignment")},
          refused=_volunteer_side(volunteer=FORBID, worker_other_grid=FORBID, admin_other=FORBID),
          secrets=("assignment",)),
    Entry("Mutation.withdrawFromTask", "tasks/WithdrawFromTask", lambda w: {"assignmentId": w.gid("assignment")},
          allowed={"volunteer": done("assignment")},
          refused=_volunteer_side(worker=FORBID, admin=FORBID), secrets=("assignment",)),
]

# --- people outside the viewer's scope (issue 13.1) ------------------------------------------------
# 乙's helper came to 甲一's tasks through mutual aid (world._build_mutual_aid). 甲一's staff see
# their name and a masked phone — and the full phone only while the helper holds a place on
# an open task. Every path to the person is tried: the task's offers, people and timeline, the
# board, the offer and the place by node ID.
TASK_PEOPLE = """query TaskPeople($id: ID!) {
  task(id: $id) { id title status poolArea { id }
    offers { personName phone distanceM }
    people { personName phone }
    timeline(first: 50) { edges { node { kind subjectName data } } } }
}"""
BOARD_PEOPLE = """query BoardPeople($areaId: ID, $statuses: [TaskStatus!]) {
  tasks(areaId: $areaId, statuses: $statuses, first: 50) { edges { node { id title
    offers { personName phone distanceM } people { personName phone } } } }
}"""
PERSON_NODE = """query PersonNode($id: ID!) {
  node(id: $id) { id ... on Offer { personName phone distanceM task { title } }
    ... on TaskAssignment { personName phone task { title } } }
}"""


def _id(row: str):
    return lambda w: {"id": w.gid(row)}


OUT_OF_SCOPE = [
    Entry("Query.task", TASK_PEOPLE, _id("task_mutual"), variant="(offered to a volunteer of another community)",
          allowed={"worker": shows("甲任务-互助派单", "小张乙"), "commander": shows("小张乙"),
                   "helper_b": shows("甲任务-互助派单")},
          refused={"anonymous": UNAUTH, "worker": MASKED, "admin": MASKED, "commander": MASKED,
                   "admin_other": NULL, "worker_other_community": NULL, "worker_other_grid": NULL, "volunteer": NULL},
          secrets=("helper_b",)),
    Entry("Query.task", TASK_PEOPLE, _id("task_mutual_held"), variant="(a volunteer of another community holds a place)",
          allowed={"worker": shows("13700000202"), "admin": shows("13700000202")},
          refused={"anonymous": UNAUTH, "commander": MASKED, "admin_other": NULL, "worker_other_grid": NULL},
          secrets=("helper_b",)),
    Entry("Query.task", TASK_PEOPLE, _id("task_mutual_done"), variant="(after the task with that volunteer closed)",
          allowed={"worker": shows("甲任务-互助结束", "小张乙"), "helper_b": shows("甲任务-互助结束")},
          refused={"anonymous": UNAUTH, "worker": MASKED, "admin": MASKED, "commander": MASKED, "admin_other": NULL},
          secrets=("helper_b",)),
    Entry("Query.tasks", BOARD_PEOPLE, lambda w: {"areaId": w.gid("grid_a1"), "statuses": ["DONE", "DISPATCHING", "OPEN"]},
          variant="(the board: people of another community, not on an open task)",
          allowed={"worker": all_of(sees("task_mutual", "task_mutual_done"), shows("小张乙"))},
          refused={"anonymous": UNAUTH, "worker": MASKED, "admin": MASKED, "commander": MASKED,
                   "worker_other_community": FORBID, "admin_other": FORBID},
          secrets=("helper_b",)),
    Entry("Query.node", PERSON_NODE, _id("offer_mutual"), variant="(Offer to a volunteer of another community)",
          allowed={"worker": shows("小张乙"), "helper_b": shows("13700000202")},
          refused={"anonymous": NULL, "worker": MASKED, "admin": MASKED, "admin_other": NULL, "volunteer": NULL},
          secrets=("helper_b",)),
    Entry("Query.node", PERSON_NODE, _id("assignment_mutual"), variant="(TaskAssignment of a volunteer of another community)",
          allowed={"worker": shows("13700000202"), "helper_b": shows("13700000202")},
          refused={"anonymous": NULL, "commander": MASKED, "admin_other": NULL, "volunteer": NULL},
          secrets=("helper_b",)),
    Entry("Query.node", PERSON_NODE, _id("assignment_mutual_done"), variant="(TaskAssignment on a closed task)",
          allowed={"worker": shows("小张乙")},
          refused={"anonymous": NULL, "worker": MASKED, "admin": MASKED, "admin_other": NULL},
          secrets=("helper_b",)),
]

ENTRIES = BOARD + STAFF_MUTATIONS + VOLUNTEER_SIDE + OUT_OF_SCOPE
