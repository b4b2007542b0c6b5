"""The key that signs access tokens, login-code hashes and links when SECRET_KEY is not set.

No key that is published anywhere may sign anything outside the test suite. A server started
without SECRET_KEY (`make run`, `manage.py serve`, any development footing) makes a random
key on its first run and keeps it in `<state dir>/linli-secret-key`, readable only by its
owner (0600), beside the SQLite database unless LINLI_STATE_DIR says where: tokens survive a
restart, and nobody else has the key. Production (DEBUG=0) sets SECRET_KEY, the same on
every host. backend/checks.py flags a key that is published (this repository's old
development key, the test suite's).
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

KEY_FILE_NAME = "linli-secret-key"
MIN_LENGTH = 50


def local_secret_key(state_dir: Path) -> str:
    """The key kept in `state_dir`, made on the first call (by whichever process of the
    server gets there first: the file appears whole, or not at all)."""
    path = state_dir / KEY_FILE_NAME
    if path.exists():
        return _read(path)
    state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    draft = state_dir / f".{KEY_FILE_NAME}.{os.getpid()}.{secrets.token_hex(4)}"
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(draft, path)  # atomic, and refuses to replace a key another process made
        except FileExistsError:
            pass
    finally:
        draft.unlink(missing_ok=True)
    return _read(path)


def _read(path: Path) -> str:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ImproperlyConfigured(f"{path} is readable by others: `chmod 600 {path}`, or set SECRET_KEY.")
    key = path.read_text().strip()
    if len(key) < MIN_LENGTH:
        raise ImproperlyConfigured(f"{path} holds no usable key: remove it (a new one is made) or set SECRET_KEY.")
    return key
