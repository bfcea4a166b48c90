"""An order whose answer leaves out its fee (binance's order lookup and cancel answers) or its
cost (HollaEx's order answers) gets them from its trades: bots/venues/order_lookup.py:with_costs.
The venue here is a stand-in at the venue seam that lists trades; the stubs' cases are in
tests/hedging/test_hedging_through_ccxt.py and test_hedging_through_hollaex.py."""

from __future__ import annotations

import logging
from decimal import Decimal

from bots.venues.order_lookup import order_fee, with_costs

D = Decimal


class Trades:
    def __init__(self, trades: list[dict]):
        self.trades, self.reads = trades, []

    def fetch_my_trades(self, symbol=None, since=None, limit=None) -> list[dict]:
        self.reads.append((symbol, since))
        return [t for t in self.trades if since is None or t["timestamp"] >= since]


def trade(order: str, amount: str, price: str, fee: str, at: int = 1000) -> dict:
    return {"order": order, "amount": D(amount), "price": D(price), "cost": D(amount) * D(price),
            "timestamp": at, "fee": {"cost": D(fee), "currency": "BTC"}}


def order(filled: str, cost=None, **extra) -> dict:
    return {"id": "7", "filled": D(filled), "cost": cost, "average": None, "timestamp": 1000,
            "fee": None, "fees": [], **extra}


PAID = {"cost": D("0.000004"), "currency": "BTC"}


def test_the_cost_and_fees_of_the_orders_own_trades_are_summed():
    venue = Trades([
        trade("7", "0.003", "100", "0.000003"), trade("8", "0.5", "100", "0.0005"),
        trade("7", "0.001", "101", "0.000001", at=1001), trade("7", "0.2", "99", "0.0002", at=999),
    ])

    found = with_costs(venue, "BTC/USDT", order("0.004"))

    assert order_fee(found) == (D("0.000004"), "BTC")
    assert (found["cost"], found["average"]) == (D("0.401"), D("100.25"))
    assert venue.reads == [("BTC/USDT", 1000)]


def test_an_answer_that_gives_its_cost_keeps_it_and_takes_only_the_fee():
    venue = Trades([trade("7", "0.004", "100", "0.000004")])

    found = with_costs(venue, "BTC/USDT", order("0.004", cost=D("0.41"), average=D("102.5")))

    assert (found["cost"], order_fee(found)) == (D("0.41"), (D("0.000004"), "BTC"))


def test_a_cost_without_an_average_is_ccxts_estimate_at_the_limit_and_is_replaced():
    venue = Trades([trade("7", "0.004", "100", "0.000004")])
    estimate = order("0.004", cost=D("0.404"), price=D("101"), fee=PAID)  # 0.004 x 101

    found = with_costs(venue, "BTC/USDT", estimate)

    assert (found["cost"], found["average"]) == (D("0.4"), D("100"))


def test_an_answer_that_tells_both_or_did_not_fill_is_not_read_again():
    venue = Trades([trade("7", "0.004", "100", "0.000004")])
    told = order("0.004", cost=D("0.4"), average=D("100"), fee=PAID)
    free = order("0.004", cost=D("0.4"), average=D("100"), fee={"cost": D("0"), "currency": "BTC"})

    assert with_costs(venue, "BTC/USDT", told) is told
    assert with_costs(venue, "BTC/USDT", free) is free  # a fee of nothing is told too
    assert with_costs(venue, "BTC/USDT", order("0")) == order("0")
    assert venue.reads == []


def test_an_answer_without_its_cost_is_read_even_when_it_tells_the_fee():
    venue = Trades([trade("7", "0.004", "100", "0.000004")])

    found = with_costs(venue, "BTC/USDT", order("0.004", fee=PAID))

    assert (found["cost"], found["fee"]) == (D("0.4"), PAID)


def test_trades_short_of_the_filled_amount_keep_what_was_found_and_say_so(caplog):
    venue = Trades([trade("7", "0.003", "100", "0.000003")])

    with caplog.at_level(logging.ERROR, logger="bots.venues.order_lookup"):
        found = with_costs(venue, "BTC/USDT", order("0.004"))

    assert order_fee(found) == (D("0.000003"), "BTC")
    assert found["cost"] is None  # the hedger's fallback (filled at the limit) stays
    assert "order 7 filled 0.004 but its trades listed add up to 0.003" in caplog.text
