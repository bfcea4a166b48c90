"""Hedge books streamed by the exchange (ccxt.pro against the binance websocket stub, real Redis):
a gap in the book's sequence makes a fresh snapshot, a change that arrives while the stream is
busy is saved without waiting for the next one, a stale streamed book is not used, and a
reference that moves beyond the refresh tolerance queues the market's tick at once."""

from __future__ import annotations

import asyncio
import threading
from decimal import Decimal

import ccxt
import ccxt.pro
import pytest
from asgiref.sync import sync_to_async

from bots.market_making import quoter
from bots.models import Market
from bots.platform import events
from bots.streams import runner, work
from bots.streams.runner import forget_failed
from bots.venues import stream_state as state
from tests.support.streams import eventually, forget_streamed_book, hedge_on_stub, running

D = Decimal
DEPTH = "/api/v3/depth"


@pytest.fixture
def market(demo_market, stubs):
    market = hedge_on_stub(demo_market, stubs)
    forget_streamed_book(market.hedge_account.venue_id)
    return market


def book(market):
    return state.streamed_book(market.hedge_account.venue_id, "BTC/USDT", 60)


async def until(check, what: str, seconds: float = 40.0) -> None:
    """Wait in the event loop for `check()` (no database) to be true; fail saying `what`."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not check():
        assert asyncio.get_running_loop().time() < deadline, f"waited {seconds:g} s for {what}"
        await asyncio.sleep(0.02)


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


@pytest.mark.django_db(transaction=True)
async def test_a_change_that_arrives_while_the_stream_is_busy_is_saved_at_once(market, stubs, monkeypatch):
    # The stream reads the markets after saving a book (book_moved); on a loaded machine that
    # read is slow, and a depth message arriving meanwhile resolves a watch nobody awaits.
    busy, go_on = threading.Event(), threading.Event()
    read_markets = work.market_watches

    def slow_market_watches(venue_ids):
        if stubs.rest.book.depth("buy")[0][0] == D("64991"):  # the first change's book: hold it
            busy.set()
            assert go_on.wait(30), "the test never let the read finish"
        return read_markets(venue_ids)

    monkeypatch.setattr(work, "market_watches", slow_market_watches)
    monkeypatch.setattr(runner, "WATCHES_SECONDS", 0.0)  # the markets read after every book
    try:
        async with running(lambda hedge_id: None):
            await eventually(lambda: book(market), "the streamed book")
            stubs.rest.seed_liquidity("buy", "64991", "0.1")
            # Waited for here in the loop: the ORM's thread, where `eventually` checks, is the one
            # held busy.
            await until(busy.is_set, "the stream busy after the first change")
            stubs.rest.seed_liquidity("buy", "64999", "0.2")  # arrives while it is busy
            await until(lambda: any(m.get("b") == [["64999.00000000", "0.20000000"]]
                                    for kind, m in list(stubs.ws.sent) if kind == "depth"),
                        "the second change sent")
            await asyncio.sleep(0.2)  # for ccxt to read it (not asserted: the outcome is)
            go_on.set()
            # No message comes after this one: the stream must save it from ccxt's book.
            streamed = await eventually(
                lambda: (b := book(market)) and b["bids"][0] == [D("64999"), D("0.2")] and b, "the second change"
            )
    finally:
        go_on.set()

    assert streamed["bids"][:2] == [[D("64999"), D("0.2")], [D("64991"), D("0.1")]]


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
    # Its stream live: a quiet book the health samples would take, a tick prices from by its age.
    state.mark_book_streamed(venue_id, "BTC/USDT")
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
