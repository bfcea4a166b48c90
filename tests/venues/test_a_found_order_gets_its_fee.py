"""An order whose answer names no fee (binance's order lookup and cancel answers) gets its
trades' fees: bots/venues/order_lookup.py:with_fee. The venue here is a stand-in at the venue
seam that lists trades; the binance stub case is in tests/hedging/test_hedging_through_ccxt.py."""

from __future__ import annotations

import logging
from decimal import Decimal

from bots.hedging.hedger import order_fee
from bots.venues.order_lookup import with_fee

D = Decimal


class Trades:
    def __init__(self, trades: list[dict]):
        self.trades, self.reads = trades, []

    def fetch_my_trades(self, symbol=None, since=None, limit=None) -> list[dict]:
        self.reads.append((symbol, since))
        return [t for t in self.trades if since is None or t["timestamp"] >= since]


def trade(order: str, amount: str, fee: str, at: int = 1000) -> dict:
    return {"order": order, "amount": D(amount), "timestamp": at,
            "fee": {"cost": D(fee), "currency": "BTC"}}


def order(filled: str, **extra) -> dict:
    return {"id": "7", "filled": D(filled), "timestamp": 1000, "fee": None, "fees": [], **extra}


def test_the_fees_of_the_orders_own_trades_are_summed():
    venue = Trades([trade("7", "0.003", "0.000003"), trade("8", "0.5", "0.0005"),
                    trade("7", "0.001", "0.000001", at=1001), trade("7", "0.2", "0.0002", at=999)])

    found = with_fee(venue, "BTC/USDT", order("0.004"))

    assert order_fee(found) == (D("0.000004"), "BTC")
    assert venue.reads == [("BTC/USDT", 1000)]


def test_an_answer_that_names_its_fee_or_did_not_fill_is_not_read_again():
    venue = Trades([trade("7", "0.004", "0.000004")])
    told = order("0.004", fee={"cost": D("0.000004"), "currency": "BTC"})
    free = order("0.004", fee={"cost": D("0"), "currency": "BTC"})

    assert with_fee(venue, "BTC/USDT", told) is told
    assert with_fee(venue, "BTC/USDT", free) is free  # a fee of nothing is told too
    assert with_fee(venue, "BTC/USDT", order("0")) == order("0")
    assert venue.reads == []


def test_trades_short_of_the_filled_amount_keep_what_was_found_and_say_so(caplog):
    venue = Trades([trade("7", "0.003", "0.000003")])

    with caplog.at_level(logging.ERROR, logger="bots.venues.order_lookup"):
        found = with_fee(venue, "BTC/USDT", order("0.004"))

    assert order_fee(found) == (D("0.000003"), "BTC")
    assert "order 7 filled 0.004 but its trades listed add up to 0.003" in caplog.text
