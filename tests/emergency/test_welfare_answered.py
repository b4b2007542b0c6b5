"""A welfare-check task exists because a vulnerable resident stayed silent. When they (or
someone for them) then answer SAFE, a check nobody has taken is called off — its pending
offers withdrawn — and one a volunteer already holds goes on with the answer on its timeline.
The volunteer on the check answering for the resident is the visit itself: nothing changes."""

import datetime as dt

import pytest
from django.utils import timezone

from emergency.models import SafetyStatus
from emergency.safety import start_safety_check
from emergency.safety_answers import answer_safety_check, request_welfare_checks
from notifications.models import InboundSms
from notifications.tasks import process_inbound
from tests.notifications.helpers import PUBLIC, inbound_params, signed_post
from tests.operations import operation
from tests.volunteers.conftest import make_volunteer, new_user
from volunteers.dispatch.waves import offer_next_wave
from volunteers.models import Offer, Task, TaskEvent
from volunteers.services import add_person

from .emergency_support import _emergency_isolation, gid, resident, run_jobs  # noqa: F401

pytestmark = pytest.mark.django_db
ANSWER = operation("emergency/AnswerSafetyCheck")


@pytest.fixture
def elder(world):
    return resident(world.grid_a1, "王独居", app=True, elderly_living_alone=True)


@pytest.fixture
def welfare(world, elder):
    """The check started 31 minutes ago; the elder never answered: the welfare task exists."""
    check = start_safety_check(world.com_a, by=world.admin_a, title="暴雨报平安", welfare_after_minutes=30)
    run_jobs()
    assert request_welfare_checks(now=timezone.now() + dt.timedelta(minutes=31)) == 1
    return SafetyStatus.objects.select_related("resident__user", "grid", "safety_check").get(
        safety_check=check, resident=elder)


def task_of(row) -> Task:
    return Task.objects.get(pk=SafetyStatus.objects.get(pk=row.pk).welfare_task_id)


def kinds(task) -> list[str]:
    return list(TaskEvent.objects.filter(task=task).order_by("id").values_list("kind", flat=True))


def test_a_safe_answer_calls_off_a_check_nobody_has_taken(world, elder, welfare, gql):
    volunteer = make_volunteer(new_user("小李"), world.grid_a1, on_duty_until=timezone.now() + dt.timedelta(hours=4))
    task = task_of(welfare)
    offer_next_wave(task.pk)
    offer = Offer.objects.get(task=task, user=volunteer.user)
    assert offer.status == "PENDING"

    result = gql.data(ANSWER, {"safetyCheckId": gid("SafetyCheck", welfare.safety_check), "status": "SAFE"},
                      user=elder.user)["answerSafetyCheck"]
    assert result["errors"] == [] and result["status"]["status"] == "SAFE"
    task.refresh_from_db()
    assert task.status == "CANCELLED" and "报平安" in task.status_reason
    offer.refresh_from_db()
    assert offer.status == "WITHDRAWN"  # the volunteer is told; they don't go
    events = kinds(task)
    assert events[-3:] == ["RESIDENT_SAFE", "OFFER_WITHDRAWN", "CANCELLED"]
    event = TaskEvent.objects.get(task=task, kind="RESIDENT_SAFE")
    assert event.actor_id == elder.user_id and event.data == {"channel": "APP"}


def test_a_check_a_volunteer_holds_goes_on_with_the_answer_on_its_timeline(world, elder, welfare):
    volunteer = make_volunteer(new_user("小张"), world.grid_a1)
    task = task_of(welfare)
    add_person(task, volunteer, by=world.worker_a1)
    version = Task.objects.get(pk=task.pk).version

    answer_safety_check(welfare, "SAFE", by=elder.user, channel="APP")
    task.refresh_from_db()
    assert task.status == "STAFFED" and task.version == version + 1  # watchers get taskUpdated
    assert kinds(task)[-1] == "RESIDENT_SAFE"
    assert task.assignments.get().status == "ACCEPTED"


