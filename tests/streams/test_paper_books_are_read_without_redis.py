"""A paper venue's book is read from the venue at once: no stream keeps one (the stream process
plans ccxt venues only), so a hedge or a tick on paper makes no Redis round trip looking for a
streamed copy, and a copy left under a paper venue's id is never taken for its book. A ccxt
venue's streamed book is still looked for first (tests/streams/test_hedge_books_by_stream.py)."""

from __future__ import annotations

import random
from decimal import Decimal as D

import pytest

from bots.hedging import hedger
from bots.venues import stream_state as state
from bots.venues import venue_for
from tests.support.hedging_world import user_fills

pytestmark = pytest.mark.django_db


@pytest.fixture
def looked(monkeypatch):
    asked = []
    real = state.streamed_book
    monkeypatch.setattr(state, "streamed_book", lambda *args: asked.append(args) or real(*args))
    return asked


def test_a_paper_book_is_the_venues_not_a_copy_in_redis(hedging_market, looked):
    venue = venue_for(hedging_market.hedge_account)
    venue_id = hedging_market.hedge_account.venue_id
    # What no stream writes for a paper venue: were it looked for, it would be taken.
    state.save_book(venue_id, "BTC/USDT", [(D("1"), D("1"))], [(D("2"), D("1"))], state.now_ms())

    book = state.read_book(venue, venue_id, "BTC/USDT", 5)

    assert book["bids"] == venue.fetch_order_book("BTC/USDT", limit=5)["bids"]
    assert book["bids"][0][0] > D("2")
    assert looked == []


def test_a_hedge_on_paper_does_not_look_for_a_streamed_book(hedging_market, looked):
    hedge = user_fills(hedging_market, random.Random(3), count=1, small_share=0)[0]

    hedger.execute_hedge(hedge.pk)

    hedge.refresh_from_db()
    assert hedge.state == hedge.FILLED
    assert looked == []
