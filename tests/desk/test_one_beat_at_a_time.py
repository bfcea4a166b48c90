"""Two Celery beats on one Redis (celery-redbeat, ballast/beat.py): one sends the schedule, the
other waits for its lock; the active one killed with SIGKILL, the other takes over once the lock
expires, and the two never send at the same time: every message in the queue was sent by one
beat while it held the lock, the second beat's first after the first beat's last."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

import pytest
import redis

from ballast.embedded_redis import EmbeddedRedis
from bots.platform import beat_heartbeat
from tests.support import processes

pytestmark = [pytest.mark.processes, pytest.mark.xdist_group("drills")]
PATIENCE = 120  # how long a condition may take on a busy machine
TICKS = "Scheduler: Sending due task market-making ticks"
BEAT_ENV = {"BALLAST_BEAT_LOCK_SECONDS": "3", "BALLAST_BEAT_SILENT_SECONDS": "6"}


def wait_for(condition, what: str, timeout: float = PATIENCE) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def sends(log: Path) -> list[datetime]:
    """When the beat writing `log` sent the market-making tick, from its INFO lines."""
    stamps = re.findall(rf"^\[([\d-]+ [\d:,]+): INFO/MainProcess\] {TICKS}", log.read_text(), re.M)
    return [datetime.strptime(s, "%Y-%m-%d %H:%M:%S,%f") for s in stamps]


def acquired(log: Path) -> bool:
    return "beat: Acquired lock" in log.read_text()


def queued_ticks(client: redis.Redis) -> int:
    return sum(
        json.loads(raw)["headers"]["task"] == "bots.tasks.tick_all_markets"
        for raw in client.lrange("celery", 0, -1)
    )


def test_a_standby_beat_takes_over_from_a_killed_one_and_nothing_is_sent_twice(
    test_database_url, artifacts
):
    with ExitStack() as stack:
        folder = processes.short_folder("ballast-beat-", stack)
        server = EmbeddedRedis(folder / "redis.sock").start()
        stack.callback(server.stop)
        client = redis.Redis.from_url(server.url)
        logs = {name: artifacts / f"one-beat-{name}.log" for name in ("first", "second")}

        def beat(name: str):
            command = ["-m", "celery", "-A", "ballast", "beat", "--loglevel", "INFO"]
            return stack.enter_context(
                processes.ballast_process(command, test_database_url, server.url, logs[name], **BEAT_ENV)
            )

        first = beat("first")
        wait_for(lambda: len(sends(logs["first"])) >= 3, "the first beat to send ticks")
        second = beat("second")
        wait_for(lambda: "beat: Starting" in logs["second"].read_text(), "the second beat to start")
        sent_before = len(sends(logs["first"]))
        # Several lock periods pass while the second beat waits: it sends nothing.
        wait_for(lambda: len(sends(logs["first"])) >= sent_before + 8, "the first beat to go on")
        assert not acquired(logs["second"]) and sends(logs["second"]) == []
        assert beat_heartbeat.read(client)[1].endswith(f":{first.pid}")

        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        wait_for(lambda: acquired(logs["second"]), "the second beat to take the lock")
        wait_for(lambda: len(sends(logs["second"])) >= 3, "the second beat to send ticks")
        wait_for(lambda: beat_heartbeat.read(client)[1].endswith(f":{second.pid}"), "its heartbeat")

        assert max(sends(logs["first"])) < min(sends(logs["second"]))
        # Nothing reached the queue but what the one beat holding the lock sent.
        assert queued_ticks(client) == len(sends(logs["first"])) + len(sends(logs["second"]))
        # Configured as redbeat asks: no deprecation warning at a beat's every start.
        assert not [name for name, log in logs.items() if "RedBeat will stop" in log.read_text()]
