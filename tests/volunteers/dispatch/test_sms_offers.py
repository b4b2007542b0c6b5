"""Offers by SMS and answers by SMS: the offer goes out through the outbox (the real twilio
library against the fake Twilio server) in the volunteer's language with a reply code; the
answer comes back through the real, signed inbound webhook and the reply router."""

import pytest

from notifications.models import InboundSms, SmsMessage
from tests.notifications.helpers import inbound_params, signed_post
from tests.volunteers.conftest import new_task
from volunteers.models import ContactChannel, Offer, Task, TaskAssignment
from volunteers.services import respond_to_offer

from .conftest import helper

pytestmark = pytest.mark.django_db

_sids = iter(range(10**6))


def text_in(client, committed, phone, body):
    """An SMS from `phone`, through the signed webhook, processed after commit."""
    sid = f"SM{next(_sids):032d}"
    with committed():
        response = signed_post(client, "/sms/inbound/", inbound_params(str(phone), body, sid))
    assert response.status_code == 200
    return InboundSms.objects.get(message_sid=sid)


def sent_to(fake, phone):
    return [m["body"] for m in fake.messages if m["to"] == str(phone)]


def make_task(world, committed, **kwargs):
    kwargs.setdefault("headcount", 1)
    kwargs.setdefault("priority", "URGENT")
    with committed():
        return new_task(world.grid_a1, title="送药上门", **kwargs)


def test_an_sms_volunteer_is_texted_the_offer_in_chinese_with_a_reply_code(world, committed, fake_twilio):
    v = helper(world.grid_a1, 450, channel=ContactChannel.SMS)
    make_task(world, committed)
    offer = Offer.objects.get(user=v.user)
    [body] = sent_to(fake_twilio, v.user.phone)
    assert body == f"【邻里】甲一网格需要1人：送药上门，距您约450米。10分钟内回复“是 {offer.sms_code}”接受，“否 {offer.sms_code}”拒绝。"
    prompt = SmsMessage.objects.get(pk=offer.sms_message_id)
    assert prompt.expects_reply and prompt.reply_until == offer.expires_at and prompt.related == offer


def test_english_speakers_get_english_and_drills_are_marked(world, committed, fake_twilio):
    v = helper(world.grid_a1, 1200, channel=ContactChannel.BOTH)
    v.user.preferred_language = "en"
    v.user.save()
    make_task(world, committed, is_drill=True)
    offer = Offer.objects.get(user=v.user)
    [body] = sent_to(fake_twilio, v.user.phone)
    assert body.startswith("[DRILL] Linli: 甲一网格 needs 1: 送药上门, about 1.2 km from you.")
    assert f"Reply Y {offer.sms_code} to accept" in body
    push = v.user.notifications.get(kind="task.offer")
    assert push.is_drill and push.title == "[DRILL] New task: 送药上门"


def test_app_only_volunteers_are_not_texted(world, committed, fake_twilio):
    v = helper(world.grid_a1, 100, channel=ContactChannel.APP)
    make_task(world, committed)
    assert sent_to(fake_twilio, v.user.phone) == [] and Offer.objects.get(user=v.user).sms_code == ""
    assert v.user.notifications.get(kind="task.offer").body == "甲一网格需要1人：送药上门。距您约100米，请在10分钟内答复。"


@pytest.mark.parametrize("reply", ["1", "Y", "是", "y", "好的"])
def test_a_bare_yes_accepts_the_only_open_offer(world, committed, client, fake_twilio, reply):
    v = helper(world.grid_a1, 100, channel=ContactChannel.SMS)
    task = make_task(world, committed)
    inbound = text_in(client, committed, v.user.phone, reply)
    assert inbound.outcome == "answered"
    offer = Offer.objects.get(user=v.user)
    assert (offer.status, offer.answered_via) == ("ACCEPTED", "SMS")
    assert Task.objects.get(pk=task.pk).status == "STAFFED"
    assert sent_to(fake_twilio, v.user.phone)[-1] == "【邻里】已确认：任务“送药上门”由您承担，请尽快前往甲一网格。谢谢！"


