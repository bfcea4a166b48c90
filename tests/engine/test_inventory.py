"""Inventory skew toward a target base share, and the position band."""

from __future__ import annotations

from decimal import ROUND_DOWN, localcontext
from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from bots.engine.market_making.skew import (
    base_share_target,
    inventory_skew,
    position_stops,
    size_factors,
)
from bots.engine.rules import BUY, SELL


def test_the_target_is_the_base_that_makes_the_share():
    # 2 base at 100 plus 600 quote is worth 800; 50% of it is 4 base.
    assert base_share_target(D("2"), D("600"), D("100"), D("50")) == D("4")


def test_skew_is_the_distance_from_target_over_the_range_clipped():
    assert inventory_skew(D("5"), D("4"), D("2")) == D("0.5")
    assert inventory_skew(D("9"), D("4"), D("2")) == 1
    assert inventory_skew(D("0"), D("4"), D("2")) == -1
    assert inventory_skew(D("9"), D("4"), D("0")) == 0


def test_the_size_factors_add_up_to_two_exactly_whatever_the_decimal_context_rounds():
    # Found by Hypothesis in a full run, where a ccxt call had left the thread's context rounding
    # down: a 28-digit skew made 1 + skew round, and the factors added up to 2 - 1e-27.
    with localcontext() as context:
        context.rounding = ROUND_DOWN
        factors = size_factors(inventory_skew(D("621.998"), D("606.261"), D("51.59")))

        assert factors[BUY] + factors[SELL] == 2


def test_too_much_base_grows_the_asks_and_shrinks_the_bids():
    assert size_factors(D("0.5")) == {BUY: D("0.5"), SELL: D("1.5")}
    assert size_factors(D("-1")) == {BUY: 2, SELL: 0}


@given(st.decimals(min_value=0, max_value=1000, places=3), st.decimals(min_value=0, max_value=1000, places=3),
       st.decimals(min_value=D("0.001"), max_value=100, places=3))
def test_skew_stays_within_minus_one_and_one_and_points_the_right_way(held, target, range_):
    skew = inventory_skew(held, target, range_)

    assert -1 <= skew <= 1
    assert (skew > 0) == (held > target)
    factors = size_factors(skew)
    assert factors[BUY] >= 0 and factors[SELL] >= 0 and factors[BUY] + factors[SELL] == 2


def test_outside_the_band_the_side_that_makes_it_worse_stops():
    assert position_stops(D("3.5"), D("2"), D("1")) == {BUY: "position 3.5 is above target + band 3"}
    assert position_stops(D("0.5"), D("2"), D("1")) == {SELL: "position 0.5 is below target - band 1"}
    assert position_stops(D("2.9"), D("2"), D("1")) == {}
    assert position_stops(D("100"), D("2"), D("0")) == {}  # off
