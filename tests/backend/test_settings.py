"""Settings come from the environment; production-like settings pass `check --deploy` cleanly."""

import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),  # a key written here would be published (backend/checks.py)
    "ALLOWED_HOSTS": "linli.example.cn",
    "CSRF_TRUSTED_ORIGINS": "https://linli.example.cn",
    "PII_ENCRYPTION_KEYS": Fernet.generate_key().decode(),  # privacy/crypto.py; made here, like the secret key
}


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS")}
    full_env.update(env)
    full_env["DJANGO_SETTINGS_MODULE"] = env.get("DJANGO_SETTINGS_MODULE", "backend.settings")  # not the test suite's
    full_env.setdefault("LINLI_STATE_DIR", tempfile.mkdtemp(prefix="linli-state-"))  # a key made here stays out of the tree
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_in_production_like_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNINGS" not in result.stderr


def test_check_deploy_warns_when_personal_data_keys_are_derived_from_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "PII_ENCRYPTION_KEYS"}
    result = manage("check", "--deploy", env=env)
    assert "linli.W010" in result.stderr


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS"])
def test_production_refuses_to_start_without_secret_or_hosts(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_public_hosts_with_debug_left_unset_refuse_to_start():
    # Otherwise the development key (in this repository) would sign production tokens.
    result = manage("check", env={"ALLOWED_HOSTS": "linli.example.cn"})
    assert result.returncode != 0 and "DEBUG" in result.stderr
    assert manage("check", env={"ALLOWED_HOSTS": "192.168.1.5", "DEBUG": "1"}).returncode == 0  # on purpose: allowed


def test_time_and_language_defaults():
    from django.conf import settings

    assert settings.TIME_ZONE == "Asia/Shanghai" and settings.USE_TZ
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert ("en", "English") in settings.LANGUAGES


@pytest.mark.django_db
def test_models_and_migrations_agree():
    """Every model change has its migration (migrating from empty is what builds the test DB)."""
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out)
    except SystemExit as exc:
        pytest.fail(f"missing migrations:\n{out.getvalue()}" if exc.code else "")


def test_production_responses_carry_security_headers():
    script = (
        "import json, django; django.setup();"
        "from django.test import Client; from django.test.utils import setup_test_environment;"
        "setup_test_environment();"
        "r = Client(HTTP_HOST='linli.example.cn').post('/graphql/', data='{}', content_type='application/json', secure=True);"
        "insecure = Client(HTTP_HOST='linli.example.cn').get('/graphql/');"
        "print(json.dumps({'headers': dict(r.headers), 'insecure_status': insecure.status_code, 'location': insecure.headers.get('Location', '')}))"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS")}
    env.update(PRODUCTION_ENV, DJANGO_SETTINGS_MODULE="backend.settings")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    import json

    out = json.loads(result.stdout.strip().splitlines()[-1])
    headers = {k.lower(): v for k, v in out["headers"].items()}
    assert headers["strict-transport-security"].startswith("max-age=31536000")
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["cross-origin-opener-policy"] == "same-origin"
    assert out["insecure_status"] == 301 and out["location"].startswith("https://")
