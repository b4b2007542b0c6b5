"""With the broker down, every request that starts dispatch still succeeds: the task is
committed, the failed enqueue is logged, and the periodic sweep sends the wave later. A retry
of the same request changes nothing twice (DESIGN.md principle 1; core.enqueue)."""

import pytest
from celery.app.task import Task as CeleryTask
from kombu.exceptions import OperationalError as BrokerDown

from emergency.models import SafetyStatus
from emergency.safety import start_safety_check
from emergency.tasks import run_pending_emergency_jobs
from tests.emergency.emergency_support import resident
from tests.operations import operation
from tests.volunteers.conftest import gid
from volunteers.models import Offer, Task
from volunteers.services import TaskSpec, create_task
from volunteers.tasks import sweep_dispatch

from .conftest import TASK_POINT, helper

pytestmark = pytest.mark.django_db

CREATE = operation("tasks/CreateTask")
START = operation("tasks/StartDispatch")
HEADCOUNT = operation("tasks/SetTaskHeadcount")
RESPOND = operation("tasks/RespondToOffer")
ANSWER = operation("emergency/AnswerSafetyCheck")


def refuse(*args, **kwargs):
    raise BrokerDown("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


@pytest.fixture
def broker_down(monkeypatch):
    monkeypatch.setattr(CeleryTask, "apply_async", refuse)
    return monkeypatch


def task_input(area, **overrides):
    values = {"areaId": gid("Area", area.pk), "title": "帮独居老人买药", "headcount": 1, "priority": "URGENT",
              "location": {"latitude": TASK_POINT[0], "longitude": TASK_POINT[1]}}
    return {**values, **overrides}


def due_now(task: Task) -> None:
    """The sweep hands a task to a worker once its wave is overdue (the message was lost)."""
    Task.objects.filter(pk=task.pk).update(dispatch_due_at=task.created_at)


def test_create_task_answers_success_and_the_sweep_sends_the_wave(world, gql, committed, broker_down, caplog):
    helper(world.grid_a1, 100)
    with committed():
        result = gql.data(CREATE, {"input": task_input(world.grid_a1), "key": "k1"}, user=world.worker_a1)["createTask"]
    assert result["errors"] == [] and result["task"]["title"] == "帮独居老人买药"
    assert "periodic sweep will re-drive" in caplog.text and not Offer.objects.exists()
    with committed():
        again = gql.data(CREATE, {"input": task_input(world.grid_a1), "key": "k1"}, user=world.worker_a1)["createTask"]
    assert again == result and Task.objects.count() == 1
    broker_down.undo()
    due_now(Task.objects.get())
    with committed():
        sweep_dispatch()
    assert Offer.objects.count() == 1


def test_start_dispatch_and_headcount_changes_answer_success(world, gql, committed, broker_down):
    task = create_task(TaskSpec(title="排查隐患"), area=world.grid_a1, dispatch=False, created_by=world.worker_a1)
    with committed():
        started = gql.data(START, {"taskId": gid("Task", task.pk)}, user=world.worker_a1)["startDispatch"]
        raised = gql.data(HEADCOUNT, {"taskId": gid("Task", task.pk), "headcount": 3}, user=world.worker_a1)["setTaskHeadcount"]
    assert started["errors"] == [] and started["task"]["autoDispatch"] is True
    assert raised["errors"] == [] and raised["task"]["headcount"] == 3


def test_declining_an_offer_answers_success(world, gql, committed, broker_down):
    volunteer = helper(world.grid_a1, 100)
    broker_down.undo()
    with committed():
        task = create_task(TaskSpec(title="送药", priority="URGENT"), area=world.grid_a1, created_by=world.worker_a1)
    offer = Offer.objects.get(task=task)
    broker_down.setattr(CeleryTask, "apply_async", refuse)
    with committed():
        result = gql.data(RESPOND, {"offerId": gid("Offer", offer.pk), "accept": False}, user=volunteer.user)["respondToOffer"]
    assert result["errors"] == [] and result["offer"]["status"] == "DECLINED"


def test_a_need_help_answer_makes_its_task_while_the_broker_is_down(world, gql, committed, broker_down):
    person = resident(world.grid_a1, "张用App", app=True)
    check = start_safety_check(world.com_a, by=world.admin_a, title="暴雨报平安")
    run_pending_emergency_jobs()
    with committed():
        result = gql.data(ANSWER, {"safetyCheckId": gid("SafetyCheck", check.pk), "status": "NEED_HELP", "key": "a1"},
                          user=person.user)["answerSafetyCheck"]
    assert result["errors"] == [] and result["status"]["status"] == "NEED_HELP"
    row = SafetyStatus.objects.get(safety_check=check, resident=person)
    assert Task.objects.filter(pk=row.need_help_task_id, priority="LIFE_SAFETY").exists()
