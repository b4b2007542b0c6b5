"""/healthz: 200 when the database, channel layer and broker answer; 503 naming what failed."""

import pytest

pytestmark = pytest.mark.django_db

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def test_healthy_when_everything_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "channel_layer": "ok", "broker": "ok"}}


def test_503_naming_the_channel_layer_and_broker_when_redis_is_down(client, settings):
    from channels.layers import channel_layers

    from backend.celery import app

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [DEAD_REDIS]}}}
    channel_layers.backends.clear()
    original = app.conf.broker_url
    app.conf.broker_url = DEAD_REDIS
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = original
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"] == {"database": "ok", "channel_layer": "fail", "broker": "fail"}


def test_503_when_the_database_fails(client, monkeypatch):
    from django.db import OperationalError

    from backend import health

    def refuse():
        raise OperationalError("connection refused")

    monkeypatch.setattr(health.connection, "cursor", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "fail"


def test_livez_answers_without_touching_any_dependency(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/livez")
    assert response.status_code == 200 and response.content == b"ok"


def test_healthz_only_answers_get(client):
    assert client.post("/healthz").status_code == 405


def test_admin_is_served_with_its_static_files(client):
    assert client.get("/admin/login/").status_code == 200
    response = client.get("/static/admin/css/base.css")
    assert response.status_code == 200
    assert b"".join(response.streaming_content if response.streaming else [response.content])
