"""After accepting: on the way, on site within the radius (refused clearly otherwise), done
(service hours once), or withdrawn (the place reopens and dispatch resumes)."""

import datetime as dt
from decimal import Decimal

import pytest

from community.geo import wgs84_to_gcj02
from tests.operations import operation
from tests.volunteers.conftest import gid
from volunteers.models import Offer, ServiceHoursEntry, Task, TaskAssignment, TaskEvent
from volunteers.services import TaskSpec, create_task, respond_to_offer

from .conftest import TASK_POINT, helper, point_at

pytestmark = pytest.mark.django_db

EN_ROUTE = operation("tasks/MarkEnRoute")
CHECK_IN = operation("tasks/CheckInOnSite")
COMPLETE = operation("tasks/CompleteTaskAssignment")
WITHDRAW = operation("tasks/WithdrawFromTask")
MINE = operation("tasks/MyTaskAssignments")


def where(point, datum="WGS84"):
    return {"latitude": point[0], "longitude": point[1], "datum": datum}


@pytest.fixture
def accepted(world, committed):
    """Two people on a two-place task, and two more asked nearby."""
    people = [helper(world.grid_a1, 100 * i) for i in range(1, 7)]
    with committed():
        task = create_task(TaskSpec(title="清理积水", headcount=2, priority="URGENT"), area=world.grid_a1)
    with committed():
        for person in people[:2]:
            respond_to_offer(Offer.objects.get(task=task, user=person.user), accept=True)
    return task, people, [TaskAssignment.objects.get(task=task, user=p.user) for p in people[:2]]


def test_the_volunteer_goes_en_route_checks_in_and_completes(world, gql, committed, clock, accepted):
    task, people, (mine, _) = accepted
    user = people[0].user
    with committed():
        assert gql.data(EN_ROUTE, {"assignmentId": gid("TaskAssignment", mine.pk)}, user=user)["markEnRoute"]["assignment"]["status"] == "EN_ROUTE"
    clock.advance(600)
    glat, glng = wgs84_to_gcj02(*point_at(120, 90))
    with committed():
        result = gql.data(CHECK_IN, {"assignmentId": gid("TaskAssignment", mine.pk), "location": where((glat, glng), "GCJ02")},
                          user=user)["checkInOnSite"]
    assert result["errors"] == [] and result["assignment"]["status"] == "ON_SITE"
    assert result["assignment"]["onSiteDistanceM"] == pytest.approx(120, rel=0.02)
    assert result["assignment"]["task"]["status"] == "IN_PROGRESS"
    clock.advance(hours=1, minutes=20)
    with committed():
        done = gql.data(COMPLETE, {"assignmentId": gid("TaskAssignment", mine.pk)}, user=user)["completeTaskAssignment"]
    assert done["errors"] == [] and done["assignment"]["status"] == "COMPLETED" and done["assignment"]["hours"] == "1.25"
    [entry] = ServiceHoursEntry.objects.filter(user=user)
    assert entry.kind == "TASK" and entry.community == world.com_a and entry.source == mine and entry.reason == "清理积水"
    people[0].refresh_from_db()
    assert people[0].completed_count == 1
    kinds = list(TaskEvent.objects.filter(task=task, subject=user).values_list("kind", flat=True))
    assert kinds[-3:] == ["EN_ROUTE", "ON_SITE", "COMPLETED"]


def test_checking_in_too_far_away_is_refused_with_the_distance(world, gql, accepted):
    task, people, (mine, _) = accepted
    result = gql.data(CHECK_IN, {"assignmentId": gid("TaskAssignment", mine.pk), "location": where(point_at(900))},
                      user=people[0].user)["checkInOnSite"]
    [error] = result["errors"]
    assert error["code"] == "OUTSIDE_RADIUS" and error["field"] == "location" and "900 m" in error["message"] and "300 m" in error["message"]
    mine.refresh_from_db()
    assert mine.status == "ACCEPTED" and Task.objects.get(pk=task.pk).status == "STAFFED"


def test_completing_twice_credits_hours_once(world, accepted, committed):
    from volunteers.services import check_in_on_site, complete_assignment

    task, people, (mine, _) = accepted
    check_in_on_site(mine, TASK_POINT)
    complete_assignment(mine, by=people[0].user)
    from core.errors import ValidationError

    with pytest.raises(ValidationError):
        complete_assignment(TaskAssignment.objects.get(pk=mine.pk), by=people[0].user)
    assert ServiceHoursEntry.objects.filter(user=people[0].user).count() == 1


