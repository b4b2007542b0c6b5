"""Bad input anywhere in the task API gets a typed error in `errors` and changes nothing;
every change is pushed after commit to the task's group and its areas' boards."""

import pytest

from notifications import events
from tests.operations import operation
from tests.volunteers.conftest import gid
from volunteers.models import Offer, Task, TaskAssignment, TaskEvent
from volunteers.services import TaskSpec, create_task, edit_task, respond_to_offer
from volunteers.services.tasks import TaskChanges

from .conftest import helper

pytestmark = pytest.mark.django_db

NOT_AN_ID = "bm90IGFuIGlk"  # base64 of "not an id"
UNKNOWN_TASK = gid("Task", 987654)


@pytest.mark.parametrize("name, variables, field", [
    ("tasks/RespondToOffer", {"offerId": NOT_AN_ID, "accept": True}, "offerId"),
    ("tasks/RespondToOffer", {"offerId": gid("Offer", 987654), "accept": True}, "offerId"),
    ("tasks/MarkEnRoute", {"assignmentId": "garbage"}, "assignmentId"),
    ("tasks/WithdrawFromTask", {"assignmentId": gid("Task", 1)}, "assignmentId"),
    ("tasks/UpdateTask", {"taskId": UNKNOWN_TASK, "expectedVersion": 1, "changes": {"title": "x"}}, "taskId"),
    ("tasks/CancelTask", {"taskId": NOT_AN_ID}, "taskId"),
    ("tasks/CloseTask", {"taskId": UNKNOWN_TASK}, "taskId"),
    ("tasks/StartDispatch", {"taskId": UNKNOWN_TASK}, "taskId"),
    ("tasks/SetTaskHeadcount", {"taskId": UNKNOWN_TASK, "headcount": 2}, "taskId"),
    ("tasks/CreateTaskFromReport", {"reportId": gid("ResidentReport", 987654)}, "reportId"),
])
def test_unknown_or_malformed_ids_are_typed_errors(world, gql, name, variables, field):
    data = gql.data(operation(name), variables, user=world.worker_a1)
    [payload] = data.values()
    assert [(e["field"], e["code"]) for e in payload["errors"]] in ([(field, "NOT_FOUND")], [(field, "INVALID")])


def test_a_check_in_with_an_impossible_position_is_a_typed_error(world, gql, committed):
    v = helper(world.grid_a1, 100)
    with committed():
        task = create_task(TaskSpec(title="送水"), area=world.grid_a1)
    with committed():
        answer = respond_to_offer(Offer.objects.get(task=task), accept=True)
    result = gql.data(operation("tasks/CheckInOnSite"), {"assignmentId": gid("TaskAssignment", answer.assignment.pk),
                                                         "location": {"latitude": 91, "longitude": 0}}, user=v.user)
    assert [e["code"] for e in result["checkInOnSite"]["errors"]] == ["INVALID_LOCATION"]
    assert TaskAssignment.objects.get().status == "ACCEPTED"


@pytest.mark.parametrize("variables, code", [
    ({"headcount": 0}, "INVALID_HEADCOUNT"),
    ({"headcount": 5, "expectedVersion": 7}, "STALE_VERSION"),
])
def test_headcount_changes_are_validated(world, gql, variables, code):
    task = create_task(TaskSpec(title="x"), area=world.grid_a1, dispatch=False)
    result = gql.data(operation("tasks/SetTaskHeadcount"), {"taskId": gid("Task", task.pk), **variables}, user=world.worker_a1)
    assert [e["code"] for e in result["setTaskHeadcount"]["errors"]] == [code]
    assert Task.objects.get(pk=task.pk).headcount == 1


def test_staff_hours_out_of_range_are_refused(world, gql, committed):
    helper(world.grid_a1, 100)
    with committed():
        task = create_task(TaskSpec(title="送水"), area=world.grid_a1)
    with committed():
        answer = respond_to_offer(Offer.objects.get(task=task), accept=True)
    result = gql.data(operation("tasks/CompleteTaskAssignment"),
                      {"assignmentId": gid("TaskAssignment", answer.assignment.pk), "hours": "30"}, user=world.worker_a1)
    assert [e["code"] for e in result["completeTaskAssignment"]["errors"]] == ["INVALID_HOURS"]
    assert TaskAssignment.objects.get().status == "ACCEPTED"


def test_each_change_is_pushed_after_commit_to_the_task_and_its_areas(world, committed, monkeypatch):
    pushed = []
    monkeypatch.setattr("notifications.realtime.publish", lambda groups, event: pushed.append((sorted(groups), event)))
    task = create_task(TaskSpec(title="巡查"), area=world.grid_a1, dispatch=False)
    with committed():
        edit_task(task, TaskChanges(title="夜间巡查"), by=world.worker_a1, expected_version=1)
    kinds = [(e["type"], e.get("change")) for _, e in pushed]
    assert ("task.updated", "EDITED") in kinds
    groups = next(g for g, e in pushed if e.get("change") == "EDITED")
    expected = {events.task_group(task.pk)} | {events.area_group(a.pk) for a in world.grid_a1.ancestors_and_self()}
    assert set(groups) == expected
    assert TaskEvent.objects.get(kind="EDITED").data["changed"] == {"title": ["巡查", "夜间巡查"]}


def test_nothing_is_pushed_when_the_change_rolls_back(world, committed, monkeypatch):
    from django.db import transaction

    pushed = []
    monkeypatch.setattr("notifications.realtime.publish", lambda groups, event: pushed.append(event))
    task = create_task(TaskSpec(title="巡查"), area=world.grid_a1, dispatch=False)
    with committed(), pytest.raises(RuntimeError), transaction.atomic():
        edit_task(task, TaskChanges(title="改了又撤"), by=world.worker_a1, expected_version=1)
        raise RuntimeError
    assert [e for e in pushed if e.get("change") == "EDITED"] == []
    assert Task.objects.get(pk=task.pk).title == "巡查"
