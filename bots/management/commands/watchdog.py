"""The watchdog: raises "worker silent" when no worker runs the heartbeat task and "beat silent"
when no Celery beat ticks (bots.desk.watchdog). A process of its own, so that it lives on when
either dies; one per desk is enough (a second only repeats its alerts). `manage.py up` starts it.

    manage.py watchdog          # until SIGTERM or Ctrl-C
"""

from __future__ import annotations

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from bots.desk import watchdog
from bots.desk.tasks import heartbeat


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args, **options):
        stop = threading.Event()
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        self.stdout.write(
            f"watchdog: workers silent after {settings.WORKER_SILENT_SECONDS:g} s, "
            f"beat silent after {settings.BEAT_SILENT_SECONDS:g} s"
        )
        watchdog.watch(stop, heartbeat.delay, every=min(5.0, settings.HEARTBEAT_SECONDS))
