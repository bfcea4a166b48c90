"""The hedging worker that `manage.py up` starts runs without kombu's ack emulation (no Redis
transaction before and after each capture and hedge); so does the ticks worker
(tests/market_making/test_ticks_have_a_worker_of_their_own.py); every other worker keeps it. The setting
reaches kombu's channel from the environment. That a killed worker without it still hedges every
fill once: tests/hedging/test_hedging_survives_a_killed_worker.py."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.conf import settings

from dashboard.management.commands.up import process_commands
from tests.support import processes

CHANNEL = (
    "import django; django.setup(); from ballast.celery import app\n"
    "with app.connection_for_read() as connection: print(connection.default_channel.ack_emulation)"
)


def test_up_starts_only_the_hedging_and_ticks_workers_without_it():
    commands = process_commands("127.0.0.1", 8000, 2)

    hedger = commands["hedger"]
    assert hedger[:2] == ["env", "BALLAST_BROKER_ACK_EMULATION=0"]
    assert hedger[hedger.index("--queues") + 1] == "hedging"
    others = [c for name, c in commands.items() if name not in ("hedger", "ticker")]
    assert not [c for c in others if any("ACK_EMULATION" in part for part in c)]


@pytest.mark.parametrize(("value", "expected"), [(None, "True"), ("0", "False"), ("1", "True")])
def test_the_environment_sets_kombus_channel(value, expected):
    env = processes._env("", settings.REDIS_URL)
    env.pop("BALLAST_BROKER_ACK_EMULATION", None)
    if value is not None:
        env["BALLAST_BROKER_ACK_EMULATION"] = value
    answer = subprocess.run(
        [sys.executable, "-c", CHANNEL], cwd=processes.ROOT, env=env, capture_output=True,
        text=True, timeout=60, check=True,
    )
    assert answer.stdout.strip() == expected
