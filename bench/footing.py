"""The production footing for benchmarks: a scratch PostgreSQL database, an ASGI server with
several worker processes, Celery workers, percentiles."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def require_services() -> tuple[str, str]:
    database_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not database_url.startswith("postgres") or not redis_url:
        sys.exit("Set DATABASE_URL (PostgreSQL) and REDIS_URL: this benchmark measures the production footing.")
    return database_url, redis_url


def _psql(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def scratch_database(url: str, suffix: str) -> tuple[str, str]:
    """(admin URL, scratch URL): drop and create <name>_<suffix> on the same server."""
    import psycopg

    parsed = urlparse(url)
    name = f"{parsed.path.lstrip('/') or 'linli'}_{suffix}"
    admin = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(_psql(admin), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin, urlunparse(parsed._replace(path=f"/{name}"))


def drop_database(admin: str, scratch: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    name = urlparse(scratch).path.lstrip("/")
    with psycopg.connect(_psql(admin), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def raise_open_files(n: int) -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, n)), hard))


def start_asgi_server(port: int, workers: int, env: dict) -> subprocess.Popen:
    command = [sys.executable, "-m", "uvicorn", "backend.asgi:application", "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(workers), "--ws", "websockets-sansio", "--lifespan", "off", "--log-level", "warning",
               "--no-access-log", "--backlog", "4096", "--timeout-graceful-shutdown", "5",
               # as `manage.py serve` does: the setting, off by default
               "--ws-per-message-deflate", "true" if env.get("WS_PER_MESSAGE_DEFLATE", "").lower() in ("1", "true", "yes", "on") else "false"]
    # Its own process group: stop() ends the supervisor AND its worker processes.
    server = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/livez", timeout=2)
            return server
        except Exception:  # noqa: BLE001 - not up yet
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise RuntimeError("server did not start")
            time.sleep(0.3)


def start_celery_worker(env: dict, concurrency: int = 4) -> subprocess.Popen:
    schedule = Path(tempfile.gettempdir()) / f"linli-bench-beat-{os.getpid()}"
    command = [sys.executable, "-m", "celery", "-A", "backend", "worker", "-B", "--schedule", str(schedule), "--pool", "threads",
               "--concurrency", str(concurrency), "--loglevel", "WARNING", "--without-mingle", "--without-gossip"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen | None) -> None:
    """Terminate a process and, when it leads its own process group (the ASGI server: a
    supervisor and its workers), every process of that group; kill what is left after 15 s."""
    if process is None:
        return
    group = _own_group(process)
    if process.poll() is None:
        process.terminate()
    if group is not None:
        _signal_group(group, signal.SIGTERM)
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)
    if group is not None:
        deadline = time.monotonic() + 10
        while _group_alive(group) and time.monotonic() < deadline:
            time.sleep(0.2)
        _signal_group(group, signal.SIGKILL)


def _own_group(process: subprocess.Popen) -> int | None:
    try:
        return process.pid if os.getpgid(process.pid) == process.pid else None
    except ProcessLookupError:
        return process.pid  # already gone; its workers may not be


def _signal_group(group: int, sig: signal.Signals) -> None:
    try:
        os.killpg(group, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False
