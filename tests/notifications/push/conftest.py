"""Push transport tests: a clean locmem outbox and no cached transports between tests."""

from __future__ import annotations

import pytest

from notifications.push.base import PushMessage

IOS_TOKEN = "a1" * 32
IOS_TOKEN_2 = "b2" * 32


def push(push_id: int = 1, token: str = IOS_TOKEN, platform: str = "ios", **fields) -> PushMessage:
    defaults = {"title": "安全确认", "body": "台风来临，请报平安", "data": {"checkId": "Q2hlY2s6MQ==", "kind": "SAFETY_CHECK"}}
    return PushMessage(push_id=push_id, token=token, platform=platform, **{**defaults, **fields})


@pytest.fixture(autouse=True)
def _push_isolation(push_isolation):
    """Every test here sends pushes: the shared isolation (tests/conftest.py)."""
