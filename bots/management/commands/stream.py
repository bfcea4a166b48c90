"""The stream process: fills and hedge books pushed by the exchanges (ccxt.pro), for every venue
account the enabled markets use on a real exchange, and the fills a paper venue publishes for its
market-making accounts (bots/streams/runner.py). Each fill is captured at once and hedged here; a
reference that moves queues its market's tick. With no enabled market it idles, saying so once.
`manage.py up` starts it; in production run one per desk beside the workers (without it, paper
fills go through the capture task).

    manage.py stream             # until SIGTERM or Ctrl-C
"""

from __future__ import annotations

import asyncio
import signal

from django.core.management.base import BaseCommand

from bots.hedging.tasks import hedge_now
from bots.platform.gc_pauses import freeze_startup
from bots.streams.runner import StreamProcess


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args, **options):
        # Django's, ccxt's and ccxt.pro's objects out of the collector's full walks: a pause of
        # 80-260 ms in the middle of a book's hand-over otherwise (bots/platform/gc_pauses.py).
        freeze_startup()
        asyncio.run(self.run())

    async def run(self) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await StreamProcess(on_hedge=hedge_now).run(stop)
