"""Hedge books streamed by the exchange (ccxt.pro against the binance websocket stub, real Redis):
a gap in the book's sequence makes a fresh snapshot, a stale streamed book is not used, and a
reference that moves beyond the refresh tolerance queues the market's tick at once."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import ccxt
import ccxt.pro
import pytest
from asgiref.sync import sync_to_async

from bots.market_making import quoter
from bots.models import Market
from bots.platform import events
from bots.streams.runner import forget_failed
from bots.venues import stream_state as state
from tests.support.streams import Stubs, eventually, hedge_on_stub, running

D = Decimal
DEPTH = "/api/v3/depth"


@pytest.fixture
def stubs():
    stubs = Stubs()
    yield stubs
    stubs.stop()


@pytest.fixture
def market(demo_market, stubs, redis_client):
    market = hedge_on_stub(demo_market, stubs)
    redis_client.delete(f"ballast:stream:book:{market.hedge_account.venue_id}:BTC/USDT")
    return market


def book(market):
    return state.streamed_book(market.hedge_account.venue_id, "BTC/USDT", 60)


@pytest.mark.django_db(transaction=True)
async def test_a_gap_in_the_sequence_makes_a_fresh_snapshot(market, stubs):
    async with running(lambda hedge_id: None):
        await eventually(lambda: book(market), "the streamed book")
        snapshots = stubs.requests(DEPTH)
        stubs.ws.gap_next("depth")
        stubs.rest.seed_liquidity("buy", "64995", "0.1")  # its update is the one lost
        stubs.rest.seed_liquidity("buy", "64996", "0.2")
        streamed = await eventually(
            lambda: (b := book(market)) and b["bids"][0] == [D("64996"), D("0.2")] and b, "the new bids"
        )

    assert stubs.requests(DEPTH) == snapshots + 1
    # The lost update is in the book all the same: it came with the fresh snapshot.
    assert streamed["bids"][:2] == [[D("64996"), D("0.2")], [D("64995"), D("0.1")]]


async def test_a_gap_found_while_nobody_watched_fails_one_watch_not_every_one(stubs):
    # ccxt.pro's own binance class against the stub: the gap is found while no watch is waiting,
    # as when the stream process is busy saving the book before.
    client = ccxt.pro.binance({**stubs.ws.ccxt_config(), "enableRateLimit": False})
    try:
        await client.watch_order_book("BTC/USDT")
        stubs.ws.gap_next("depth")
        stubs.rest.seed_liquidity("buy", "64995", "0.1")
        stubs.rest.seed_liquidity("buy", "64996", "0.2")
        await eventually(lambda: "BTC/USDT" not in client.orderbooks, "the gap found")
        with pytest.raises(ccxt.ChecksumError):
            await client.watch_order_book("BTC/USDT")  # the error stored for nobody, once

        forget_failed(client)

        # The next watch waits for the book rebuilt from a fresh snapshot instead of failing
        # again at once (which, in the stream's loop, never stopped until that book came).
        book = await asyncio.wait_for(client.watch_order_book("BTC/USDT"), 10)
        assert book["bids"][:2] == [[64996.0, 0.2], [64995.0, 0.1]]
    finally:
        await client.close()


@pytest.mark.django_db
@pytest.mark.parametrize("age_seconds", [0, 60])
def test_a_tick_uses_a_streamed_book_only_while_it_is_fresh(market, stubs, age_seconds):
    venue_id = market.hedge_account.venue_id
    # A streamed book unlike the stub's (mid 64,000 instead of 65,000), of the given age.
    state.save_book(venue_id, "BTC/USDT", [(D("63990"), D("1"))], [(D("64010"), D("1"))],
                    state.now_ms() - age_seconds * 1000)
    before = stubs.requests(DEPTH)

    quoter.run_tick(market.pk, on_hedge=lambda hedge_id: None)

    reference = D(Market.objects.get(pk=market.pk).quote_summary["reference"])
    if age_seconds:
        assert (reference, stubs.requests(DEPTH)) == (D("65000"), before + 1)  # asked by REST
    else:
        assert (reference, stubs.requests(DEPTH)) == (D("64000"), before)


@pytest.mark.django_db(transaction=True)
async def test_a_reference_move_beyond_the_tolerance_queues_the_tick_at_once(market, stubs):
    moved = []
    events.reference_moved.disconnect(dispatch_uid="tick on a move")  # no Celery in this test
    events.reference_moved.connect(lambda sender, market_id, **kw: moved.append(market_id), weak=False,
                                   dispatch_uid="test move")
    await sync_to_async(Market.objects.filter(pk=market.pk).update)(reference_price=D("65000"))
    try:
        async with running(lambda hedge_id: None):
            await eventually(lambda: book(market), "the streamed book")
            stubs.rest.seed_liquidity("buy", "64999", "0.1")  # mid 65,004.5: 0.7 bps, within 3
            await eventually(lambda: book(market)["bids"][0][0] == D("64999"), "the small move")
            assert moved == []
            stubs.rest.take("buy", "1.5")  # every ask goes: no mid, nothing to compare
            stubs.rest.seed_liquidity("sell", "65100", "1")  # mid 65,049.5: 7.6 bps
            await eventually(lambda: moved, "the tick queued")
    finally:
        events.reference_moved.disconnect(dispatch_uid="test move")
        from bots.market_making.tasks import tick_now  # the listener the app wires, put back

        events.reference_moved.connect(tick_now, dispatch_uid="tick on a move")
    assert moved == [market.pk]
