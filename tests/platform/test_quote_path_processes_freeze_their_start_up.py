"""A Celery worker and the stream process freeze what they made starting (Django, Celery, ccxt:
some 300,000 objects) out of the garbage collector's full collections, whose walk of it paused
ticks and books 80-260 ms (bots/platform/gc_pauses.py). Each is asked in a process of its own,
as the freeze is for the life of the process."""

from __future__ import annotations

import subprocess
import sys

from django.conf import settings

from tests.support import processes

WORKER_READY = (
    "import gc, django; django.setup(); from celery import signals; from ballast.celery import app\n"
    "before = gc.get_freeze_count(); signals.worker_ready.send(sender=None)\n"
    "print(before, gc.get_freeze_count())"
)
CHILD_STARTED = WORKER_READY.replace("worker_ready", "worker_process_init")
STREAM = (
    "import gc, django; django.setup()\n"
    "from django.core.management import call_command\n"
    "from bots.streams.runner import StreamProcess\n"
    "async def run(self, stop): print(gc.get_freeze_count())\n"
    "StreamProcess.run = run\n"
    "call_command('stream')"
)


def answer(code: str) -> list[int]:
    env = processes._env("", settings.REDIS_URL)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=processes.ROOT, env=env, capture_output=True, text=True,
        timeout=120, check=True,
    )
    return [int(n) for n in done.stdout.split()]


def test_a_worker_freezes_its_start_up_once_ready():
    before, after = answer(WORKER_READY)
    assert before == 0
    assert after > 100_000


def test_a_prefork_child_freezes_its_start_up():
    before, after = answer(CHILD_STARTED)
    assert before == 0
    assert after > 100_000


def test_the_stream_process_freezes_its_start_up_before_streaming():
    [frozen] = answer(STREAM)
    assert frozen > 100_000