def test_a_volunteer_cannot_complete_before_checking_in_but_staff_can_for_them(world, gql, accepted):
    task, people, (mine, _) = accepted
    early = gql.data(COMPLETE, {"assignmentId": gid("TaskAssignment", mine.pk)}, user=people[0].user)["completeTaskAssignment"]
    assert [e["code"] for e in early["errors"]] == ["INVALID_ASSIGNMENT_STATUS"]
    done = gql.data(COMPLETE, {"assignmentId": gid("TaskAssignment", mine.pk), "hours": "2.5"}, user=world.worker_a1)["completeTaskAssignment"]
    assert done["errors"] == [] and done["assignment"]["hours"] == "2.50"
    assert ServiceHoursEntry.objects.get(user=people[0].user).created_by == world.worker_a1


def test_only_staff_may_set_the_hours(world, gql, accepted):
    task, people, (mine, _) = accepted
    status, body = gql(COMPLETE, {"assignmentId": gid("TaskAssignment", mine.pk), "hours": "8"}, user=people[0].user)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN" and not ServiceHoursEntry.objects.exists()


def test_when_every_place_is_completed_the_task_is_done(world, accepted, committed):
    from volunteers.services import check_in_on_site, complete_assignment

    task, people, assignments = accepted
    with committed():
        for a, p in zip(assignments, people, strict=False):
            check_in_on_site(a, TASK_POINT)
            complete_assignment(a, by=p.user)
    task.refresh_from_db()
    assert task.status == "DONE" and task.closed_at is not None
    assert set(Offer.objects.filter(task=task).values_list("status", flat=True)) == {"ACCEPTED", "WITHDRAWN"}


def test_withdrawing_reopens_the_place_and_dispatch_resumes(world, gql, committed, accepted):
    task, people, (mine, _) = accepted
    with committed():
        result = gql.data(WITHDRAW, {"assignmentId": gid("TaskAssignment", mine.pk), "reason": "家里有急事"},
                          user=people[0].user)["withdrawFromTask"]
    assert result["assignment"]["status"] == "WITHDRAWN"
    task.refresh_from_db()
    assert (task.status, task.filled_count) == ("DISPATCHING", 1)
    # URGENT: ceil(1 x 2) - 0 pending = 2 new offers, to people not asked before.
    second = Offer.objects.filter(task=task, wave=2)
    assert set(second.values_list("user_id", flat=True)) == {people[4].user_id, people[5].user_id}
    people[0].refresh_from_db()
    assert people[0].withdrawn_count == 1 and people[0].reliability == pytest.approx(3 / 5)
    assert TaskEvent.objects.filter(task=task, kind="WITHDREW", data__reason="家里有急事").exists()


@pytest.mark.parametrize("step", [EN_ROUTE, WITHDRAW])
def test_nobody_can_move_someone_elses_place(world, gql, accepted, step):
    task, people, (mine, _) = accepted
    status, body = gql(step, {"assignmentId": gid("TaskAssignment", mine.pk)}, user=people[1].user)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    mine.refresh_from_db()
    assert mine.status == "ACCEPTED"


def test_my_task_assignments_show_where_to_go(world, gql, accepted):
    task, people, _ = accepted
    data = gql.data(MINE, {}, user=people[0].user)["myTaskAssignments"]
    [node] = [e["node"] for e in data["edges"]]
    assert node["status"] == "ACCEPTED" and node["task"]["location"] == {"latitude": task.lat, "longitude": task.lng}
    assert node["task"]["checkinRadiusM"] == 300


def test_hours_are_rounded_to_the_quarter_hour_with_a_minimum(world, accepted, clock):
    from volunteers.services.assignments import hours_for

    task, people, (mine, _) = accepted
    mine.on_site_at = clock.now
    assert hours_for(mine, clock.now + dt.timedelta(minutes=3)) == Decimal("0.25")
    assert hours_for(mine, clock.now + dt.timedelta(minutes=52)) == Decimal("0.75")
    assert hours_for(mine, clock.now + dt.timedelta(hours=30)) == Decimal("24")


def test_drill_hours_say_so(world, committed):
    from volunteers.services import check_in_on_site, complete_assignment

    v = helper(world.grid_a1, 100)
    with committed():
        task = create_task(TaskSpec(title="疏散演练"), area=world.grid_a1, is_drill=True)
    with committed():
        answer = respond_to_offer(Offer.objects.get(task=task), accept=True)
    check_in_on_site(answer.assignment, TASK_POINT)
    complete_assignment(answer.assignment, by=v.user)
    assert ServiceHoursEntry.objects.get(user=v.user).reason == "【演练】疏散演练"