@pytest.mark.parametrize("template", ["1 {code}", "Y {code}", "是 {code}", "{code} 是", "是{code}"])
def test_with_several_open_offers_the_code_picks_one(world, committed, client, fake_twilio, template):
    v = helper(world.grid_a1, 100, channel=ContactChannel.SMS, max_concurrent_tasks=3)
    first = make_task(world, committed)
    second = make_task(world, committed)
    pick = Offer.objects.get(task=second)
    text_in(client, committed, v.user.phone, template.format(code=pick.sms_code.lower()))
    assert Offer.objects.get(task=second).status == "ACCEPTED"
    assert Offer.objects.get(task=first).status == "PENDING"


def test_with_several_open_offers_a_bare_yes_asks_which(world, committed, client, fake_twilio):
    v = helper(world.grid_a1, 100, channel=ContactChannel.SMS, max_concurrent_tasks=3)
    make_task(world, committed)
    make_task(world, committed)
    inbound = text_in(client, committed, v.user.phone, "是")
    assert inbound.outcome == "sms.reply.which"
    codes = list(Offer.objects.values_list("sms_code", flat=True))
    answer = sent_to(fake_twilio, v.user.phone)[-1]
    assert all(code in answer for code in codes) and set(Offer.objects.values_list("status", flat=True)) == {"PENDING"}


def test_an_offer_answered_in_the_app_leaves_a_bare_yes_to_the_other_one(world, committed, client, fake_twilio):
    v = helper(world.grid_a1, 100, channel=ContactChannel.SMS, max_concurrent_tasks=3)
    first = make_task(world, committed)
    second = make_task(world, committed)
    with committed():
        respond_to_offer(Offer.objects.get(task=first), accept=False)  # in the app
    inbound = text_in(client, committed, v.user.phone, "是")
    assert inbound.outcome == "answered"
    assert Offer.objects.get(task=second).status == "ACCEPTED" and Offer.objects.get(task=first).status == "DECLINED"


@pytest.mark.parametrize("reply", ["2", "否", "N"])
def test_no_by_sms_declines(world, committed, client, fake_twilio, reply):
    v = helper(world.grid_a1, 100, channel=ContactChannel.SMS)
    make_task(world, committed)
    text_in(client, committed, v.user.phone, reply)
    assert Offer.objects.get(user=v.user).status == "DECLINED"
    assert sent_to(fake_twilio, v.user.phone)[-1] == "【邻里】好的，已记录。谢谢！"


def test_an_unrecognised_reply_is_explained_and_the_offer_stays_open(world, committed, client, fake_twilio):
    v = helper(world.grid_a1, 100, channel=ContactChannel.SMS)
    make_task(world, committed)
    offer = Offer.objects.get(user=v.user)
    inbound = text_in(client, committed, v.user.phone, "我在开会，晚点")
    assert inbound.outcome == "unrecognised" and Offer.objects.get(pk=offer.pk).status == "PENDING"
    answer = sent_to(fake_twilio, v.user.phone)[-1]
    assert "1（是）或 2（否）" in answer and offer.sms_code in answer
    text_in(client, committed, v.user.phone, "是")  # and a proper answer still works
    assert Offer.objects.get(pk=offer.pk).status == "ACCEPTED"


def test_a_yes_by_sms_after_the_task_filled_up_is_late_and_thanked(world, committed, client, fake_twilio):
    fast = helper(world.grid_a1, 100)
    slow = helper(world.grid_a1, 200, channel=ContactChannel.SMS)
    task = make_task(world, committed)
    with committed():
        respond_to_offer(Offer.objects.get(task=task, user=fast.user), accept=True)
    text_in(client, committed, slow.user.phone, "是")
    assert Offer.objects.get(task=task, user=slow.user).status == "LATE"
    bodies = sent_to(fake_twilio, slow.user.phone)
    assert bodies[-2] == "【邻里】任务“送药上门”已满员，无需再答复。谢谢您！"  # the withdrawal
    assert bodies[-1] == "【邻里】谢谢您！任务“送药上门”已满员，这次不需要您了。"
    assert TaskAssignment.objects.filter(task=task).count() == 1


def test_the_same_inbound_message_delivered_twice_answers_once(world, committed, client, fake_twilio):
    v = helper(world.grid_a1, 100, channel=ContactChannel.SMS)
    make_task(world, committed)
    params = inbound_params(str(v.user.phone), "是", "SM" + "9" * 32)
    for _ in range(2):
        with committed():
            assert signed_post(client, "/sms/inbound/", params).status_code == 200
    assert TaskAssignment.objects.count() == 1 and len(sent_to(fake_twilio, v.user.phone)) == 2  # offer + one confirmation
