"""The watchdog: raises "worker silent" and "beat silent" from a process of its own (`manage.py
watchdog`, started by `manage.py up`), since neither can be said by the thing gone silent.

Each round it queues the workers' heartbeat task itself, so that the workers' heartbeat does not
hang on beat scheduling it (beat dead would otherwise read as workers dead too), then checks both
heartbeats once its grace period is over: right after start-up the heartbeats may be old from the
last run, and processes started together need a moment to write them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import close_old_connections

from bots.desk.health import check_beat, check_workers

log = logging.getLogger(__name__)


def watch(
    stop: threading.Event,
    queue_heartbeat: Callable[[], object],
    every: float = 5.0,
    worker_grace: float | None = None,
    beat_grace: float | None = None,
) -> None:
    """Until `stop` is set: queue the workers' heartbeat, then check the workers and beat, each
    after its grace period (by default its silence limit)."""
    started = time.monotonic()
    worker_grace = settings.WORKER_SILENT_SECONDS if worker_grace is None else worker_grace
    beat_grace = settings.BEAT_SILENT_SECONDS if beat_grace is None else beat_grace
    checks = (
        ("queue the workers' heartbeat", 0.0, queue_heartbeat),
        ("check the workers", worker_grace, lambda: check_workers(send_now=True, missing_is_silent=True)),
        ("check beat", beat_grace, lambda: check_beat(send_now=True, missing_is_silent=True)),
    )
    while True:
        for what, grace, check in checks:
            if time.monotonic() - started < grace:
                continue
            try:
                check()
            except Exception:  # Redis or the database down a moment must not end the watch
                log.exception("the watchdog could not %s", what)
            finally:
                close_old_connections()
        if stop.wait(every):
            return