def test_the_volunteer_on_the_check_answering_for_the_resident_is_the_visit(world, elder, welfare):
    volunteer = make_volunteer(new_user("小赵"), world.grid_a1)
    task = task_of(welfare)
    add_person(task, volunteer, by=world.worker_a1)
    before = kinds(task)

    answer_safety_check(welfare, "SAFE", by=volunteer.user, channel="PROXY")
    task.refresh_from_db()
    assert task.status == "STAFFED" and kinds(task) == before


def test_an_sms_yes_from_a_resident_without_the_app_calls_the_check_off(world, welfare, client, settings,
                                                                         django_capture_on_commit_callbacks):
    settings.TWILIO_AUTH_TOKEN = "fake-twilio-auth-token-0123456789"
    settings.PUBLIC_BASE_URL = PUBLIC
    lonely = resident(world.grid_a1, "李无App", elderly_living_alone=True)  # no account: by SMS only
    check = start_safety_check(world.com_a, by=world.admin_a, title="第二次报平安", welfare_after_minutes=30)
    run_jobs()
    request_welfare_checks(now=timezone.now() + dt.timedelta(minutes=31))
    row = SafetyStatus.objects.get(safety_check=check, resident=lonely)
    task = task_of(row)
    with django_capture_on_commit_callbacks(execute=True):
        # Two checks ask them: the reply names this one by its reference code if needed; one
        # pending question for this phone number here, so "1" is enough.
        response = signed_post(client, "/sms/inbound/", inbound_params(str(lonely.phone), "1", "SM" + "c" * 32))
    assert response.status_code == 200
    process_inbound(InboundSms.objects.get(message_sid="SM" + "c" * 32).pk)
    assert SafetyStatus.objects.get(pk=row.pk).status == "SAFE"
    task.refresh_from_db()
    assert task.status == "CANCELLED" and kinds(task)[-2:] == ["RESIDENT_SAFE", "CANCELLED"]
    assert TaskEvent.objects.get(task=task, kind="RESIDENT_SAFE").actor_id is None


def test_need_help_after_the_welfare_check_leaves_it_and_raises_a_life_safety_task(world, elder, welfare):
    task = task_of(welfare)
    answer_safety_check(welfare, "NEED_HELP", by=elder.user, channel="APP", note="腿摔伤了")
    task.refresh_from_db()
    assert task.status in ("OPEN", "DISPATCHING", "UNSTAFFED") and "RESIDENT_SAFE" not in kinds(task)
    assert Task.objects.filter(priority="LIFE_SAFETY", source="SAFETY_CHECK").count() == 1


def test_a_second_safe_answer_changes_nothing_more(world, elder, welfare):
    volunteer = make_volunteer(new_user("小钱"), world.grid_a1)
    task = task_of(welfare)
    add_person(task, volunteer, by=world.worker_a1)
    answer_safety_check(welfare, "SAFE", by=elder.user, channel="APP")
    answer_safety_check(welfare, "SAFE", by=elder.user, channel="APP", client_key="again")
    assert kinds(task).count("RESIDENT_SAFE") == 1


def test_a_closed_welfare_task_is_left_alone(world, elder, welfare):
    task = task_of(welfare)
    Task.objects.filter(pk=task.pk).update(status="DONE")
    answer_safety_check(welfare, "SAFE", by=elder.user, channel="APP")
    assert Task.objects.get(pk=task.pk).status == "DONE" and "RESIDENT_SAFE" not in kinds(task)


@pytest.mark.parametrize("end", ["released", "withdrawn", "removed", "cancelled"])
def test_only_someone_serving_the_residents_task_may_answer_for_them(world, elder, welfare, end):
    from emergency.safety_answers import answering_channel
    from volunteers.models import TaskAssignment

    volunteer = make_volunteer(new_user("小钱"), world.grid_a1)
    task = task_of(welfare)
    add_person(task, volunteer, by=world.worker_a1)
    assert answering_channel(volunteer.user, welfare) == "PROXY"
    TaskAssignment.objects.filter(task=task, user=volunteer.user).update(status=end.upper())
    assert answering_channel(volunteer.user, welfare) is None
    TaskAssignment.objects.filter(task=task, user=volunteer.user).update(status="COMPLETED")
    assert answering_channel(volunteer.user, welfare) == "PROXY"  # they were there
