"""The watchdog process (`manage.py watchdog`) beside a real worker and two beats on a private
Redis: every beat killed with SIGKILL raises "beat silent" (and not "worker silent": the watchdog
queues the workers' heartbeat itself), resolved once a beat ticks again; the worker killed raises
"worker silent" while beat goes on."""

from __future__ import annotations

import os
import signal
import time
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from ballast.embedded_redis import EmbeddedRedis
from bots.models import Alert, Heartbeat
from tests.support import processes

pytestmark = [
    pytest.mark.processes, pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("drills"),
]
PATIENCE = 180  # how long a condition may take on a busy machine (the worker limit is 30 s)
ENV = {
    "BALLAST_BEAT_LOCK_SECONDS": "3",
    "BALLAST_BEAT_SILENT_SECONDS": "6",
    "BALLAST_WORKER_SILENT_SECONDS": "30",
}


def wait_for(condition, what: str, timeout: float = PATIENCE) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class Desk:
    """A private Redis and named processes on the test database; their logs `logs`-name.log."""

    def __init__(self, db_url: str, logs: Path, stack: ExitStack):
        folder = processes.short_folder("ballast-wd-", stack)
        self.redis = EmbeddedRedis(folder / "redis.sock").start()
        stack.callback(self.redis.stop)
        self.db_url, self.logs, self.stack = db_url, logs, stack
        self.processes: dict = {}

    def start(self, *names: str) -> None:
        commands = {
            "worker": ["-m", "celery", "-A", "ballast", "worker", "--pool", "solo", "--loglevel", "INFO",
                       "--without-mingle", "--without-gossip", "--hostname", f"wd-{os.getpid()}@localhost"],
            "beat": ["-m", "celery", "-A", "ballast", "beat", "--loglevel", "INFO"],
            "beat-2": ["-m", "celery", "-A", "ballast", "beat", "--loglevel", "INFO"],
            "watchdog": ["manage.py", "watchdog"],
        }
        for name in names:
            self.processes[name] = self.stack.enter_context(processes.ballast_process(
                commands[name], self.db_url, self.redis.url, Path(f"{self.logs}-{name}.log"), **ENV
            ))

    def kill(self, *names: str) -> None:
        for name in names:
            os.kill(self.processes[name].pid, signal.SIGKILL)
            self.processes[name].wait(10)


@contextmanager
def desk(db_url: str, logs: Path, *names: str):
    with ExitStack() as stack:
        run = Desk(db_url, logs, stack)
        run.start(*names)
        yield run


def open_alert(kind: str) -> Alert | None:
    return Alert.objects.filter(kind=kind).exclude(state=Alert.RESOLVED).first()


def worker_heartbeat_fresh() -> bool:
    row = Heartbeat.objects.filter(name="worker").first()
    return row is not None and timezone.now() - row.beat_at < timedelta(seconds=30)


def test_every_beat_killed_raises_beat_silent_and_a_new_beat_resolves_it(test_database_url, artifacts):
    with desk(test_database_url, artifacts / "watchdog-beats", "worker", "beat", "beat-2", "watchdog") as run:
        wait_for(worker_heartbeat_fresh, "the workers' heartbeat")

        run.kill("beat", "beat-2")

        wait_for(lambda: open_alert(Alert.BEAT_SILENT) is not None, '"beat silent"')
        assert "No Celery beat has ticked for" in open_alert(Alert.BEAT_SILENT).message
        # (a worker slow to start on a busy machine may have had one, resolved since)
        assert worker_heartbeat_fresh() and open_alert(Alert.WORKER_SILENT) is None

        run.start("beat")
        wait_for(lambda: open_alert(Alert.BEAT_SILENT) is None, '"beat silent" resolved')


def test_the_worker_killed_raises_worker_silent_while_beat_goes_on(test_database_url, artifacts):
    with desk(test_database_url, artifacts / "watchdog-worker", "worker", "beat", "watchdog") as run:
        wait_for(worker_heartbeat_fresh, "the workers' heartbeat")

        run.kill("worker")

        wait_for(lambda: open_alert(Alert.WORKER_SILENT) is not None, '"worker silent"')
        assert open_alert(Alert.BEAT_SILENT) is None
