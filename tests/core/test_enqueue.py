"""core.enqueue: background work is started after commit, by task or by registered name, and
a broker outage never fails the request (the sweeps re-drive)."""

import subprocess
import sys

import pytest
from celery.app.task import Task as CeleryTask
from kombu.exceptions import OperationalError as BrokerDown

from core.enqueue import enqueue_later, enqueue_now, enqueue_on_commit

pytestmark = pytest.mark.django_db


def test_a_task_named_by_a_process_that_never_imported_it_is_found():
    """A web process names volunteers.tasks.run_dispatch without importing the module."""
    code = ("import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'backend.settings'; django.setup();"
            "import sys; assert 'volunteers.tasks' not in sys.modules;"
            "from core.enqueue import _task; print(_task('volunteers.tasks.run_dispatch').name)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "volunteers.tasks.run_dispatch"


def test_a_broker_outage_is_logged_and_answered_false(monkeypatch, caplog):
    def refuse(*args, **kwargs):
        raise BrokerDown("Connection refused")

    monkeypatch.setattr(CeleryTask, "apply_async", refuse)
    assert enqueue_now("volunteers.tasks.sweep_dispatch") is False
    assert enqueue_later("volunteers.tasks.sweep_dispatch", countdown=5) is False
    assert "periodic sweep will re-drive" in caplog.text


def test_work_is_sent_only_when_the_transaction_commits(monkeypatch, django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr(CeleryTask, "apply_async", lambda self, args=(), **kw: sent.append((self.name, args)))
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit("volunteers.tasks.run_dispatch", 7)
        assert sent == []
    assert sent == [("volunteers.tasks.run_dispatch", (7,))]
