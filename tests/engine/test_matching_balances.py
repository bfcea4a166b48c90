"""Balances around matching: holds, fees, refunds, cancels, refusals, and conservation."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bots.engine.matching import INSUFFICIENT_FUNDS, ORDER_NOT_FOUND, Book, Rejected
from bots.engine.rules import BUY, SELL, MarketRules
from tests.engine.markets import (
    ACCOUNTS,
    RULES,
    START_BASE,
    START_QUOTE,
    funded_book,
    held_by_open_orders,
    snapshot,
)


def test_a_resting_buy_holds_price_times_amount_of_quote():
    book = funded_book()

    book.submit("alice", BUY, "limit", D("0.5"), D("100.01"))

    assert book.balances.used("alice", "USDT") == D("50.005")
    assert book.balances.free("alice", "USDT") == START_QUOTE - D("50.005")
    assert book.balances.used("alice", "BTC") == 0


def test_a_resting_sell_holds_the_base_amount():
    book = funded_book()

    book.submit("alice", SELL, "limit", D("0.5"), D("100"))

    assert book.balances.used("alice", "BTC") == D("0.5")
    assert book.balances.free("alice", "BTC") == START_BASE - D("0.5")
    assert book.balances.used("alice", "USDT") == 0


def test_fees_are_charged_in_the_asset_received_at_maker_and_taker_rates():
    book = funded_book()
    book.submit("alice", SELL, "limit", D("2"), D("100"))

    execution = book.submit("bob", BUY, "limit", D("2"), D("100"))

    fees = {t.account: (t.taker_or_maker, t.fee, t.fee_currency) for t in execution.trades}
    assert fees == {
        "bob": ("taker", D("2") * RULES.taker_fee, "BTC"),
        "alice": ("maker", D("200") * RULES.maker_fee, "USDT"),
    }
    assert book.balances.free("bob", "BTC") == START_BASE + D("2") - D("0.004")
    assert book.balances.free("bob", "USDT") == START_QUOTE - D("200")
    assert book.balances.free("alice", "USDT") == START_QUOTE + D("200") - D("0.2")
    assert book.balances.free("alice", "BTC") == START_BASE - D("2")
    assert execution.order.fee == D("0.004")


def test_a_seller_taking_a_bid_pays_the_taker_rate_in_quote():
    book = funded_book()
    book.submit("alice", BUY, "limit", D("1"), D("100"))

    execution = book.submit("bob", SELL, "market", D("1"))

    bob = next(t for t in execution.trades if t.account == "bob")
    alice = next(t for t in execution.trades if t.account == "alice")
    assert (bob.taker_or_maker, bob.fee, bob.fee_currency) == ("taker", D("0.2"), "USDT")
    assert (alice.taker_or_maker, alice.fee, alice.fee_currency) == ("maker", D("0.001"), "BTC")


def test_fees_round_up_to_the_fee_quantum():
    rules = MarketRules("X/Y", "X", "Y", D("0.01"), D("0.001"), taker_fee=D("0.0000000000015"))
    book = funded_book(rules)
    book.submit("alice", SELL, "limit", D("1"), D("1"))

    execution = book.submit("bob", BUY, "limit", D("1"), D("1"))

    assert next(t for t in execution.trades if t.account == "bob").fee == D("2E-12")


def test_a_buy_filled_below_its_limit_gets_the_difference_back_in_free():
    book = funded_book()
    book.submit("alice", SELL, "limit", D("1"), D("100"))

    book.submit("bob", BUY, "limit", D("1"), D("105"))

    assert book.balances.free("bob", "USDT") == START_QUOTE - D("100")
    assert book.balances.used("bob", "USDT") == 0


def test_a_partly_filled_buy_keeps_holding_its_limit_for_the_remainder_only():
    book = funded_book()
    book.submit("alice", SELL, "limit", D("1"), D("100"))

    book.submit("bob", BUY, "limit", D("3"), D("105"))

    assert book.balances.used("bob", "USDT") == D("2") * D("105")
    assert book.balances.free("bob", "USDT") == START_QUOTE - D("100") - D("210")


def test_cancel_releases_the_hold():
    book = funded_book()
    buy = book.submit("alice", BUY, "limit", D("1"), D("100")).order
    sell = book.submit("alice", SELL, "limit", D("2"), D("110")).order
    book.submit("bob", SELL, "limit", D("0.25"), D("100"))  # leaves 0.75 of the buy

    canceled_buy = book.cancel("alice", buy.id)
    book.cancel("alice", sell.id)

    assert canceled_buy.status == "canceled"
    assert book.open_orders("alice") == []
    assert book.balances.used("alice", "USDT") == 0
    assert book.balances.used("alice", "BTC") == 0
    assert book.balances.free("alice", "USDT") == START_QUOTE - D("25")
    assert book.balances.free("alice", "BTC") == START_BASE + D("0.25") - D("0.00025")


def test_cancelling_another_accounts_order_is_refused_and_changes_nothing():
    book = funded_book()
    order = book.submit("alice", BUY, "limit", D("1"), D("100")).order
    before = snapshot(book)

    with pytest.raises(Rejected) as raised:
        book.cancel("bob", order.id)

    assert raised.value.reason == ORDER_NOT_FOUND
    assert snapshot(book) == before


@pytest.mark.parametrize(
    ("side", "type", "amount", "price"),
    [
        (BUY, "limit", D("101"), D("100")),  # 10,100 USDT against 10,000
        (SELL, "limit", D("10.001"), D("100")),  # more BTC than held
        (BUY, "market", D("2"), None),  # walking the asks costs 10,100
        (SELL, "market", D("11"), None),
    ],
)
def test_insufficient_funds_is_refused_and_changes_nothing(side, type, amount, price):
    book = funded_book()
    book.submit("alice", SELL, "limit", D("1"), D("100"))
    book.submit("alice", SELL, "limit", D("1"), D("10000"))
    book.submit("alice", BUY, "limit", D("1"), D("90"))
    before = snapshot(book)

    with pytest.raises(Rejected) as raised:
        book.submit("bob", side, type, amount, price)

    assert raised.value.reason == INSUFFICIENT_FUNDS
    assert snapshot(book) == before


# --- ledger properties ----------------------------------------------------------------------

SMALL = MarketRules(
    symbol="BTC/USDT",
    base="BTC",
    quote="USDT",
    price_tick=D("1"),
    amount_step=D("0.1"),
    min_amount=D("0.1"),
    maker_fee=D("0.001"),
    taker_fee=D("0.0025"),
)
PROPERTY_BASE, PROPERTY_QUOTE = D("3"), D("400")

accounts = st.sampled_from(ACCOUNTS)
submits = st.tuples(
    st.just("submit"),
    accounts,
    st.sampled_from([BUY, SELL]),
    st.sampled_from(["limit", "limit", "market"]),
    st.sampled_from(["GTC", "GTC", "IOC", "PO"]),
    st.integers(1, 30).map(lambda n: n * SMALL.amount_step),
    st.integers(96, 104).map(D),
)
# Mostly the owner cancels; sometimes another account tries, which must be refused.
cancels = st.tuples(
    st.just("cancel"), st.sampled_from([True, True, True, False]), st.integers(0, 50)
)
# one_of picks its branches about evenly; three submits to a cancel keeps the book populated.
requests = st.lists(
    st.sampled_from([submits, submits, submits, cancels]).flatmap(lambda kind: kind),
    min_size=10,
    max_size=50,
)


def _apply(book: Book, request: tuple) -> list:
    if request[0] == "cancel":
        _, by_owner, pick = request
        orders = book.open_orders()
        if not orders:
            book.cancel(ACCOUNTS[0], "missing")
        order = orders[pick % len(orders)]
        others = [a for a in ACCOUNTS if a != order.account]
        book.cancel(order.account if by_owner else others[pick % len(others)], order.id)
        return []
    _, account, side, type, tif, amount, price = request
    execution = book.submit(account, side, type, amount, price, time_in_force=tif)
    return execution.trades


def _check_invariants(book: Book, fees: dict[str, D]):
    totals = defaultdict(D)
    for (account, asset), (free, used) in book.balances.items():
        assert free >= 0 and used >= 0, (account, asset, free, used)
        assert used == held_by_open_orders(book, account, asset), (account, asset)
        totals[asset] += free + used
    starting = {"BTC": PROPERTY_BASE * len(ACCOUNTS), "USDT": PROPERTY_QUOTE * len(ACCOUNTS)}
    for asset, start in starting.items():
        assert totals[asset] + fees[asset] == start, asset
    if book.bids and book.asks:
        assert book.bids[0].price < book.asks[0].price


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests)
def test_the_ledger_balances_and_the_book_never_crosses(requests):
    book = funded_book(SMALL, PROPERTY_BASE, PROPERTY_QUOTE)
    fees: dict[str, D] = defaultdict(D)
    for request in requests:
        before = snapshot(book)
        try:
            trades = _apply(book, request)
        except Rejected:
            assert snapshot(book) == before, request
            continue
        for trade in trades:
            fees[trade.fee_currency] += trade.fee
        _check_invariants(book, fees)
