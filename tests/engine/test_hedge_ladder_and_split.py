"""Hedge parameters, the ladder's widening protection price, and splitting by notional cap."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bots.engine.hedging.hedge_order import MAX_PIECES, HedgeParams, protection_price, split_amount
from bots.engine.rules import BPS, BUY, SELL, MarketRules, on_grid

RULES = MarketRules(
    "BTC/USDT", "BTC", "USDT", D("0.01"), D("0.00001"), min_amount=D("0.00001"), min_cost=D("5")
)


def test_each_ladder_step_allows_more_slippage_up_to_the_last():
    params = HedgeParams(slippage_bps=D("20"), ladder_steps=3, ladder_step_bps=D("10"))

    assert [params.slippage_at(step) for step in range(6)] == [
        D("20"), D("30"), D("40"), D("50"), D("50"), D("50")
    ]


def test_the_protection_price_moves_with_the_step_and_rounds_inward():
    params = HedgeParams(slippage_bps=D("20"), ladder_steps=2, ladder_step_bps=D("15"))
    vwap = D("65000")

    buy = [protection_price(BUY, vwap, params.slippage_at(s), RULES) for s in range(3)]
    sell = [protection_price(SELL, vwap, params.slippage_at(s), RULES) for s in range(3)]

    assert buy == [D("65130.00"), D("65227.50"), D("65325.00")]
    assert sell == [D("64870.00"), D("64772.50"), D("64675.00")]
    odd = protection_price(BUY, D("100.003"), D("0"), RULES)
    assert odd == D("100.00")  # never above the bound, even by a fraction of a tick


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (HedgeParams(D("-1")), "hedge slippage must be 0 to 500 bps"),
        (HedgeParams(D("501")), "hedge slippage must be 0 to 500 bps"),
        (HedgeParams(D("20"), ladder_steps=11), "ladder steps must be 0 to 10"),
        (HedgeParams(D("20"), ladder_step_bps=D("600")), "ladder step must be 0 to 500 bps"),
        (HedgeParams(D("500"), ladder_steps=10, ladder_step_bps=D("100")), "at most 1000 bps"),
        (HedgeParams(D("20"), max_notional=D("0")), "max notional per order must be above 0"),
    ],
)
def test_out_of_bounds_parameters_are_named(params, message):
    assert any(message in problem for problem in params.problems())


def test_the_defaults_are_in_bounds():
    assert HedgeParams(D("20")).problems() == []


def test_a_hedge_under_the_cap_is_one_order():
    assert split_amount(D("0.1"), D("65000"), D("10000"), RULES) == [D("0.1")]


def test_a_big_hedge_is_split_into_near_equal_orders_under_the_cap():
    # 1 BTC at 65,000 is 65,000 USDT: seven orders of at most 10,000.
    pieces = split_amount(D("1"), D("65000"), D("10000"), RULES)

    assert len(pieces) == 7
    assert sum(pieces) == D("1")
    assert max(pieces) - min(pieces) <= RULES.amount_step
    assert all(p * D("65000") <= D("10000") for p in pieces)


def test_a_cap_below_one_step_cannot_split():
    assert split_amount(D("1"), D("65000"), D("0.1"), RULES) == []


def test_a_hedge_that_would_need_too_many_orders_is_not_split():
    # 51 orders of 1,000 USDT would be needed.
    assert len(split_amount(D("0.05"), D("1000000"), D("1000"), RULES)) == MAX_PIECES
    assert split_amount(D("0.051"), D("1000000"), D("1000"), RULES) == []


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 10_000_000).map(lambda n: n * RULES.amount_step),
    st.integers(100, 10_000_000).map(lambda n: D(n) / 100),
    st.integers(1, 1_000_000).map(D),
)
def test_pieces_add_up_stay_on_the_step_and_under_the_cap(amount, price, cap):
    pieces = split_amount(amount, price, cap, RULES)

    per_piece = int(cap / (price * RULES.amount_step))
    if not pieces:
        assert per_piece == 0 or amount / RULES.amount_step > per_piece * MAX_PIECES
        return
    assert sum(pieces) == amount
    assert all(on_grid(p, RULES.amount_step) and p > 0 for p in pieces)
    assert all(p * price <= cap for p in pieces)
    # The fewest: one piece fewer could not hold the amount under the cap.
    assert (len(pieces) - 1) * per_piece < amount / RULES.amount_step
    assert max(pieces) - min(pieces) <= RULES.amount_step


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from([BUY, SELL]),
    st.integers(1, 10_000_000).map(lambda n: D(n) / 100),
    st.decimals(min_value=0, max_value=1000, places=1),
)
def test_the_protection_price_never_passes_its_bound(side, vwap, slippage):
    limit = protection_price(side, vwap, slippage, RULES)

    bound = vwap * (1 + (1 if side == BUY else -1) * slippage / BPS)
    assert on_grid(limit, RULES.price_tick)
    assert limit <= bound if side == BUY else limit >= bound
