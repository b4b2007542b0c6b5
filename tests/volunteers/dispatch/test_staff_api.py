"""Grid workers manage tasks in their grids: edit (a stale version is refused and changes
nothing), headcount, cancel, close, start dispatch, offer to a named volunteer, add and
remove people. Each change is on the timeline; the wrong grid worker is refused."""

import pytest
from graphql_relay import from_global_id

from notifications.models import Notification
from tests.operations import operation
from tests.volunteers.conftest import gid, make_volunteer, new_task, new_user
from tests.world import give_role
from volunteers.models import (
    ContactChannel,
    Offer,
    ServiceHoursEntry,
    Task,
    TaskAssignment,
    TaskEvent,
    VolunteerStatus,
)
from volunteers.services import TaskSpec, check_in_on_site, create_task, respond_to_offer

from .conftest import TASK_POINT, helper

pytestmark = pytest.mark.django_db

UPDATE = operation("tasks/UpdateTask")
HEADCOUNT = operation("tasks/SetTaskHeadcount")
CANCEL = operation("tasks/CancelTask")
CLOSE = operation("tasks/CloseTask")
START = operation("tasks/StartDispatch")
OFFER_TO = operation("tasks/OfferTaskToVolunteer")
ADD = operation("tasks/AddPersonToTask")
REMOVE = operation("tasks/RemovePersonFromTask")
TASK = operation("tasks/Task")


def codes(payload):
    return [e["code"] for e in payload["errors"]]


def make_task(world, committed, **kwargs):
    kwargs.setdefault("headcount", 2)
    kwargs.setdefault("priority", "URGENT")
    with committed():
        return new_task(world.grid_a1, title="排查隐患", created_by=world.worker_a1, **kwargs)


def test_an_edit_with_the_current_version_applies_and_is_on_the_timeline(world, gql, committed):
    task = make_task(world, committed)
    changes = {"title": "排查燃气隐患", "priority": "LIFE_SAFETY", "requiredSkills": ["first_aid"]}
    result = gql.data(UPDATE, {"taskId": gid("Task", task.pk), "expectedVersion": 1, "changes": changes},
                      user=world.worker_a1)["updateTask"]
    assert result["errors"] == [] and result["task"]["version"] == 2 and result["task"]["priority"] == "LIFE_SAFETY"
    edited = TaskEvent.objects.get(task=task, kind="EDITED")
    assert edited.actor == world.worker_a1
    assert edited.data["changed"] == {"title": ["排查隐患", "排查燃气隐患"], "priority": ["URGENT", "LIFE_SAFETY"],
                                      "required_skills": [[], ["first_aid"]]}


def test_a_stale_version_is_refused_and_changes_nothing(world, gql, committed):
    task = make_task(world, committed)
    gql.data(UPDATE, {"taskId": gid("Task", task.pk), "expectedVersion": 1, "changes": {"title": "甲改的"}}, user=world.worker_a1)
    stale = gql.data(UPDATE, {"taskId": gid("Task", task.pk), "expectedVersion": 1, "changes": {"title": "乙改的"}},
                     user=world.admin_a)["updateTask"]
    assert codes(stale) == ["STALE_VERSION"] and stale["errors"][0]["field"] == "expectedVersion" and stale["task"] is None
    task.refresh_from_db()
    assert (task.title, task.version) == ("甲改的", 2) and TaskEvent.objects.filter(kind="EDITED").count() == 1


def test_an_edit_with_bad_values_changes_nothing(world, gql, committed):
    task = make_task(world, committed)
    result = gql.data(UPDATE, {"taskId": gid("Task", task.pk), "expectedVersion": 1,
                               "changes": {"title": "", "checkinRadiusM": 1}}, user=world.worker_a1)["updateTask"]
    assert sorted(codes(result)) == ["INVALID_RADIUS", "REQUIRED"]
    assert Task.objects.get(pk=task.pk).version == 1


@pytest.mark.parametrize("who", ["worker_b1", "admin_b", "worker_a2", "volunteer", "resident"])
@pytest.mark.parametrize("operation_name", ["update", "cancel", "close", "headcount", "offer", "add"])
def test_the_wrong_grid_worker_is_refused_and_nothing_changes(world, gql, committed, who, operation_name):
    v = helper(world.grid_a1, 100)
    spare = helper(world.grid_a1, 6000)
    task = make_task(world, committed)
    if who == "worker_a2":
        user = new_user("网格员A2")
        give_role(user, world.grid_a2, "grid_worker")
    elif who == "volunteer":
        user = v.user
    else:
        user = getattr(world, who)
    task_id = gid("Task", task.pk)
    document, variables = {
        "update": (UPDATE, {"taskId": task_id, "expectedVersion": 1, "changes": {"title": "改"}}),
        "cancel": (CANCEL, {"taskId": task_id}),
        "close": (CLOSE, {"taskId": task_id}),
        "headcount": (HEADCOUNT, {"taskId": task_id, "headcount": 9}),
        "offer": (OFFER_TO, {"taskId": task_id, "volunteerId": gid("Volunteer", spare.pk)}),
        "add": (ADD, {"taskId": task_id, "volunteerId": gid("Volunteer", spare.pk)}),
    }[operation_name]
    events_before = TaskEvent.objects.count()
    status, body = gql(document, variables, user=user)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    after = Task.objects.get(pk=task.pk)
    assert (after.title, after.status, after.headcount, after.version) == ("排查隐患", "DISPATCHING", 2, 1)
    assert TaskEvent.objects.count() == events_before and not Offer.objects.filter(user=spare.user).exists()


