"""A HollaEx account's balance by stream (ccxt.pro's hollaex class against the HollaEx websocket
stub's wallet topic, real Redis): the stream process shares the account's balance, read by REST
once as the stream opens, and the balance a trade moved comes back by the stream alone."""

from __future__ import annotations

from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async

from bots.venues import stream_state as state
from bots.venues import venue_for
from tests.support.hollaex_world import HollaExStubs, make_on_hollaex_streams
from tests.support.streams import eventually, running

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal
BALANCE = "/v2/user/balance"


@pytest.fixture
def stubs():
    stubs = HollaExStubs()
    yield stubs
    stubs.stop()


@pytest.fixture
def market(hedging_market, stubs):
    return make_on_hollaex_streams(hedging_market, stubs)


def streamed(key: str) -> dict | None:
    balance, _ = state.shared_balance(key)
    if balance is None or balance["shared"] != "stream":
        return None
    return {kind: {a: balance[kind][a] for a in ("BTC", "USDT")} for kind in ("free", "used")}


def on_the_stub(stubs) -> dict:
    figures = {a: stubs.rest.balance(a) for a in ("BTC", "USDT")}
    return {"free": {a: f for a, (f, _) in figures.items()},
            "used": {a: u for a, (_, u) in figures.items()}}


def wallet_updates(stubs) -> int:
    return sum(1 for kind, m in list(stubs.ws.sent)
               if kind == "user" and m.get("topic") == "wallet" and m["action"] == "update")


async def test_a_hollaex_balance_arrives_by_stream_and_follows_a_trade(market, stubs):
    key = await sync_to_async(lambda: venue_for(market.mm_account).balance_key)()
    async with running(lambda hedge_id: None):
        # The bot's ask of 0.01 BTC holds that much: the stream shares the balance with the hold.
        await eventually(lambda: streamed(key) == on_the_stub(stubs), "the streamed balance")
        assert streamed(key)["used"]["BTC"] == D("0.01")
        reads = stubs.requests(BALANCE)  # the stream's snapshot as it opened
        assert reads == 1

        stubs.rest.take("buy", "0.004")  # a trade against the bot's ask: BTC out, USDT in

        after = on_the_stub(stubs)
        assert after["used"]["BTC"] == D("0.006")
        assert after["free"]["USDT"] > D("100000")
        await eventually(lambda: streamed(key) == after, "the balance after the trade")
        assert wallet_updates(stubs) >= 1
    assert stubs.requests(BALANCE) == reads  # no balance read by REST after the first
