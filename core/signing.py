"""Short-lived signed links (a report download, a file a browser fetches without a token).

    token = sign({"u": user.pk, ...}, salt="linli.after-action-report")
    payload = unsign(token, salt=..., max_age=600)   # raises LinkExpired or LinkInvalid

Signed with SECRET_KEY (django.core.signing); each use has its own salt, so a token made
for one purpose is worthless for another.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core import signing


class LinkInvalid(Exception):
    """Not signed by us (or signed for another purpose)."""


class LinkExpired(LinkInvalid):
    """Signed by us, but older than it may be."""


def sign(payload: dict[str, Any], *, salt: str) -> str:
    return signing.dumps(payload, salt=salt, compress=True)


def unsign(token: str, *, salt: str, max_age: float) -> dict[str, Any]:
    try:
        payload = signing.loads(token, salt=salt, max_age=timedelta(seconds=max_age))
    except signing.SignatureExpired as exc:
        raise LinkExpired(str(exc)) from exc
    except signing.BadSignature as exc:
        raise LinkInvalid(str(exc)) from exc
    if not isinstance(payload, dict):
        raise LinkInvalid("unexpected payload")
    return payload
