"""Publishing events to channel-layer groups, after commit.

The channel layer is at-most-once by design (a full or unreachable layer drops messages), so a
failed publish is logged and swallowed: the state change that caused it is already committed
and clients resync from queries. Publishing never fails a request.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

# The consumer method that receives group messages (type "linli.event" -> linli_event).
GROUP_MESSAGE_TYPE = "linli.event"


def publish(groups: list[str] | str, event: dict[str, Any]) -> int:
    """Send `event` to each group now. Returns how many groups it was handed to."""
    if isinstance(groups, str):
        groups = [groups]
    layer = get_channel_layer()
    if layer is None:
        return 0
    sent = 0
    for group in groups:
        try:
            async_to_sync(layer.group_send)(group, {"type": GROUP_MESSAGE_TYPE, "group": group, "event": event})
            sent += 1
        except Exception:  # noqa: BLE001 - the layer may be down; pushes are hints
            logger.warning("push to %s dropped (channel layer unavailable)", group, exc_info=True)
    return sent


def publish_on_commit(groups: list[str] | str, event: dict[str, Any]) -> None:
    """Publish once the surrounding transaction commits (immediately outside one)."""
    transaction.on_commit(lambda: publish(groups, event))
