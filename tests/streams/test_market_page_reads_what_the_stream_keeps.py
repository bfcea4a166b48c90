"""The market page's snapshot (pushed up to five times a second while a page is open) reads the own
venue's book and the MM account's open orders from what the stream process keeps (ccxt.pro
against the binance websocket stub, real Redis), and asks the venue by REST when nothing is
streamed, or when the streamed book is older than the stale limit and its stream is not live."""

from __future__ import annotations

from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from bots.simulation.stub_exchanges.exchange import BOT
from bots.venues import stream_state as state
from dashboard.live.publisher import market_snapshot
from tests.support.streams import (
    eventually,
    forget_streamed_book,
    forget_streamed_orders,
    make_on_stub,
    running,
)

pytestmark = pytest.mark.django_db(transaction=True)

D = Decimal
SYMBOL = "BTC/USDT"
READS = ("/api/v3/depth", "/api/v3/openOrders")


@pytest.fixture
def market(demo_market, stubs):
    market = make_on_stub(demo_market, stubs)  # one ask of 0.01 at 65,000 rests there
    forget_streamed_orders(market.mm_account_id, SYMBOL)
    forget_streamed_book(market.mm_account.venue_id, SYMBOL)
    return market


def reads(stubs) -> tuple[int, int]:
    return tuple(stubs.requests(path) for path in READS)


def streamed_orders(market) -> dict[str, Decimal] | None:
    orders = state.streamed_open_orders(market.mm_account_id, SYMBOL)
    return None if orders is None else {str(o["id"]): o["remaining"] for o in orders}


def on_the_stub(stubs) -> dict[str, Decimal]:
    return {str(o.id): o.remaining for o in stubs.rest.book.open_orders(BOT)}


def streamed_book(market) -> dict | None:
    return state.streamed_book(market.mm_account.venue_id, SYMBOL, 300)


async def test_with_the_stream_live_the_snapshot_asks_the_venue_nothing(market, stubs, settings):
    # Raised so that a slow machine's wait between the book's last change and the snapshot
    # cannot make the test depend on the live mark (the limit has its test below).
    settings.STREAM_BOOK_STALE_SECONDS = 300
    async with running(lambda hedge_id: None):
        await eventually(lambda: streamed_orders(market) == on_the_stub(stubs) != {}, "the open orders streamed")
        stubs.rest.take("buy", "0.002")  # a user takes part of the bot's ask: the book changes
        await eventually(lambda: streamed_orders(market) == on_the_stub(stubs)
                         and D("0.008") in streamed_orders(market).values(), "the partial fill streamed")
        await eventually(lambda: (book := streamed_book(market)) and book["asks"][0][1] == D("0.008"),
                         "the book's change streamed")
        before = reads(stubs)

        snapshot = await sync_to_async(market_snapshot)(market)

        assert reads(stubs) == before  # neither the book nor the open orders were asked for
        assert snapshot["read_from"] == {"book": "stream", "quotes": "stream"}
        assert snapshot["quotes"] == [{"side": "sell", "price": D("65000"), "amount": D("0.008")}]
        # The book shown is the venue's: the bot's ask, then the stub's liquidity, as REST has it.
        assert snapshot["book"]["asks"][:2] == [[D("65000"), D("0.008")], [D("65010"), D("0.5")]]
        assert snapshot["book"]["bids"][0] == [D("64990"), D("0.5")]
    await sync_to_async(connections.close_all)()


def test_with_no_stream_the_snapshot_reads_by_rest(market, stubs):
    before = reads(stubs)

    snapshot = market_snapshot(market)

    assert reads(stubs) == (before[0] + 1, before[1] + 1)
    assert snapshot["read_from"] == {"book": "rest", "quotes": "rest"}
    assert snapshot["quotes"] == [{"side": "sell", "price": D("65000"), "amount": D("0.01")}]
    assert snapshot["book"]["asks"][0] == [D("65000"), D("0.01")]


@pytest.mark.parametrize("live", [False, True])
def test_a_streamed_book_older_than_the_stale_limit_is_shown_only_while_its_stream_is_live(
        market, stubs, settings, live):
    # As for a health sample: a book older than the stale limit by the venue's time is a quiet
    # book while its stream is live (the exchange sends nothing for a book that does not
    # change), and a stale one when nothing keeps it: then the venue is asked.
    venue_id = market.mm_account.venue_id
    state.save_book(venue_id, SYMBOL, [(D("63990"), D("1"))], [(D("64010"), D("1"))],
                    state.now_ms() - int(settings.STREAM_BOOK_STALE_SECONDS * 1000) - 60_000,
                    state.DEEP_BOOK_LEVELS)
    if live:
        state.mark_book_streamed(venue_id, SYMBOL)
    before = reads(stubs)

    snapshot = market_snapshot(market)

    if live:
        assert (reads(stubs)[0], snapshot["read_from"]["book"]) == (before[0], "stream")
        assert snapshot["book"]["asks"] == [[D("64010"), D("1")]]
    else:
        assert (reads(stubs)[0], snapshot["read_from"]["book"]) == (before[0] + 1, "rest")
        assert snapshot["book"]["asks"][0] == [D("65000"), D("0.01")]  # the venue's, not the old one
