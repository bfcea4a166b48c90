"""The lag gauge's marks (the venue's time of each stream's last message) are kept by the stream
process and written at most once per SEEN_SECONDS, every stream's in one round trip, however
many messages arrive: a round trip for each message was a tenth of the process's CPU while a
tick replaced its quotes. The last message of a burst is still the one written. ccxt.pro against
the binance websocket stub, real Redis."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import pytest

from bots.streams import runner
from bots.venues import stream_state as state
from tests.support.streams import eventually, forget_streamed_book, hedge_on_stub, running

pytestmark = pytest.mark.django_db(transaction=True)

SYMBOL = "BTC/USDT"
PACE = 1.0  # seconds: long beside the burst below, so that the count cannot depend on timing
CHANGES = 20


@pytest.fixture
def market(demo_market, stubs, redis_client):
    market = hedge_on_stub(demo_market, stubs)
    forget_streamed_book(market.hedge_account.venue_id, SYMBOL)
    redis_client.delete(state.SEEN_KEY)
    return market


async def test_a_burst_of_book_changes_writes_its_lag_mark_at_the_pace(market, stubs, monkeypatch):
    monkeypatch.setattr(runner, "SEEN_SECONDS", PACE)
    written = []  # each write: the marks it carried
    saw = state.saw

    def counted(marks):
        written.append(dict(marks))
        saw(marks)

    monkeypatch.setattr(state, "saw", counted)
    venue_id = market.hedge_account.venue_id
    field = state.seen_key("book", 0, venue_id, SYMBOL)
    async with running(lambda hedge_id: None):
        await eventually(lambda: state.streamed_book(venue_id, SYMBOL, 60), "the hedge book streamed")
        await eventually(lambda: field in state.last_seen(), "the book's first lag mark")
        await asyncio.sleep(PACE)  # a write after the first messages: the burst starts afresh
        before = len(written)
        started = time.monotonic()
        for i in range(CHANGES):  # each a depth event on the stub's websocket, saved at once
            stubs.rest.seed_liquidity("buy", str(64_900 + i), "0.1")
            await asyncio.sleep(0.01)
        last = [Decimal(64_900 + CHANGES - 1), Decimal("0.1")]
        stamp = await eventually(
            lambda: (b := state.streamed_book(venue_id, SYMBOL, 60)) and last in b["bids"] and b["timestamp"],
            "the book as the burst left it",
        )
        await eventually(lambda: state.last_seen().get(field) == stamp, "the burst's last message as its mark")
        elapsed = time.monotonic() - started

    during = written[before:]
    # A write per pace while the burst and the wait lasted, and one as they began (each with
    # every stream's marks), not one per message.
    assert len(during) <= 2 + int(elapsed / PACE), (len(during), elapsed)
    assert len(during) < CHANGES / 4
