"""Two ticks of one market never run at once, whatever fires them: the lock lives in Redis."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connections

from bots.market_making.tasks import mm_tick
from bots.models import Market
from tests.support.quoting import PassThrough, wrap_venue

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_ticks_of_one_market_take_turns_or_skip(running_market, monkeypatch):
    spans: list[tuple[float, float]] = []

    class Slow(PassThrough):
        """The MM venue, slowed so that ticks fired together would overlap without the lock."""

        def fetch_open_orders(self, *args, **kwargs):
            start = time.monotonic()
            time.sleep(0.15)
            result = self.venue.fetch_open_orders(*args, **kwargs)
            spans.append((start, time.monotonic()))
            return result

    wrap_venue(monkeypatch, running_market.mm_account_id, Slow)
    results: list[str] = []
    start = threading.Barrier(4)

    def fire():
        start.wait()
        try:
            for _ in range(3):
                results.append(mm_tick.apply(args=(running_market.pk,)).get())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=fire) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    ran = [r for r in results if r == Market.RUNNING]
    skipped = [r for r in results if r.startswith("skipped")]
    assert len(results) == 12 and len(ran) + len(skipped) == 12
    assert ran and skipped
    spans.sort()
    assert all(earlier[1] <= later[0] for earlier, later in zip(spans, spans[1:], strict=False))
