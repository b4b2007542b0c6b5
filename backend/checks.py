"""System checks for secrets: a key that is published anywhere must not sign anything.

`manage.py check` warns, `manage.py check --deploy` fails (an Error) when SECRET_KEY or the
JWT signing key is one of the keys this repository has published, or one Django marks as
insecure (startproject's "django-insecure-" keys). backend/secret_key.py makes a private
key for servers started without one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

# Keys written in this repository's history: whoever reads it can sign with them.
PUBLISHED_KEYS = frozenset({
    "dev-insecure-linli-key-do-not-use-in-production-0123456789abcdef",  # backend/settings.py, until 2026-12
    "linli-test-suite-only-key-published-in-tests-settings-py-0123456789abcdef",  # tests/settings.py
    "a-long-random-production-secret-key-for-the-check-0123456789-abcdefgh",  # tests/backend/test_settings.py, until 2026-12
})
HINT = ("Unset SECRET_KEY to let the server make a private key (development), or set SECRET_KEY to a new "
        "random value (`python -c 'import secrets; print(secrets.token_urlsafe(50))'`); tokens signed with the "
        "old key stop working.")


def published_signing_keys() -> list[str]:
    """Names of the signing keys in use that are published."""
    jwt_key = (getattr(settings, "GRAPHQL_JWT", {}) or {}).get("JWT_SECRET_KEY", settings.SECRET_KEY)
    keys = {"SECRET_KEY": settings.SECRET_KEY, "GRAPHQL_JWT['JWT_SECRET_KEY']": jwt_key}
    keys.update({f"SECRET_KEY_FALLBACKS[{i}]": key for i, key in enumerate(getattr(settings, "SECRET_KEY_FALLBACKS", []))})
    return [name for name, key in keys.items()
            if isinstance(key, str) and (key in PUBLISHED_KEYS or key.startswith("django-insecure-"))]


def _message(kind: type[Warning] | type[Error], check_id: str) -> list[CheckMessage]:
    return [kind(f"{name} is a published key: anyone can sign access tokens and links with it.", hint=HINT, id=check_id)
            for name in published_signing_keys()]


@register(Tags.security)
def check_published_key(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    return _message(Warning, "linli.W001")


@register(Tags.security, deploy=True)
def check_published_key_deploy(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    return _message(Error, "linli.E001")


@register(Tags.security, deploy=True)
def check_pii_keys_deploy(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """Care notes are encrypted with PII_ENCRYPTION_KEYS (privacy/crypto.py). A key derived from
    SECRET_KEY ties them to it: rotating SECRET_KEY would make them unreadable."""
    if getattr(settings, "PII_ENCRYPTION_KEYS", None):
        return []
    return [Warning("PII_ENCRYPTION_KEYS is not set: personal data is encrypted with a key derived from SECRET_KEY.",
                    hint="Set PII_ENCRYPTION_KEYS to a Fernet key (`python -c 'from cryptography.fernet import Fernet; "
                         "print(Fernet.generate_key().decode())'`), then run `manage.py rotate_pii_keys`.",
                    id="linli.W010")]
