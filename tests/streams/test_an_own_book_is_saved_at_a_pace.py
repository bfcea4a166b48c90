"""The own venue's book, which no market prices from (the health samples and the market page only
watch it), is saved at most once per WATCHED_BOOK_SECONDS however often it changes: every order
and cancel on the exchange moves it, and a save 500 levels deep costs the stream process's loop
about 2 ms (bench/own_book.py). The book as it stands after a burst is still saved. A book a market hedges from is saved at every change (the hedge book tests), also when it
is the own venue's too. ccxt.pro against the binance websocket stub, real Redis."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import pytest

from bots.streams import runner, work
from bots.venues import stream_state as state
from tests.support.streams import (
    eventually,
    forget_streamed_book,
    make_on_stub,
    running,
    stub_account,
)

pytestmark = pytest.mark.django_db(transaction=True)

D = Decimal
SYMBOL = "BTC/USDT"
PACE = 1.0  # seconds: long beside the burst below, so that the count cannot depend on timing
CHANGES = 20


@pytest.fixture
def market(demo_market, stubs):
    market = make_on_stub(demo_market, stubs)
    forget_streamed_book(market.mm_account.venue_id, SYMBOL)
    return market


def test_the_own_book_is_only_watched_unless_a_market_hedges_there(market, stubs):
    [own] = [p for p in work.planned() if p.account_id == market.mm_account_id]
    assert (own.deep_books, own.hedge_books) == ({SYMBOL}, set())

    # The market hedging on the same exchange: one stream of the book serves both, unpaced.
    market.hedge_account = stub_account(stubs, "hedging")
    market.save(update_fields=["hedge_account"])
    [both] = [p for p in work.planned() if SYMBOL in p.book_symbols]
    assert (both.deep_books, both.hedge_books) == ({SYMBOL}, {SYMBOL})


async def test_a_burst_of_changes_to_the_own_book_is_saved_at_the_pace_and_as_it_ends(
        market, stubs, monkeypatch):
    monkeypatch.setattr(runner, "WATCHED_BOOK_SECONDS", PACE)
    saved = []  # the bids of each save of the own book
    save_book = state.save_book

    def counted(venue_id, symbol, bids, asks, timestamp, levels=state.BOOK_LEVELS):
        saved.append(bids)
        save_book(venue_id, symbol, bids, asks, timestamp, levels)

    monkeypatch.setattr(state, "save_book", counted)
    venue_id = market.mm_account.venue_id
    async with running(lambda hedge_id: None):
        await eventually(lambda: state.streamed_book(venue_id, SYMBOL, 300), "the own book streamed")
        await asyncio.sleep(PACE)  # the first save's pause is over: the burst starts afresh
        before = len(saved)
        started = time.monotonic()
        for i in range(CHANGES):  # each a depth event on the stub's websocket, below the best bid
            stubs.rest.seed_liquidity("buy", str(64_900 + i), "0.1")
            await asyncio.sleep(0.01)
        burst = time.monotonic() - started
        last = [D(64_900 + CHANGES - 1), D("0.1")]
        await eventually(lambda: last in state.streamed_book(venue_id, SYMBOL, 300)["bids"],
                         "the book as the burst left it")

    # One save as the burst began, then one per pace while it lasted, the last with every change.
    assert len(saved) - before <= 2 + int(burst / PACE), (len(saved) - before, burst)
    assert all((D(64_900 + i), D("0.1")) in saved[-1] for i in range(CHANGES))
