"""The dead man's switch: pull the quotes of every market whose market-making ticks stopped for
longer than BALLAST_DEADMAN_SECONDS (bots.market_making.dead_man). Needs only the database: run it beside the
workers, one per desk, so that it outlives them and Redis. `manage.py up` starts it.

    manage.py deadman            # until SIGTERM or Ctrl-C
    manage.py deadman --once     # one look, then exit (cron, or a check by hand)
"""

from __future__ import annotations

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from bots.market_making import dead_man


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="look once and exit")

    def handle(self, *args, once: bool, **options):
        limit = settings.DEADMAN_SECONDS
        if once:
            for line in dead_man.check():
                self.stdout.write(line)
            return
        stop = threading.Event()
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        self.stdout.write(f"dead man's switch: quotes are pulled after {limit:g} s without a tick")
        # Several looks per period, so that quotes go at most a second or so past the limit.
        dead_man.watch(stop, every=min(1.0, limit / 3))
