"""The stream process: fills and hedge books pushed by the exchanges (ccxt.pro), for every venue
account the enabled markets use on a real exchange (bots/streams/runner.py). Each fill is
captured at once and hedged here; a reference that moves queues its market's tick. With only
paper venues it has nothing to watch and idles, saying so once. `manage.py up` starts it; in
production run one per desk beside the workers.

    manage.py stream             # until SIGTERM or Ctrl-C
"""

from __future__ import annotations

import asyncio
import signal

from django.core.management.base import BaseCommand

from bots.hedging.tasks import hedge_now
from bots.streams.runner import StreamProcess


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args, **options):
        asyncio.run(self.run())

    async def run(self) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await StreamProcess(on_hedge=hedge_now).run(stop)
