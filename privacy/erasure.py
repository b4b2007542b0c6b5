"""The right to deletion (PIPL art. 47): what each app erases when a person is erased.

community.rights.erase_person closes the account and anonymises the resident record; before it
blanks the person's phone numbers it calls erase_registered(user), so that apps holding data
found by the person's account or numbers erase theirs in the same transaction:

    register_eraser("notifications", erase_reach)   # eraser(user) -> {what: rows touched}

An eraser must be idempotent (an erasure may be answered again after a failure) and must
leave what reports count (statuses, outcomes), as retention does; this module imports no app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Eraser = Callable[[Any], dict[str, int]]

_erasers: dict[str, Eraser] = {}


def register_eraser(name: str, eraser: Eraser) -> None:
    _erasers[name] = eraser


def erasers() -> dict[str, Eraser]:
    return dict(_erasers)


def erase_registered(user: Any) -> dict[str, int]:
    """Run every registered eraser for `user` (in the caller's transaction);
    {"app.what": rows touched}."""
    done: dict[str, int] = {}
    for name, eraser in sorted(_erasers.items()):
        for what, count in eraser(user).items():
            done[f"{name}.{what}"] = count
    return done
