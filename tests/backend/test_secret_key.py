"""No published key signs anything outside the test suite: a server started without
SECRET_KEY makes a private one, the Procfile runs production settings, and the system check
flags a published key."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured

from backend.checks import PUBLISHED_KEYS
from backend.secret_key import KEY_FILE_NAME, local_secret_key

ROOT = Path(__file__).resolve().parents[2]
OLD_DEVELOPMENT_KEY = "dev-insecure-linli-key-do-not-use-in-production-0123456789abcdef"


def test_a_key_is_made_once_readable_only_by_its_owner_and_kept(tmp_path):
    key = local_secret_key(tmp_path / "state")
    path = tmp_path / "state" / KEY_FILE_NAME
    assert len(key) >= 50 and key not in PUBLISHED_KEYS
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert local_secret_key(tmp_path / "state") == key  # tokens survive a restart
    assert local_secret_key(tmp_path / "other") != key
    assert [p.name for p in (tmp_path / "state").iterdir()] == [KEY_FILE_NAME]  # no drafts left behind


def test_a_key_file_others_can_read_is_refused(tmp_path):
    local_secret_key(tmp_path)
    (tmp_path / KEY_FILE_NAME).chmod(0o644)
    with pytest.raises(ImproperlyConfigured, match="chmod 600"):
        local_secret_key(tmp_path)


def test_many_processes_starting_at_once_agree_on_one_key(tmp_path):
    code = f"import sys; sys.path.insert(0, {str(ROOT)!r}); from backend.secret_key import local_secret_key; from pathlib import Path; print(local_secret_key(Path({str(tmp_path)!r})))"
    processes = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) for _ in range(6)]
    keys = {p.communicate(timeout=60)[0].strip() for p in processes}
    assert len(keys) == 1 and len(keys.pop()) >= 50


def development_server_settings(tmp_path, **env) -> dict:
    """What `make run` / `manage.py serve` would sign with: backend.settings, no SECRET_KEY."""
    script = ("import json, django, jwt; django.setup(); from django.conf import settings;"
              "from graphql_jwt.exceptions import JSONWebTokenError; from graphql_jwt.utils import get_payload;"
              f"forged = jwt.encode({{'username': 'admin', 'exp': 9999999999}}, {OLD_DEVELOPMENT_KEY!r}, algorithm='HS256');"
              "\ntry:\n    get_payload(forged); accepted = True\nexcept JSONWebTokenError:\n    accepted = False\n"
              "print(json.dumps({'key': settings.SECRET_KEY, 'jwt': settings.GRAPHQL_JWT['JWT_SECRET_KEY'], 'forged_accepted': accepted}))")
    full_env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "ALLOWED_HOSTS")}
    full_env.update(DJANGO_SETTINGS_MODULE="backend.settings", LINLI_STATE_DIR=str(tmp_path), **env)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_development_server_signs_with_its_own_key_and_refuses_a_forged_admin_token(tmp_path):
    first = development_server_settings(tmp_path)
    assert first["key"] == (tmp_path / KEY_FILE_NAME).read_text().strip()
    assert first["jwt"] == first["key"]  # the JWT signing key follows
    assert first["key"] not in PUBLISHED_KEYS and not first["forged_accepted"]
    assert development_server_settings(tmp_path, DEBUG="1", ALLOWED_HOSTS="192.168.1.5")["key"] == first["key"]


def test_the_procfile_runs_production_settings():
    lines = [line for line in (ROOT / "Procfile").read_text().splitlines() if line.strip()]
    assert lines
    for line in lines:
        name, command = line.split(":", 1)
        assert command.split()[0:2] in (["export", "DEBUG=0"], ["DEBUG=0", ".venv/bin/celery"]) or command.split()[0] == "DEBUG=0", line


@pytest.mark.parametrize("setting", ["SECRET_KEY", "JWT"])
def test_the_system_check_flags_a_published_key_warning_and_error_with_deploy(settings, setting):
    if setting == "SECRET_KEY":
        settings.SECRET_KEY = OLD_DEVELOPMENT_KEY
    settings.GRAPHQL_JWT = {**settings.GRAPHQL_JWT, "JWT_SECRET_KEY": OLD_DEVELOPMENT_KEY}
    ids = {m.id for m in run_checks(tags=["security"])}
    assert "linli.W001" in ids and "linli.E001" not in ids
    assert "linli.E001" in {m.id for m in run_checks(tags=["security"], include_deployment_checks=True)}


def test_the_test_suites_own_key_is_flagged_too(settings):
    # tests/settings.py publishes it: good for tests, for nothing else.
    assert settings.SECRET_KEY in PUBLISHED_KEYS
    assert "linli.W001" in {m.id for m in run_checks(tags=["security"])}
    settings.SECRET_KEY = settings.GRAPHQL_JWT["JWT_SECRET_KEY"] = "k" * 10 + os.urandom(24).hex()
    settings.GRAPHQL_JWT = {**settings.GRAPHQL_JWT, "JWT_SECRET_KEY": settings.SECRET_KEY}
    assert {m.id for m in run_checks(tags=["security"], include_deployment_checks=True)} & {"linli.W001", "linli.E001"} == set()
