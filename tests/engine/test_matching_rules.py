"""A market's rules: orders off its grid or under its minimums are refused; its arithmetic."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bots.engine.matching import INVALID_ORDER, Rejected
from bots.engine.rules import BUY, SELL, MarketRules, ceil_to, dec, floor_to, on_grid
from tests.engine.markets import RULES, funded_book, snapshot


@pytest.mark.parametrize(
    ("side", "type", "amount", "price", "time_in_force"),
    [
        (BUY, "limit", D("0.0015"), D("100"), "GTC"),  # amount between two steps
        (BUY, "limit", D("1"), D("100.005"), "GTC"),  # price between two ticks
        (SELL, "market", D("0.0015"), None, "GTC"),
        (BUY, "limit", D("0"), D("100"), "GTC"),
        (BUY, "limit", D("-1"), D("100"), "GTC"),
        (BUY, "limit", D("1"), D("0"), "GTC"),
        (BUY, "limit", D("1"), None, "GTC"),
        (BUY, "limit", D("0.009"), D("100"), "GTC"),  # 0.9 USDT is under the 1 USDT minimum cost
        (SELL, "market", D("0.001"), None, "GTC"),  # worth 0.099 at the best bid
        ("short", "limit", D("1"), D("100"), "GTC"),
        (BUY, "stop", D("1"), D("100"), "GTC"),
        (BUY, "limit", D("1"), D("100"), "FOK"),
    ],
)
def test_orders_off_the_grid_or_under_the_minimums_are_invalid(
    side, type, amount, price, time_in_force
):
    book = funded_book()
    book.submit("alice", BUY, "limit", D("1"), D("99"))
    book.submit("alice", SELL, "limit", D("1"), D("101"))
    before = snapshot(book)

    with pytest.raises(Rejected) as raised:
        book.submit("bob", side, type, amount, price, time_in_force=time_in_force)

    assert raised.value.reason == INVALID_ORDER
    assert snapshot(book) == before


def test_an_order_under_the_minimum_amount_is_invalid():
    rules = MarketRules("BTC/USDT", "BTC", "USDT", D("0.01"), D("0.001"), min_amount=D("0.01"))
    book = funded_book(rules)

    with pytest.raises(Rejected) as raised:
        book.submit("bob", BUY, "limit", D("0.009"), D("100000"))

    assert raised.value.reason == INVALID_ORDER
    assert book.bids == []


def test_an_order_exactly_at_the_minimums_is_accepted():
    rules = MarketRules(
        "BTC/USDT", "BTC", "USDT", D("0.01"), D("0.001"), min_amount=D("0.01"), min_cost=D("1")
    )
    book = funded_book(rules)

    order = book.submit("bob", BUY, "limit", D("0.01"), D("100")).order

    assert order.status == "open"


def test_rules_survive_a_round_trip_through_the_ccxt_market_dict():
    assert MarketRules.from_market(RULES.to_market()) == RULES


def test_rules_read_a_ccxt_market_with_floats_and_missing_limits():
    market = {
        "symbol": "ETH/USDT",
        "base": "ETH",
        "quote": "USDT",
        "precision": {"price": 0.01, "amount": 0.0001},
        "limits": {"amount": {"min": None}, "cost": None},
        "maker": 0.001,
        "taker": None,
    }

    rules = MarketRules.from_market(market)

    assert rules == MarketRules(
        "ETH/USDT", "ETH", "USDT", D("0.01"), D("0.0001"), D("0"), D("0"), D("0.001"), D("0")
    )


def test_a_ccxt_market_with_no_limits_at_all_has_no_minimums():
    market = {"symbol": "A/B", "base": "A", "quote": "B", "precision": {"price": 1, "amount": 1}}

    rules = MarketRules.from_market(market)

    assert (rules.min_amount, rules.min_cost, rules.maker_fee, rules.taker_fee) == (0, 0, 0, 0)


def test_round_price_rounds_bids_down_and_asks_up():
    assert RULES.round_price(D("100.019"), BUY) == D("100.01")
    assert RULES.round_price(D("100.011"), SELL) == D("100.02")
    assert RULES.round_price(D("100.01"), BUY) == D("100.01")
    assert RULES.round_price(D("100.01"), SELL) == D("100.01")


def test_round_amount_rounds_down_to_the_step():
    assert RULES.round_amount(D("1.2349")) == D("1.234")


@given(st.decimals(min_value=D("0.00000001"), max_value=D("1e9"), places=8))
def test_rounding_lands_on_the_tick_and_never_tightens(price):
    bid, ask = RULES.round_price(price, BUY), RULES.round_price(price, SELL)

    assert on_grid(bid, RULES.price_tick) and on_grid(ask, RULES.price_tick)
    assert bid <= price <= ask
    if on_grid(price, RULES.price_tick):
        assert bid == ask == price
    else:
        assert ask - bid == RULES.price_tick
    assert floor_to(price, RULES.price_tick) == bid and ceil_to(price, RULES.price_tick) == ask


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.1, "0.1"), (0.30000000000000004, "0.30000000000000004"), (1e-08, "1E-8"), (100.0, "100.0")],
)
def test_dec_of_a_float_is_the_decimal_the_float_prints_as(value, expected):
    assert dec(value) == D(expected)
    assert str(dec(value)) == str(D(repr(value)))


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_dec_of_any_float_reads_back_as_that_float(value):
    assert float(dec(value)) == value
    assert dec(value) == D(repr(value))


def test_dec_keeps_strings_ints_and_decimals_exact():
    assert dec("0.1") == D("0.1")
    assert dec(3) == D(3)
    same = D("1.10")
    assert dec(same) is same
