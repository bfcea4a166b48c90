"""A HollaEx account's balance by stream (ccxt.pro's hollaex class against the HollaEx websocket
stub's wallet topic, real Redis): the stream process shares the account's balance, read by REST
once as the stream opens, and the balance a trade moved comes back by the stream alone; a hedge
account's too, whose stream watches no order topic beside the wallet topic."""

from __future__ import annotations

from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async

from bots.models import Account, Market, Venue
from bots.simulation.stub_exchanges.hollaex import HollaExStub
from bots.venues import stream_state as state
from bots.venues import venue_for
from tests.support.hollaex_world import HollaExStubs, make_on_hollaex_streams
from tests.support.streams import eventually, running

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal
STUBS = HollaExStubs  # the stubs fixture's exchange (tests/streams/conftest.py)
BALANCE = "/v2/user/balance"


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


def hedge_on_hollaex_streams(stubs) -> Account:
    venue = Venue.objects.create(
        name="hollaex-stub", label="HollaEx (stub)", kind=Venue.CCXT, exchange_id="hollaex",
        options={**stubs.ws.ccxt_config(), "enableRateLimit": False, "timeout": 2000},
    )
    account = Account(venue=venue, name="hedging on hollaex-stub", role=Account.HEDGING)
    account.set_credentials(HollaExStub.API_KEY, HollaExStub.SECRET)
    account.save()
    return account


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


async def test_a_hollaex_hedge_accounts_balance_streams_without_an_order_stream(hedging_market, stubs):
    # A hedge account makes no market: no fill or order stream runs beside its balance's.
    account = await sync_to_async(hedge_on_hollaex_streams)(stubs)
    await sync_to_async(Market.objects.filter(pk=hedging_market.pk).update)(hedge_account=account)
    key = await sync_to_async(lambda: venue_for(account).balance_key)()
    async with running(lambda hedge_id: None):
        await eventually(lambda: streamed(key) == on_the_stub(stubs), "the streamed balance")
        # A resting order holds 0.02 BTC: the wallet topic's update says so.
        await sync_to_async(venue_for(account).create_order)(
            "BTC/USDT", "limit", "sell", D("0.02"), D("66000"))
        after = on_the_stub(stubs)
        assert after["used"]["BTC"] == D("0.02")
        await eventually(lambda: streamed(key) == after, "the balance after the order")
    assert stubs.requests(BALANCE) == 1