def test_cancelling_withdraws_offers_and_releases_people_who_are_told(world, gql, committed):
    people = [helper(world.grid_a1, 100 * i) for i in range(1, 5)]
    task = make_task(world, committed)
    with committed():
        respond_to_offer(Offer.objects.get(task=task, user=people[0].user), accept=True)
    with committed():
        result = gql.data(CANCEL, {"taskId": gid("Task", task.pk), "reason": "已由消防处理"}, user=world.worker_a1)["cancelTask"]
    assert result["task"]["status"] == "CANCELLED" and result["task"]["statusReason"] == "已由消防处理"
    assert set(Offer.objects.filter(task=task).exclude(user=people[0].user).values_list("status", "withdrawn_reason")) == {("WITHDRAWN", "CANCELLED")}
    assert TaskAssignment.objects.get(task=task).status == "CANCELLED" and Task.objects.get(pk=task.pk).filled_count == 0
    assert Notification.objects.get(user=people[0].user, kind="task.assignment.cancelled").body == "任务已取消，您无需前往。谢谢！"
    assert Notification.objects.filter(user=people[1].user, kind="task.offer.withdrawn").exists()
    again = gql.data(CANCEL, {"taskId": gid("Task", task.pk)}, user=world.worker_a1)["cancelTask"]
    assert codes(again) == ["TASK_CLOSED"]


def test_closing_completes_those_on_site_and_releases_the_rest(world, gql, committed):
    people = [helper(world.grid_a1, 100 * i) for i in range(1, 5)]
    task = make_task(world, committed)
    with committed():
        answers = [respond_to_offer(Offer.objects.get(task=task, user=p.user), accept=True) for p in people[:2]]
    check_in_on_site(answers[0].assignment, TASK_POINT)
    with committed():
        result = gql.data(CLOSE, {"taskId": gid("Task", task.pk)}, user=world.admin_a)["closeTask"]
    assert result["task"]["status"] == "DONE"
    statuses = dict(TaskAssignment.objects.filter(task=task).values_list("user_id", "status"))
    assert statuses == {people[0].user_id: "COMPLETED", people[1].user_id: "RELEASED"}
    assert ServiceHoursEntry.objects.filter(user=people[0].user).count() == 1 and not ServiceHoursEntry.objects.filter(user=people[1].user).exists()


def test_raising_and_lowering_the_headcount(world, gql, committed):
    people = [helper(world.grid_a1, 100 * i) for i in range(1, 8)]
    task = make_task(world, committed)
    with committed():
        for p in people[:2]:
            respond_to_offer(Offer.objects.get(task=task, user=p.user), accept=True)
    assert Task.objects.get(pk=task.pk).status == "STAFFED"
    with committed():
        raised = gql.data(HEADCOUNT, {"taskId": gid("Task", task.pk), "headcount": 3, "expectedVersion": 1}, user=world.worker_a1)
    assert raised["setTaskHeadcount"]["task"] == {**raised["setTaskHeadcount"]["task"], "status": "DISPATCHING", "headcount": 3}
    assert Offer.objects.filter(task=task, wave=2).count() == 2
    too_low = gql.data(HEADCOUNT, {"taskId": gid("Task", task.pk), "headcount": 1}, user=world.worker_a1)["setTaskHeadcount"]
    assert codes(too_low) == ["HEADCOUNT_BELOW_FILLED"]
    with committed():
        lowered = gql.data(HEADCOUNT, {"taskId": gid("Task", task.pk), "headcount": 2}, user=world.worker_a1)["setTaskHeadcount"]
    assert lowered["task"]["status"] == "STAFFED"
    assert not Offer.objects.filter(task=task, status="PENDING").exists()
    assert list(TaskEvent.objects.filter(kind="HEADCOUNT_CHANGED").values_list("data", flat=True)) == [{"from": 2, "to": 3}, {"from": 3, "to": 2}]


