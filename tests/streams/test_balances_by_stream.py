"""Balances streamed by the exchange (ccxt.pro's watch_balance against the binance websocket
stub, real Redis): the stream process shares the hedge account's balance, a hedge goes by it
without a REST read, and the balance the hedge's own order moved comes back by the stream."""

from __future__ import annotations

from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async

from bots.hedging import hedger
from bots.models import Hedge
from bots.venues import stream_state as state
from bots.venues import venue_for
from tests.support.hedging_world import one_fill
from tests.support.streams import eventually, hedge_on_stub, running

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal
ACCOUNT = "/api/v3/account"


@pytest.fixture
def market(hedging_market, stubs):
    return hedge_on_stub(hedging_market, stubs)


def streamed_usdt(key: str) -> Decimal | None:
    balance, _ = state.shared_balance(key)
    if balance is None or balance["shared"] != "stream":
        return None
    return balance["free"]["USDT"]


async def test_a_hedge_goes_by_the_streamed_balance_and_the_stream_follows_its_order(market, stubs):
    key = await sync_to_async(lambda: venue_for(market.hedge_account).balance_key)()
    async with running(lambda hedge_id: None):
        await eventually(lambda: streamed_usdt(key) == D("100000"), "the streamed balance")
        reads = stubs.requests(ACCOUNT)  # the stream's snapshot as it opened
        hedge = await sync_to_async(one_fill)(market, "buy", "0.02")

        outcome = await sync_to_async(hedger.execute_hedge)(hedge.pk)

        assert outcome.state == Hedge.FILLED
        assert stubs.requests(ACCOUNT) == reads  # no balance read by REST for the hedge
        # The hedge bought 0.02 BTC: its USDT left the account, and the stream says so.
        left = stubs.rest.balance("USDT")[0]
        assert left < D("100000")
        await eventually(lambda: streamed_usdt(key) == left, "the balance after the hedge")
    assert stubs.requests(ACCOUNT) == reads
