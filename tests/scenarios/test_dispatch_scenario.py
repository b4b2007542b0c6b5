"""End to end through the public GraphQL API and the SMS webhook: a grid worker creates a
5-person urgent task; offers go out by app and SMS; some volunteers decline, some ignore
(their offers expire at the sweep, with the clock moved on), some accept in the app and some
by SMS; a second wave widens the radius; the task ends staffed with the right people, and
its timeline shows every step."""
# ruff: noqa: F811 - the dispatch tests' fixtures are imported here by name

import pytest

from notifications.models import InboundSms
from tests.notifications.helpers import inbound_params, signed_post
from tests.operations import operation
from tests.volunteers.conftest import gid
from tests.volunteers.dispatch.conftest import (  # noqa: F401 - fixtures
    _dispatch_isolation,
    clock,
    committed,
    fake_twilio,
    helper,
)
from volunteers.models import ContactChannel, Offer, ServiceHoursEntry, TaskAssignment
from volunteers.tasks import sweep_dispatch

pytestmark = pytest.mark.django_db

CREATE = operation("tasks/CreateTask")
RESPOND = operation("tasks/RespondToOffer")
MY_OFFERS = operation("tasks/MyOffers")
TASK = operation("tasks/Task")
CHECK_IN = operation("tasks/CheckInOnSite")
COMPLETE = operation("tasks/CompleteTaskAssignment")

_sids = iter(range(1, 10**6))


def text_in(client, committed, volunteer, body) -> InboundSms:
    sid = f"SM{next(_sids):032d}"
    with committed():
        assert signed_post(client, "/sms/inbound/", inbound_params(str(volunteer.user.phone), body, sid)).status_code == 200
    return InboundSms.objects.get(message_sid=sid)


def answer_in_app(gql, committed, volunteer, accept: bool) -> dict:
    """The volunteer opens the app, finds the pending offer and answers it."""
    [edge] = gql.data(MY_OFFERS, {"pendingOnly": True}, user=volunteer.user)["myOffers"]["edges"]
    with committed():
        result = gql.data(RESPOND, {"offerId": edge["node"]["id"], "accept": accept, "key": f"answer-{volunteer.pk}"},
                          user=volunteer.user)["respondToOffer"]
    assert result["errors"] == [], result
    return result


def sms_to(fake, volunteer) -> list[str]:
    return [m["body"] for m in fake.messages if m["to"] == str(volunteer.user.phone)]


