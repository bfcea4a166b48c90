"""A paper venue with two markets: order and trade ids stay unique across the venue.

Each market draws ids from its own counter (so requests on two markets never wait for one
lock), and the venue-wide uniqueness of the ids holds because each id carries its market."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bots.models import Account, PaperBalance, PaperMarket, PaperOrder, PaperTrade, Venue
from bots.venues.paper import PaperVenue

D = Decimal


@pytest.fixture
def two_markets(db):
    venue = Venue.objects.create(name="paper-two", label="Paper two", kind=Venue.PAPER)
    for symbol, base in (("BTC/USDT", "BTC"), ("ETH/USDT", "ETH")):
        PaperMarket.objects.create(
            venue=venue, symbol=symbol, base=base, quote="USDT", price_tick=D("0.01"),
            amount_step=D("0.0001"), min_amount=D("0.0001"), min_cost=D("1"),
            maker_fee=D("0.001"), taker_fee=D("0.001"),
        )
    bot = Account.objects.create(venue=venue, name="bot", role=Account.MARKET_MAKING)
    outside = Account.objects.create(venue=venue, name="outside", role=Account.LIQUIDITY)
    for account in (bot, outside):
        for asset in ("BTC", "ETH", "USDT"):
            PaperBalance.objects.create(account=account, asset=asset, free=D("1000000"))
    return PaperVenue(bot), PaperVenue(outside)


def test_orders_on_two_markets_of_one_venue_get_distinct_ids(two_markets):
    bot, _ = two_markets

    btc = bot.create_order("BTC/USDT", "limit", "buy", D("0.1"), D("100"))
    eth = bot.create_order("ETH/USDT", "limit", "buy", D("0.1"), D("50"))

    assert btc["id"] != eth["id"]
    assert bot.fetch_order(btc["id"], "BTC/USDT")["symbol"] == "BTC/USDT"
    assert bot.fetch_order(eth["id"], "ETH/USDT")["symbol"] == "ETH/USDT"
    assert [o["id"] for o in bot.fetch_open_orders("ETH/USDT")] == [eth["id"]]
    assert PaperOrder.objects.count() == 2


def test_trades_on_two_markets_of_one_venue_are_all_recorded(two_markets):
    bot, outside = two_markets
    for symbol in ("BTC/USDT", "ETH/USDT"):
        outside.create_order(symbol, "limit", "sell", D("1"), D("100"))

    first = bot.create_order("BTC/USDT", "market", "buy", D("0.5"))
    second = bot.create_order("ETH/USDT", "market", "buy", D("0.5"))

    assert first["status"] == second["status"] == "closed"
    ids = [t["id"] for symbol in ("BTC/USDT", "ETH/USDT") for t in bot.fetch_my_trades(symbol)]
    assert len(ids) == len(set(ids)) == 2
    assert [len(outside.fetch_my_trades(s)) for s in ("BTC/USDT", "ETH/USDT")] == [1, 1]
    # Each trade is kept once per side of it: the taker's row and the maker's.
    assert PaperTrade.objects.count() == 4 and PaperOrder.objects.count() == 4
