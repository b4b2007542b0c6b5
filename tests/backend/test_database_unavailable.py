"""The database unavailable briefly: a clear, retryable error and nothing half-written."""

import pytest
from django.conf import settings
from django.db import OperationalError, connection, connections
from graphql_relay import to_global_id

from community.models import Area, ModeSwitch
from tests.graphql import token_for
from tests.operations import operation

ME = "{ me { username } }"


def assert_retryable_503(status: int, body: dict) -> None:
    assert status == 503
    error = body["errors"][0]
    assert error["extensions"] == {"code": "SERVICE_UNAVAILABLE", "retryable": True}
    assert "retry" in error["message"].lower()


def drop_connections() -> None:
    """Close the connection and, when pooled, the pool, so the next query connects afresh."""
    connection.close()
    if hasattr(connection, "close_pool"):
        connection.close_pool()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_unreachable_gives_503_with_retry_after(world, gql, monkeypatch):
    token = token_for(world.worker_a1)
    drop_connections()
    monkeypatch.setitem(connection.settings_dict, "PORT", "1")  # nothing listens there
    if "pool" in connection.settings_dict.get("OPTIONS", {}):
        monkeypatch.setitem(connection.settings_dict["OPTIONS"], "pool", {**connection.settings_dict["OPTIONS"]["pool"], "timeout": 1.0})
    status, body = gql(ME, headers={"HTTP_AUTHORIZATION": f"Bearer {token}"})
    drop_connections()
    monkeypatch.undo()
    assert_retryable_503(status, body)
    status, body = gql(ME, headers={"HTTP_AUTHORIZATION": f"Bearer {token}"})
    assert status == 200 and body["data"]["me"]["username"] == "worker_a1"


@pytest.mark.django_db
def test_connection_refused_before_any_resolver_is_503(world, gql, monkeypatch):
    token = token_for(world.worker_a1)

    def refuse(*args, **kwargs):
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr(type(connections["default"]), "cursor", refuse)
    status, body = gql(ME, headers={"HTTP_AUTHORIZATION": f"Bearer {token}"})
    monkeypatch.undo()
    assert_retryable_503(status, body)


@pytest.mark.django_db
def test_database_lost_in_the_middle_of_a_mutation_leaves_nothing_half_written(world, gql, monkeypatch):
    from django.db.models import QuerySet

    original_update = QuerySet.update

    def lose_connection(self, **kwargs):
        if self.model is Area:
            raise OperationalError("server closed the connection unexpectedly")
        return original_update(self, **kwargs)

    monkeypatch.setattr(QuerySet, "update", lose_connection)
    status, body = gql(
        operation("community/SwitchAreaMode"),
        {"areaId": to_global_id("Area", world.com_a.pk), "mode": "EMERGENCY", "key": "k1"},
        user=world.admin_a,
    )
    assert_retryable_503(status, body)
    assert not ModeSwitch.objects.exists()  # the switch row written before the failure was rolled back
    assert Area.objects.get(pk=world.com_a.pk).mode == "NORMAL"
    monkeypatch.undo()
    # The client retries with the same key and it works, once.
    data = gql.data(
        operation("community/SwitchAreaMode"),
        {"areaId": to_global_id("Area", world.com_a.pk), "mode": "EMERGENCY", "key": "k1"},
        user=world.admin_a,
    )
    assert data["switchAreaMode"]["errors"] == []
    assert ModeSwitch.objects.count() == 1


@pytest.mark.django_db
def test_other_views_also_answer_503_not_500(client, world, monkeypatch):
    client.force_login(world.admin_a)

    def refuse(*args, **kwargs):
        raise OperationalError("the database system is starting up")

    monkeypatch.setattr(type(connections["default"]), "cursor", refuse)
    response = client.get("/admin/")
    monkeypatch.undo()
    assert response.status_code == 503
    assert response["Retry-After"] == "5"


def test_settings_fail_fast_when_redis_is_down():
    """Redis clients time out in seconds, so a dead Redis degrades pushes instead of hanging."""
    if settings.REDIS_URL:
        host = settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]
        assert host["socket_connect_timeout"] <= 2
    assert settings.CELERY_BROKER_CONNECTION_TIMEOUT <= 2