def test_a_five_person_urgent_task_is_staffed_over_two_waves(world, gql, client, committed, clock, fake_twilio):
    app, sms = ContactChannel.APP, ContactChannel.SMS
    # Ten volunteers within 1 km (the first search radius for URGENT), four more at 1.2-1.8 km.
    near = [helper(world.grid_a1, 90 * (i + 1), 36 * i, name=f"近{i}", channel=sms if i in (2, 5) else app) for i in range(10)]
    farther = [helper(world.grid_a1, 1200 + 200 * i, 90 * i, name=f"远{i}", channel=sms if i == 1 else app) for i in range(4)]

    # 1. The grid worker creates the task: 5 places x 2.0 = 10 offers, the ten nearest.
    task_input = {"areaId": gid("Area", world.grid_a1.pk), "title": "台风前转移物资", "headcount": 5, "priority": "URGENT",
                  "location": {"latitude": world.grid_a1.center_lat, "longitude": world.grid_a1.center_lng}}
    with committed():
        created = gql.data(CREATE, {"input": task_input, "key": "create-1"}, user=world.worker_a1)["createTask"]
    assert created["errors"] == []
    task_id = created["task"]["id"]
    first_wave = Offer.objects.filter(wave=1)
    assert sorted(first_wave.values_list("user_id", flat=True)) == sorted(v.user_id for v in near)
    for v in (near[2], near[5]):  # the SMS volunteers were texted, with their code
        code = Offer.objects.get(user=v.user).sms_code
        assert sms_to(fake_twilio, v) == [
            f"【邻里】甲一网格需要5人：台风前转移物资，距您约{round(Offer.objects.get(user=v.user).distance_m / 10) * 10:.0f}米。"
            f"10分钟内回复“是 {code}”接受，“否 {code}”拒绝。"
        ]

    # 2. Answers come in: two decline in the app, one by SMS; two accept in the app, one by SMS.
    clock.advance(60)
    answer_in_app(gql, committed, near[0], accept=False)
    answer_in_app(gql, committed, near[1], accept=False)
    assert text_in(client, committed, near[5], "2").outcome == "answered"
    clock.advance(60)
    assert answer_in_app(gql, committed, near[3], accept=True)["outcome"] == "ACCEPTED"
    assert answer_in_app(gql, committed, near[4], accept=True)["outcome"] == "ACCEPTED"
    assert text_in(client, committed, near[2], "是").outcome == "answered"
    assert sms_to(fake_twilio, near[2])[-1] == "【邻里】已确认：任务“台风前转移物资”由您承担，请尽快前往甲一网格。谢谢！"
    assert Offer.objects.filter(wave=2).count() == 0  # four offers are still out: no second wave yet

    # 3. Four ignore it. At the deadline the sweep expires their offers and, the wave having
    #    run out, sends the second: 2 places x 2.0 = 4 offers; nobody is left within 1 km, so
    #    the radius widens to 2 km.
    clock.advance(481)
    with committed():
        sweep_dispatch.delay()
    assert set(Offer.objects.filter(wave=1, status="EXPIRED").values_list("user_id", flat=True)) == {
        near[i].user_id for i in (6, 7, 8, 9)}
    assert sorted(Offer.objects.filter(wave=2).values_list("user_id", flat=True)) == sorted(v.user_id for v in farther)

    # 4. One farther volunteer accepts in the app, one by SMS quoting the code: staffed.
    clock.advance(90)
    answer_in_app(gql, committed, farther[0], accept=True)
    code = Offer.objects.get(user=farther[1].user).sms_code
    assert text_in(client, committed, farther[1], f"Y {code}").outcome == "answered"

    # 5. The task is staffed with the right people; the two still pending were withdrawn and told.
    task = gql.data(TASK, {"id": task_id, "timelineFirst": 100}, user=world.worker_a1)["task"]
    assert task["status"] == "STAFFED" and task["filledCount"] == 5 and task["waveCount"] == 2 and task["radiusM"] == 2000
    winners = {near[3], near[4], near[2], farther[0], farther[1]}
    assert {p["personName"] for p in task["people"]} == {v.user.display_name for v in winners}
    assert set(Offer.objects.filter(status="WITHDRAWN").values_list("user_id", flat=True)) == {farther[2].user_id, farther[3].user_id}
    assert set(Offer.objects.filter(status="ACCEPTED", answered_via="SMS").values_list("user_id", flat=True)) == {
        near[2].user_id, farther[1].user_id}

    # 6. The timeline shows it all, in order, with who and when.
    kinds = [e["node"]["kind"] for e in task["timeline"]["edges"]]
    assert kinds[:2] == ["CREATED", "DISPATCH_STARTED"]
    assert kinds.count("OFFERED") == 14 and kinds.count("WAVE_SENT") == 2 and kinds.count("RADIUS_WIDENED") == 1
    assert kinds.count("DECLINED") == 3 and kinds.count("EXPIRED") == 4 and kinds.count("ACCEPTED") == 5
    assert kinds[-3:] == ["STAFFED", "OFFER_WITHDRAWN", "OFFER_WITHDRAWN"]
    assert kinds.index("RADIUS_WIDENED") > kinds.index("EXPIRED")
    wave_events = [e["node"] for e in task["timeline"]["edges"] if e["node"]["kind"] == "WAVE_SENT"]
    assert [(w["wave"], w["data"]["offers"], w["data"]["radiusM"]) for w in wave_events] == [(1, 10, 1000), (2, 4, 2000)]
    assert task["metrics"]["secondsToFirstAcceptance"] == 120 and task["metrics"]["secondsToStaffed"] == 691
    assert task["metrics"]["offersPerFilledPlace"] == 2.8

    # 7. They go to work: one checks in on site and completes; the hours are recorded once.
    mine = TaskAssignment.objects.get(user=near[3].user)
    where = {"latitude": world.grid_a1.center_lat, "longitude": world.grid_a1.center_lng}
    with committed():
        assert gql.data(CHECK_IN, {"assignmentId": gid("TaskAssignment", mine.pk), "location": where},
                        user=near[3].user)["checkInOnSite"]["assignment"]["status"] == "ON_SITE"
    clock.advance(hours=2)
    with committed():
        done = gql.data(COMPLETE, {"assignmentId": gid("TaskAssignment", mine.pk)}, user=near[3].user)["completeTaskAssignment"]
    assert done["assignment"]["hours"] == "2.00" and done["assignment"]["task"]["status"] == "IN_PROGRESS"
    assert ServiceHoursEntry.objects.get(user=near[3].user).hours == 2
