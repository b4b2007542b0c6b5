"""Real Celery worker processes for fault tests: started on the test database and a broker of
their own, SIGKILLed mid-work, restarted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
BROKER_DB = 9  # a Redis database of the fault tests' own, flushed before use


def broker_url() -> str:
    base = settings.REDIS_URL.rsplit("/", 1)[0]
    return f"{base}/{BROKER_DB}"


def flush_broker() -> None:
    import redis

    redis.Redis.from_url(broker_url()).flushdb()


def database_url() -> str:
    """The test database the test process is using, as a URL for the worker."""
    db = connection.settings_dict
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


class Worker:
    """`celery -A backend worker` in its own process (threads pool: SIGKILL kills everything)."""

    def __init__(self, env: dict[str, str], name: str):
        self.env = env
        self.name = name
        self.process: subprocess.Popen | None = None
        self.log = Path(f"/tmp/linli-fault-{name}-{os.getpid()}.log")

    def start(self) -> Worker:
        env = {**os.environ, **self.env}
        command = [sys.executable, "-m", "celery", "-A", "backend", "worker", "--pool", "threads",
                   "--concurrency", "4", "--hostname", f"{self.name}@faults", "--without-mingle",
                   "--without-gossip", "--loglevel", "INFO"]
        with self.log.open("w") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while "ready." not in self.log.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker {self.name} did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.1)
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown, no acknowledgement, no cleanup — a dead machine."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def send_task(task, *args) -> None:
    """Enqueue on the workers' broker (not the test process's own)."""
    from backend.celery import app

    with app.connection_for_write(broker_url()) as conn:
        task.apply_async(args=args, connection=conn)


def wait_for(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