def test_offering_to_a_named_volunteer(world, gql, committed):
    far = helper(world.grid_a1, 9000, channel=ContactChannel.SMS)
    with committed():
        task = create_task(TaskSpec(title="翻译"), area=world.grid_a1, dispatch=False)
    with committed():
        result = gql.data(OFFER_TO, {"taskId": gid("Task", task.pk), "volunteerId": gid("Volunteer", far.pk)},
                          user=world.worker_a1)["offerTaskToVolunteer"]
    assert result["errors"] == [] and result["offer"]["via"] == "STAFF" and result["offer"]["personName"] == far.user.display_name
    offer = Offer.objects.get(task=task)
    assert offer.offered_by == world.worker_a1 and offer.wave == 0 and offer.sms_code
    assert Task.objects.get(pk=task.pk).status == "DISPATCHING"
    again = gql.data(OFFER_TO, {"taskId": gid("Task", task.pk), "volunteerId": gid("Volunteer", far.pk)}, user=world.worker_a1)
    assert codes(again["offerTaskToVolunteer"]) == ["ALREADY_OFFERED"]
    suspended = make_volunteer(new_user("停用"), world.grid_a1, status=VolunteerStatus.SUSPENDED)
    refused = gql.data(OFFER_TO, {"taskId": gid("Task", task.pk), "volunteerId": gid("Volunteer", suspended.pk)}, user=world.worker_a1)
    assert codes(refused["offerTaskToVolunteer"]) == ["NOT_APPROVED"]


def test_adding_and_removing_people(world, gql, committed):
    asked = helper(world.grid_a1, 100)
    direct = helper(world.grid_a1, 8000)
    backup = helper(world.grid_a1, 200)
    task = make_task(world, committed, headcount=1, priority="ROUTINE")  # 2 offers: asked, backup
    with committed():
        added = gql.data(ADD, {"taskId": gid("Task", task.pk), "volunteerId": gid("Volunteer", direct.pk)}, user=world.worker_a1)["addPersonToTask"]
    assert added["errors"] == [] and added["assignment"]["addedByStaff"] and added["task"]["status"] == "STAFFED"
    assert Notification.objects.get(user=direct.user, kind="task.assignment.added").body == "工作人员已安排您参加“排查隐患”（甲一网格），请尽快前往。"
    assert set(Offer.objects.filter(task=task).values_list("status", flat=True)) == {"WITHDRAWN"}
    full = gql.data(ADD, {"taskId": gid("Task", task.pk), "volunteerId": gid("Volunteer", asked.pk)}, user=world.worker_a1)
    assert codes(full["addPersonToTask"]) == ["TASK_FULL"]
    assignment_id = added["assignment"]["id"]
    fresh = helper(world.grid_a1, 300)  # came on duty since; the others were asked already
    with committed():
        removed = gql.data(REMOVE, {"assignmentId": assignment_id, "reason": "另有安排"}, user=world.worker_a1)["removePersonFromTask"]
    assert removed["assignment"]["status"] == "REMOVED" and removed["task"]["filledCount"] == 0
    assert Notification.objects.filter(user=direct.user, kind="task.assignment.removed").exists()
    task.refresh_from_db()
    assert task.status == "DISPATCHING" and backup.pk and asked.pk
    assert list(Offer.objects.filter(task=task, status="PENDING").values_list("user_id", flat=True)) == [fresh.user_id]
    direct.refresh_from_db()
    assert direct.withdrawn_count == 0  # removal by staff is no mark on their record
    assert TaskAssignment.objects.get(pk=from_global_id(assignment_id)[1]).end_reason == "另有安排"


def test_an_unstaffed_task_can_be_dispatched_again(world, gql, committed):
    task = make_task(world, committed)
    assert Task.objects.get(pk=task.pk).status == "UNSTAFFED"
    newcomer = helper(world.grid_a1, 100)
    with committed():
        result = gql.data(START, {"taskId": gid("Task", task.pk)}, user=world.worker_a1)["startDispatch"]
    assert result["task"]["status"] == "DISPATCHING"
    assert Offer.objects.get(task=task).user == newcomer.user


def test_staff_see_the_whole_task_a_volunteer_only_their_part(world, gql, committed):
    v = helper(world.grid_a1, 100)
    task = make_task(world, committed, headcount=1)
    staff_view = gql.data(TASK, {"id": gid("Task", task.pk)}, user=world.worker_a1)["task"]
    assert staff_view["canManage"] and staff_view["location"] and len(staff_view["timeline"]["edges"]) >= 4
    assert staff_view["metrics"]["offers"] == 1
    volunteer_view = gql.data(TASK, {"id": gid("Task", task.pk)}, user=v.user)["task"]
    assert volunteer_view["canManage"] is False and volunteer_view["location"] is None and volunteer_view["address"] is None
    assert volunteer_view["people"] == [] and volunteer_view["metrics"] is None and volunteer_view["timeline"]["edges"] == []
    assert volunteer_view["myOffer"]["status"] == "PENDING"
    assert gql.data(TASK, {"id": gid("Task", task.pk)}, user=world.worker_b1)["task"] is None
    node = gql.data('query($id: ID!) { node(id: $id) { id } }', {"id": gid("Task", task.pk)}, user=world.worker_b1)["node"]
    assert node is None
