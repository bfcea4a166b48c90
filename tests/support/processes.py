"""Ballast's real processes (Daphne, a Celery worker) started against the test database."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import quote

import redis
import requests

ROOT = Path(__file__).resolve().parents[2]


def database_url(settings_dict: dict) -> str:
    """The URL of the database the test run created, for processes of their own."""
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(settings_dict['NAME']).resolve()}"
    user = quote(settings_dict.get("USER") or "")
    password = quote(settings_dict.get("PASSWORD") or "")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or "5432"
    return f"postgres://{credentials}{host}:{port}/{settings_dict['NAME']}"


def short_folder(prefix: str, stack: ExitStack) -> Path:
    """A folder under /tmp for a private Redis's socket, removed when `stack` closes (after
    whatever was registered on it later, such as the Redis using it). Not pytest's tmp_path: a
    unix socket's path is limited to about 100 characters."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    stack.callback(shutil.rmtree, folder, True)
    return folder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(db_url: str, redis_url: str) -> dict:
    # Ticks in these processes arm the dead man's switch as long as the test process's do
    # (tests/conftest.py), unless a test says otherwise.
    return {
        "BALLAST_DEADMAN_SECONDS": "600", **os.environ, "DATABASE_URL": db_url, "REDIS_URL": redis_url,
        "PYTHONUNBUFFERED": "1",
    }


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def health_of(base: str) -> tuple[int | None, dict]:
    """/health/ asked through the Daphne at `base`: its status and JSON body, or (None, {}) when
    nothing answers (that Daphne is down)."""
    try:
        response = requests.get(f"{base}/health/", timeout=30)
    except requests.ConnectionError:
        return None, {}
    assert response.headers["Content-Type"] == "application/json", response.headers
    return response.status_code, response.json()


def wait_for(check, what: str, seconds: float):
    """Wait for `check()` to be true and return its value; fail saying `what`. A bound on waiting
    on a busy machine, not a figure tested."""
    deadline = time.monotonic() + seconds
    while not (value := check()):
        assert time.monotonic() < deadline, f"waited {seconds:g} s for {what}"
        time.sleep(0.25)
    return value


def _wait(check, process: subprocess.Popen, what: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        if check():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up within {timeout} s")


def _stop(process: subprocess.Popen):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def celery_worker(db_url: str, redis_url: str, log: Path, queue: str | None = None):
    """A real worker (solo pool) on the real broker; yields once it answers a ping. Without
    `queue` it takes the queues a worker started without -Q takes, as production's main worker."""
    from ballast.celery import app

    app.control.purge()  # nothing left over from another run may reach this worker
    name = f"test-{queue or 'main'}-{os.getpid()}@localhost"
    queues = ["--queues", queue] if queue else []
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "ballast", "worker", "--pool", "solo",
             "--loglevel", "INFO", "--without-mingle", "--without-gossip", "--hostname", name,
             *queues],
            cwd=ROOT, env=_env(db_url, redis_url), stdout=out, stderr=subprocess.STDOUT,
        )
        try:
            _wait(lambda: bool(app.control.ping([name], timeout=0.5)), process, "celery worker")
            yield process
        finally:
            _stop(process)


@contextmanager
def ballast_process(args: list[str], db_url: str, redis_url: str, log: Path, **env: str):
    """One of Ballast's processes (`python ARGS...` from the project's root) on the test
    database, until the block ends; the caller waits for what proves it is up."""
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, env={**_env(db_url, redis_url), **env},
            stdout=out, stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            _stop(process)


@contextmanager
def daphne(db_url: str, redis_url: str, log: Path):
    port = free_port()
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
             "ballast.asgi:application"],
            cwd=ROOT, env=_env(db_url, redis_url), stdout=out, stderr=subprocess.STDOUT,
        )

        try:
            _wait(lambda: listening(port), process, "daphne")
            yield f"http://127.0.0.1:{port}"
        finally:
            _stop(process)


def redis_ok(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url).ping())
    except redis.RedisError:
        return False
