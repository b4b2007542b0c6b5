"""Encryption at rest for the most sensitive columns (PIPL art. 51: encryption), with key
rotation (cryptography's MultiFernet).

    care_notes = EncryptedTextField(blank=True)     # stored as a Fernet token, read as text

Keys: settings.PII_ENCRYPTION_KEYS, newest first (Fernet keys, urlsafe base64 of 32 bytes).
Every key decrypts; the first encrypts. To rotate: put a new key first, keep the old ones,
run `manage.py rotate_pii_keys` (re-encrypts every registered column with the first key),
then drop the old keys. Without the setting one key is derived from SECRET_KEY (development;
backend/checks.py warns in production). A value that is not a token (a row from before the
column was encrypted) reads as it is and is encrypted the next time it is written.

The database, its backups and replicas then hold no care notes in the clear; the application
decrypts for those the API lets see them (community.privacy) and logs the read (the access log).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.signals import setting_changed
from django.db import models

TOKEN_PREFIX = "gAAAAA"  # every Fernet token (version byte 0x80, then the timestamp) starts so
_columns: list[tuple[type[models.Model], str]] = []


def derived_key() -> str:
    digest = hashlib.sha256(f"linli-pii-encryption:{settings.SECRET_KEY}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def configured_keys() -> list[str]:
    return [str(k) for k in getattr(settings, "PII_ENCRYPTION_KEYS", []) if k] or [derived_key()]


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in configured_keys()])


def _forget(**kwargs: Any) -> None:
    if kwargs.get("setting") in ("PII_ENCRYPTION_KEYS", "SECRET_KEY"):
        _fernet.cache_clear()


setting_changed.connect(_forget)


def encrypt(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode()


def decrypt(value: str) -> str:
    """The text of a token; a value that is not one (written before encryption) as it is."""
    if not value.startswith(TOKEN_PREFIX):
        return value
    try:
        return _fernet().decrypt(value.encode()).decode()
    except InvalidToken as exc:
        # A token none of our keys opens: a key was dropped before rotating. Fail loudly
        # rather than show or overwrite the ciphertext.
        raise InvalidToken("PII column holds a token no configured key opens (rotate before dropping a key)") from exc


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """A TextField stored encrypted. Not for columns that are filtered, ordered or searched
    in SQL (the database sees only tokens)."""

    def contribute_to_class(self, cls: type[models.Model], name: str, private_only: bool = False) -> None:
        super().contribute_to_class(cls, name, private_only)
        if not cls._meta.abstract and cls.__module__ != "__fake__" and (cls, name) not in _columns:
            _columns.append((cls, name))

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        return value if not value else decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if not value:
            return value
        return encrypt(str(value))


def blind_index(value: str) -> str:
    """A keyed hash (HMAC-SHA256) of `value`, for finding an encrypted value by equality.
    Keyed with PII_HASH_KEY (else derived from SECRET_KEY): without the key the hash of a
    phone number cannot be tried out. Changing the key means recomputing every index."""
    key = getattr(settings, "PII_HASH_KEY", "") or f"linli-pii-index:{settings.SECRET_KEY}"
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()


class BlindIndexField(models.CharField):  # type: ignore[type-arg]
    """The keyed hash of another (encrypted) field of the row, set on every save and bulk
    insert; "" when the source is empty. Filter with `blind_index(value)`."""

    def __init__(self, *args: Any, source: str = "", **kwargs: Any) -> None:
        self.source = source
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("db_index", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = getattr(model_instance, self.source, None)
        digest = blind_index(str(value)) if value else ""
        setattr(model_instance, self.attname, digest)
        return digest


def encrypted_columns() -> Iterator[tuple[type[models.Model], str]]:
    yield from _columns


def rotate(batch: int = 500) -> dict[str, int]:
    """Re-encrypt every registered column with the first key; {"app.Model.field": rows}."""
    done: dict[str, int] = {}
    for model, name in encrypted_columns():
        count = 0
        rows = model._default_manager.exclude(**{name: ""}).exclude(**{f"{name}__isnull": True})
        for pk, text in rows.values_list("pk", name).iterator(chunk_size=batch):
            model._default_manager.filter(pk=pk).update(**{name: text})  # decrypted on read, encrypted anew
            count += 1
        done[f"{model._meta.label}.{name}"] = count
    return done
