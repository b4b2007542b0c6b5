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

ENTRIES = BOARD + STAFF_MUTATIONS + VOLUNTEER_SIDE
