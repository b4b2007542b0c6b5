"""Redis restarted mid-run: requests keep answering (pushes degrade), pushes resume after."""

import shutil
import socket
import subprocess
import time

import pytest
from graphql_relay import to_global_id

from community.models import ModeSwitch
from notifications import events
from tests.backend.test_websocket import group_size
from tests.graphql import token_for
from tests.operations import operation
from tests.wsclient import GraphQLWSClient

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

SUBSCRIPTION = operation("community/OnAreaModeChanged")
SWITCH = operation("community/SwitchAreaMode")


class PrivateRedis:
    """A redis-server of the test's own on a free port, to stop and start at will."""

    def __init__(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        subprocess.run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", str(self.port),
                        "--save", "", "--appendonly", "no"], check=True, capture_output=True)
        for _ in range(100):
            if subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True).stdout.strip() == b"PONG":
                return
            time.sleep(0.05)
        raise RuntimeError("redis did not start")

    def stop(self):
        subprocess.run(["redis-cli", "-p", str(self.port), "shutdown", "nosave"], capture_output=True)
        time.sleep(0.2)


@pytest.fixture
def private_redis(settings):
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed")
    from channels.layers import channel_layers

    redis = PrivateRedis()
    redis.start()
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "backend.channel_layer.ResilientRedisChannelLayer", "CONFIG": {
        "hosts": [{"address": redis.url, "socket_connect_timeout": 1, "socket_timeout": 10}]}}}
    settings.WS_GROUP_REFRESH_SECONDS = 1.0
    channel_layers.backends.clear()
    yield redis
    redis.stop()
    channel_layers.backends.clear()


def switch(gql, world, mode, key):
    return gql(SWITCH, {"areaId": to_global_id("Area", world.com_a.pk), "mode": mode, "key": key}, user=world.admin_a)


def test_requests_keep_answering_while_redis_is_down_and_pushes_resume_after(world, gql, live_server_asgi, private_redis):
    with GraphQLWSClient(live_server_asgi.ws_url, token_for(world.worker_a1)) as ws:
        ws.subscribe("s1", SUBSCRIPTION, {"areaId": to_global_id("Area", world.grid_a1.pk)})
        ws.wait_until_subscribed(lambda: group_size(events.area_group(world.com_a.pk)) > 0)

        private_redis.stop()
        started = time.monotonic()
        status, body = switch(gql, world, "STANDBY", "during-outage")
        assert status == 200 and body["data"]["switchAreaMode"]["errors"] == []
        assert time.monotonic() - started < 10  # degraded, not hung
        assert ModeSwitch.objects.filter(to_mode="STANDBY").exists()  # nothing written is lost

        private_redis.start()
        # The socket either survived or the client reconnects; either way it is not deaf.
        ws.wait_until_subscribed(lambda: group_size(events.area_group(world.com_a.pk)) > 0, timeout=10)
        status, body = switch(gql, world, "EMERGENCY", "after-outage")
        assert status == 200
        event = ws.receive_for("s1", timeout=10)["payload"]["data"]["areaModeChanged"]
    assert event["mode"] == "EMERGENCY"
