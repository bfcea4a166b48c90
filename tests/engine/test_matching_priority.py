"""Price-time priority: who trades first, how much, and what is left of each order."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from bots.engine.matching import INVALID_ORDER, WOULD_TAKE, Rejected
from bots.engine.rules import BUY, SELL
from tests.engine.markets import RULES, funded_book, snapshot


def test_the_better_priced_maker_trades_first_even_if_it_came_later():
    book = funded_book()
    book.submit("alice", SELL, "limit", D("1"), D("101"))
    bob_ask = book.submit("bob", SELL, "limit", D("1"), D("100")).order

    execution = book.submit("carol", BUY, "limit", D("1"), D("101"))

    maker_trades = [t for t in execution.trades if t.taker_or_maker == "maker"]
    assert [(t.order_id, t.price) for t in maker_trades] == [(bob_ask.id, D("100"))]
    assert book.depth(SELL) == [(D("101"), D("1"))]


def test_the_best_bid_is_the_highest_price():
    book = funded_book()
    book.submit("alice", BUY, "limit", D("1"), D("99"))
    book.submit("bob", BUY, "limit", D("1"), D("100"))

    execution = book.submit("carol", SELL, "market", D("1"))

    assert [t.price for t in execution.trades] == [D("100"), D("100")]
    assert [t.account for t in execution.trades] == ["carol", "bob"]


def test_at_one_price_the_earlier_order_trades_first():
    book = funded_book()
    first = book.submit("alice", SELL, "limit", D("1"), D("100")).order
    second = book.submit("bob", SELL, "limit", D("1"), D("100")).order

    execution = book.submit("carol", BUY, "limit", D("1"), D("100"))

    assert [t.order_id for t in execution.trades if t.taker_or_maker == "maker"] == [first.id]
    assert [o.id for o in book.asks] == [second.id]


def test_a_partly_filled_maker_keeps_its_place_and_its_remainder():
    book = funded_book()
    maker = book.submit("alice", SELL, "limit", D("2"), D("100")).order
    later = book.submit("bob", SELL, "limit", D("1"), D("100")).order

    book.submit("carol", BUY, "limit", D("0.5"), D("100"))

    assert (maker.filled, maker.remaining, maker.status) == (D("0.5"), D("1.5"), "open")
    assert [o.id for o in book.asks] == [maker.id, later.id]
    assert book.depth(SELL) == [(D("100"), D("2.5"))]


def test_a_partly_filled_taker_rests_its_remainder_at_its_limit():
    book = funded_book()
    book.submit("alice", SELL, "limit", D("1"), D("100"))

    taker = book.submit("carol", BUY, "limit", D("3"), D("100")).order

    assert (taker.filled, taker.remaining, taker.status) == (D("1"), D("2"), "open")
    assert book.asks == []
    assert book.depth(BUY) == [(D("100"), D("2"))]


def test_a_taker_walks_several_levels_each_at_the_makers_price():
    book = funded_book()
    for account, price in (("alice", "100"), ("bob", "101"), ("alice", "102")):
        book.submit(account, SELL, "limit", D("1"), D(price))

    execution = book.submit("carol", BUY, "limit", D("2.5"), D("102"))

    taker_trades = [t for t in execution.trades if t.taker_or_maker == "taker"]
    assert [(t.price, t.amount) for t in taker_trades] == [
        (D("100"), D("1")),
        (D("101"), D("1")),
        (D("102"), D("0.5")),
    ]
    order = execution.order
    assert order.status == "closed"
    assert order.cost == D("100") + D("101") + D("51")
    assert order.average == order.cost / D("2.5")
    assert book.depth(SELL) == [(D("102"), D("0.5"))]


def test_a_limit_taker_stops_at_its_price_and_rests_the_rest():
    book = funded_book()
    for price in ("100", "101", "102"):
        book.submit("alice", SELL, "limit", D("1"), D(price))

    order = book.submit("carol", BUY, "limit", D("5"), D("101")).order

    assert order.filled == D("2")
    assert book.depth(BUY) == [(D("101"), D("3"))]
    assert book.depth(SELL) == [(D("102"), D("1"))]


def test_an_ioc_remainder_expires_and_releases_its_hold():
    book = funded_book()
    book.submit("alice", SELL, "limit", D("1"), D("100"))
    quote_before = book.balances.free("carol", RULES.quote)

    order = book.submit("carol", BUY, "limit", D("2"), D("100"), time_in_force="IOC").order

    assert (order.filled, order.status) == (D("1"), "expired")
    assert book.bids == []
    assert book.balances.used("carol", RULES.quote) == 0
    assert book.balances.free("carol", RULES.quote) == quote_before - D("100")


def test_an_ioc_sell_remainder_releases_its_base():
    book = funded_book()
    book.submit("alice", BUY, "limit", D("1"), D("100"))

    order = book.submit("carol", SELL, "limit", D("3"), D("100"), time_in_force="IOC").order

    assert (order.filled, order.status) == (D("1"), "expired")
    assert book.asks == []
    assert book.balances.used("carol", RULES.base) == 0
    assert book.balances.free("carol", RULES.base) == D("9")


def test_a_post_only_order_that_would_cross_is_rejected_and_changes_nothing():
    book = funded_book()
    book.submit("alice", SELL, "limit", D("1"), D("100"))
    book.submit("bob", BUY, "limit", D("1"), D("99"))
    before = snapshot(book)

    with pytest.raises(Rejected) as raised:
        book.submit("carol", BUY, "limit", D("1"), D("100"), time_in_force="PO")

    assert raised.value.reason == WOULD_TAKE
    assert snapshot(book) == before


def test_a_post_only_order_that_would_not_cross_rests():
    book = funded_book()
    book.submit("alice", SELL, "limit", D("1"), D("100"))

    order = book.submit("carol", BUY, "limit", D("1"), D("99.99"), time_in_force="PO").order

    assert order.status == "open"
    assert book.depth(BUY) == [(D("99.99"), D("1"))]


@pytest.mark.parametrize("side", [BUY, SELL])
def test_a_market_order_on_an_empty_book_is_rejected(side):
    book = funded_book()
    before = snapshot(book)

    with pytest.raises(Rejected) as raised:
        book.submit("carol", side, "market", D("1"))

    assert raised.value.reason == INVALID_ORDER
    assert snapshot(book) == before


def test_a_market_order_takes_what_the_book_has_and_expires_the_rest():
    book = funded_book()
    book.submit("alice", SELL, "limit", D("1"), D("100"))
    book.submit("bob", SELL, "limit", D("1"), D("105"))

    order = book.submit("carol", BUY, "market", D("3")).order

    assert (order.filled, order.cost, order.status) == (D("2"), D("205"), "expired")
    assert book.asks == []
    assert book.balances.used("carol", RULES.quote) == 0
    assert book.balances.free("carol", RULES.quote) == D("10000") - D("205")


def test_self_trade_prevention_expires_the_accounts_own_resting_order():
    book = funded_book()
    own = book.submit("alice", SELL, "limit", D("1"), D("100")).order
    book.submit("bob", SELL, "limit", D("1"), D("101"))

    execution = book.submit("alice", BUY, "limit", D("1"), D("101"))

    assert own.status == "expired"
    assert execution.touched[own.id] is own
    assert {t.account for t in execution.trades} == {"alice", "bob"}
    assert [t.price for t in execution.trades] == [D("101"), D("101")]
    # The expired sell gave its base back; alice holds nothing any more.
    assert book.balances.used("alice", RULES.base) == 0
    assert book.balances.used("alice", RULES.quote) == 0
    assert book.asks == []


def test_a_market_order_skips_its_own_orders_when_holding_and_expires_them():
    book = funded_book()
    own = book.submit("alice", SELL, "limit", D("1"), D("100")).order
    book.submit("bob", SELL, "limit", D("1"), D("200"))

    order = book.submit("alice", BUY, "market", D("1")).order

    assert own.status == "expired"
    assert (order.filled, order.cost, order.status) == (D("1"), D("200"), "closed")
    assert book.balances.used("alice", RULES.quote) == 0
    assert book.balances.free("alice", RULES.quote) == D("10000") - D("200")
