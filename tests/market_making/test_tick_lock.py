"""Two ticks of one market never run at once, across processes (the lock lives in Redis)."""

from __future__ import annotations

import pytest

from bots.market_making.tasks import mm_tick
from bots.models import Order
from bots.platform.locks import market_lock

pytestmark = pytest.mark.django_db


def test_a_tick_skips_while_another_holds_the_market(demo_market):
    with market_lock("tick", demo_market.pk) as held:
        assert held
        with market_lock("tick", demo_market.pk) as second:
            assert not second
        result = mm_tick.apply(args=(demo_market.pk,)).get()
    assert result.startswith("skipped")
    assert not Order.objects.exists()


def test_the_lock_is_free_again_after_a_tick(running_market):
    assert mm_tick.apply(args=(running_market.pk,)).get() == "running"
    with market_lock("tick", running_market.pk) as held:
        assert held


def test_a_lock_left_by_a_dead_worker_expires(demo_market, redis_client):
    with market_lock("tick", demo_market.pk, expire_seconds=0.2) as held:
        assert held
        redis_client.pexpire(f"ballast:tick:{demo_market.pk}", 1)  # the holder vanished
        import time

        time.sleep(0.05)
        with market_lock("tick", demo_market.pk) as again:
            assert again
