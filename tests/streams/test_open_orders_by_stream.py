"""The MM account's open orders kept by the stream process (ccxt.pro against the binance websocket
stub, real Redis): read by REST once as the order stream opens, then kept from the order updates
the exchange pushes; a tick reads them there instead of asking the venue each second, and asks
by REST again once the stream is gone."""

from __future__ import annotations

from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from bots.market_making import quoter
from bots.simulation.stub_exchanges.exchange import BOT
from bots.venues import stream_state as state
from bots.venues import venue_for
from tests.support.hollaex_world import HollaExStubs, make_on_hollaex_streams
from tests.support.streams import eventually, make_on_stub, running

pytestmark = pytest.mark.django_db(transaction=True)

OPEN_ORDERS = "/api/v3/openOrders"
D = Decimal


@pytest.fixture
def market(demo_market, stubs, redis_client):
    market = make_on_stub(demo_market, stubs)  # one ask of 0.01 at 65,000 rests there
    redis_client.delete(f"ballast:throttle:open-orders-check:{market.pk}")
    return market


def streamed(market) -> dict[str, Decimal] | None:
    """The streamed open orders' remaining amounts by id, or None while none are streamed."""
    orders = state.streamed_open_orders(market.mm_account_id, "BTC/USDT")
    return None if orders is None else {str(o["id"]): o["remaining"] for o in orders}


def on_the_stub(stubs) -> dict[str, Decimal]:
    return {str(o.id): o.remaining for o in stubs.rest.book.open_orders(BOT)}


def tick(market) -> str:
    return quoter.run_tick(market.pk, on_hedge=lambda hedge_id: None)


async def test_the_stream_keeps_the_open_orders_and_ticks_read_them_there(market, stubs):
    async with running(lambda hedge_id: None):
        await eventually(lambda: streamed(market) == on_the_stub(stubs), "the open orders streamed")
        [resting] = streamed_now = await sync_to_async(streamed)(market)
        assert streamed_now[resting] == D("0.01")
        stubs.rest.take("buy", "0.002")  # a user takes part of the bot's ask
        await eventually(lambda: streamed(market) == {resting: D("0.008")}, "the partial fill")
        # The tick's first read goes to the venue (the check every OPEN_ORDERS_CHECK_SECONDS).
        await sync_to_async(tick)(market)
        asked = stubs.requests(OPEN_ORDERS)

        for _ in range(2):
            await eventually(lambda: streamed(market) == on_the_stub(stubs), "the tick's orders streamed")
            assert await sync_to_async(tick)(market) == "running"

        assert stubs.requests(OPEN_ORDERS) == asked  # neither tick asked the venue
        assert len(on_the_stub(stubs)) > 1  # the ticks did quote

    # The stream stopped: its mark is gone, and the next tick asks the venue again.
    assert await sync_to_async(streamed)(market) is None
    await sync_to_async(tick)(market)
    await sync_to_async(connections.close_all)()  # the ORM thread's, or the database stays in use
    assert stubs.requests(OPEN_ORDERS) == asked + 1


@pytest.fixture
def hollaex_stubs():
    stubs = HollaExStubs()
    yield stubs
    stubs.stop()


async def test_on_hollaex_the_fill_streams_order_updates_keep_the_open_orders(hedging_market, hollaex_stubs):
    # HollaEx has no trade stream: the fill stream watches orders, and hands each update on.
    stubs = hollaex_stubs
    market = await sync_to_async(make_on_hollaex_streams)(hedging_market, stubs)
    async with running(lambda hedge_id: None):
        await eventually(lambda: streamed(market) == on_the_stub(stubs) != {}, "the open orders streamed")
        stubs.rest.take("buy", "0.002")
        await eventually(lambda: D("0.008") in streamed(market).values(), "the partial fill")
        await sync_to_async(venue_for(market.mm_account).create_order)("BTC/USDT", "limit", "sell", D("0.01"),
                                                                       D("65005"))
        await eventually(lambda: streamed(market) == on_the_stub(stubs) and len(on_the_stub(stubs)) == 2,
                         "the new order streamed")
        read = stubs.requests("/v2/orders")
        stubs.ws.drop("user")  # the fill stream reconnects: the open orders are read afresh
        await eventually(lambda: stubs.requests("/v2/orders") > read, "the open orders read again")
        await eventually(lambda: streamed(market) == on_the_stub(stubs), "the open orders streamed again")
    await sync_to_async(connections.close_all)()
