"""Push notifications: a history row per notification (read/unread, paginated), published to
the user's group after commit and delivered by the myNotifications subscription."""

import threading

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from graphql_relay import to_global_id

from notifications import events
from notifications.models import Notification
from notifications.services import notify, notify_many, notify_template
from notifications.templates import register_template
from tests.graphql import token_for
from tests.operations import operation
from tests.wsclient import GraphQLWSClient, group_size

HISTORY = operation("notifications/NotificationHistory")
MARK_READ = operation("notifications/MarkNotificationsRead")
SUBSCRIPTION = operation("notifications/OnMyNotification")

register_template("test.push", zh="{place}需要帮助", en="Help needed at {place}")
register_template("test.push.title", zh="新任务", en="New task")


@pytest.fixture
def published(monkeypatch):
    sent = []
    monkeypatch.setattr("notifications.services.publish", lambda group, event: sent.append((group, event)))
    monkeypatch.setattr("notifications.services.publish_many", lambda pairs: sent.extend(pairs))  # a fan-out's
    return sent


@pytest.mark.django_db
def test_notify_records_history_and_publishes_after_commit(world, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        n = notify(world.resident, kind="offer", title="新任务", body="送药", data={"offerId": "T2ZmZXI6MQ=="},
                   related=world.grid_a1, is_drill=True)
        assert published == []
    assert published == [(events.user_group(world.resident.pk), {
        "type": "notification.created", "notificationId": n.pk, "kind": "offer", "isDrill": True,
        "createdAt": n.created_at.isoformat()})]
    assert n.related == world.grid_a1 and n.read_at is None


@pytest.mark.django_db
def test_a_rolled_back_notification_is_never_pushed(world, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            notify(world.resident, kind="offer", title="t", body="b")
            raise RuntimeError
    assert published == [] and not Notification.objects.exists()


@pytest.mark.django_db
def test_notify_template_renders_in_the_users_language(world):
    world.other_resident.preferred_language = "en"
    zh = notify_template(world.resident, "test.push", {"place": "甲一网格"}, kind="offer")
    en = notify_template(world.other_resident, "test.push", {"place": "Grid A1"}, kind="offer", is_drill=True)
    assert (zh.title, zh.body) == ("新任务", "甲一网格需要帮助")
    assert (en.title, en.body) == ("[DRILL] New task", "Help needed at Grid A1")


@pytest.mark.django_db
def test_notify_many_fans_out_in_one_insert_and_one_push_each(world, published, django_capture_on_commit_callbacks):
    users = [world.resident, world.other_resident, world.worker_a1]
    with django_capture_on_commit_callbacks(execute=True):
        with CaptureQueriesContext(connection) as queries:
            count = notify_many(users, kind="safety_check", template="test.push", context={"place": "甲社区"})
    assert count == 3 and Notification.objects.filter(kind="safety_check").count() == 3
    assert len([q for q in queries.captured_queries if q["sql"].startswith("INSERT")]) == 1
    assert sorted(g for g, _ in published) == sorted(events.user_group(u.pk) for u in users)


@pytest.mark.django_db
def test_history_is_paginated_newest_first_with_the_unread_count(world, gql):
    for i in range(5):
        notify(world.resident, kind="offer", title=f"t{i}", body="b")
    notify(world.other_resident, kind="offer", title="not yours", body="b")
    data = gql.data(HISTORY, {"first": 2}, user=world.resident)["notifications"]
    assert data["totalCount"] == 5 and data["unreadCount"] == 5 and data["pageInfo"]["hasNextPage"]
    assert [e["node"]["title"] for e in data["edges"]] == ["t4", "t3"]
    rest = gql.data(HISTORY, {"first": 10, "after": data["pageInfo"]["endCursor"]}, user=world.resident)["notifications"]
    assert [e["node"]["title"] for e in rest["edges"]] == ["t2", "t1", "t0"]


@pytest.mark.django_db
def test_history_costs_the_same_queries_for_2_or_50_notifications(world, gql):
    def queries_for(n):
        Notification.objects.all().delete()
        for i in range(n):
            notify(world.resident, kind="offer", title=f"t{i}", body="b", data={"i": i})
        with CaptureQueriesContext(connection) as ctx:
            gql.data(HISTORY, {"first": 50}, user=world.resident)
        return len(ctx.captured_queries)

    assert queries_for(2) == queries_for(50) <= 5


@pytest.mark.django_db
def test_mark_some_read_then_all(world, gql):
    ids = [to_global_id("Notification", notify(world.resident, kind="k", title="t", body="b").pk) for _ in range(3)]
    result = gql.data(MARK_READ, {"ids": ids[:2]}, user=world.resident)["markNotificationsRead"]
    assert result == {"updatedCount": 2, "unreadCount": 1, "errors": []}
    unread = gql.data(HISTORY, {"unreadOnly": True}, user=world.resident)["notifications"]
    assert [e["node"]["id"] for e in unread["edges"]] == [ids[2]] and unread["edges"][0]["node"]["isRead"] is False
    result = gql.data(MARK_READ, {"all": True}, user=world.resident)["markNotificationsRead"]
    assert result == {"updatedCount": 1, "unreadCount": 0, "errors": []}


@pytest.mark.django_db
def test_another_residents_notification_cannot_be_marked_or_read(world, gql):
    theirs = notify(world.other_resident, kind="k", title="secret", body="b")
    their_id = to_global_id("Notification", theirs.pk)
    result = gql.data(MARK_READ, {"ids": [their_id]}, user=world.resident)["markNotificationsRead"]
    assert result["errors"][0]["code"] == "NOT_FOUND" and result["updatedCount"] is None
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    node = gql.data("query($id: ID!) { node(id: $id) { id } }", {"id": their_id}, user=world.resident)
    assert node == {"node": None}


@pytest.mark.django_db
@pytest.mark.parametrize("variables", [{}, {"ids": [], "all": False}, {"ids": ["bogus"]}, {"ids": ["x"], "all": True}])
def test_bad_mark_read_input_is_a_typed_error(world, gql, variables):
    notify(world.resident, kind="k", title="t", body="b")
    result = gql.data(MARK_READ, variables, user=world.resident)["markNotificationsRead"]
    assert result["errors"][0]["code"] in ("INVALID", "NOT_FOUND")
    assert Notification.objects.filter(read_at__isnull=True).count() == 1


@pytest.mark.django_db
def test_history_needs_a_login(gql):
    status, body = gql(HISTORY)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


# --- over a real WebSocket ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_my_notifications_arrive_over_a_real_websocket_from_another_thread(world, live_server_asgi):
    with GraphQLWSClient(live_server_asgi.ws_url, token_for(world.resident)) as ws:
        ws.subscribe("n1", SUBSCRIPTION)
        ws.wait_until_subscribed(lambda: group_size(events.user_group(world.resident.pk)) > 0)

        def worker():
            try:
                with transaction.atomic():
                    notify(world.other_resident, kind="offer", title="not for you", body="x")
                    notify(world.resident, kind="offer", title="新任务", body="送药", data={"offerId": "abc"}, is_drill=True)
            finally:
                connection.close()

        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        message = ws.receive_for("n1", timeout=10)
    assert message["type"] == "next"
    node = message["payload"]["data"]["myNotifications"]
    assert node["title"] == "新任务" and node["data"] == {"offerId": "abc"} and node["isDrill"] is True
    assert node["isRead"] is False


@pytest.mark.django_db(transaction=True)
def test_my_notifications_needs_a_logged_in_socket(world, live_server_asgi):
    with GraphQLWSClient(live_server_asgi.ws_url, init=False) as ws:
        ws.send({"type": "connection_init", "payload": {}})
        assert ws.close_code() == 4442


def test_publish_many_hands_every_event_to_its_group_in_one_call(settings):
    """A fan-out's pushes go in one trip into the event loop, in batches; each reaches its group."""
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from notifications.realtime import PUBLISH_CONCURRENCY, publish_many

    layer = get_channel_layer()
    count = PUBLISH_CONCURRENCY * 2 + 5
    channels = [async_to_sync(layer.new_channel)() for _ in range(count)]
    for i, channel in enumerate(channels):
        async_to_sync(layer.group_add)(events.user_group(i), channel)
    sent = publish_many([(events.user_group(i), {"type": "notification.created", "n": i}) for i in range(count)])
    assert sent == count
    received = [async_to_sync(layer.receive)(channel) for channel in channels]
    assert [m["event"]["n"] for m in received] == list(range(count))
    assert {m["group"] for m in received} == {events.user_group(i) for i in range(count)}


def test_a_commit_publishes_from_the_background_thread_without_waiting_for_the_layer(settings, monkeypatch):
    """REALTIME_PUBLISH_IN_BACKGROUND (the production default): the request that committed
    returns while the publish is still under way; the publishing thread keeps the order."""
    import threading

    from notifications import realtime

    settings.REALTIME_PUBLISH_IN_BACKGROUND = True
    release, sent = threading.Event(), []

    def slow_publish(groups, event):
        release.wait(5)
        sent.append((groups, event["n"], threading.current_thread().name))

    monkeypatch.setattr(realtime, "publish", slow_publish)
    realtime.publish_soon("area.1", {"n": 1})
    realtime.publish_soon("area.1", {"n": 2})
    assert sent == []  # the caller did not wait for the layer
    release.set()
    realtime.wait_for_background_publishes()
    assert [(g, n) for g, n, _ in sent] == [("area.1", 1), ("area.1", 2)]
    assert all(name.startswith("linli-publish") for _, _, name in sent)
