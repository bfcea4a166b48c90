"""The hedge for a fill: opposite side, same size, a limit no worse than VWAP plus slippage."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from bots.engine.books import mid_price, sweep
from bots.engine.hedging.hedge_order import decide_hedge
from bots.engine.rules import BPS, BUY, SELL, MarketRules, on_grid

RULES = MarketRules(
    "BTC/USDT", "BTC", "USDT", D("0.01"), D("0.001"), min_amount=D("0.001"), min_cost=D("5")
)
BIDS = [(D("99.5"), D("1")), (D("99"), D("2"))]
ASKS = [(D("100.5"), D("1")), (D("101"), D("2"))]


def test_a_fill_where_the_mm_sold_is_hedged_by_buying_the_same_size():
    decision = decide_hedge(SELL, D("1.5"), BIDS, ASKS, D("20"), RULES)

    assert decision.reason == ""
    assert (decision.order.side, decision.order.amount) == (BUY, D("1.5"))


def test_a_fill_where_the_mm_bought_is_hedged_by_selling_the_same_size():
    decision = decide_hedge(BUY, D("1.5"), BIDS, ASKS, D("20"), RULES)

    assert (decision.order.side, decision.order.amount) == (SELL, D("1.5"))


def test_the_hedge_size_is_rounded_down_to_the_step():
    decision = decide_hedge(SELL, D("1.23456"), BIDS, ASKS, D("20"), RULES)

    assert decision.order.amount == D("1.234")


def test_a_hedge_buy_is_limited_at_the_vwap_plus_slippage_rounded_down():
    decision = decide_hedge(SELL, D("1.5"), BIDS, ASKS, D("20"), RULES)

    vwap = (D("100.5") + D("0.5") * D("101")) / D("1.5")  # 100.6666...
    bound = vwap * (1 + D("20") / BPS)  # 100.8680...
    assert decision.order.limit_price == D("100.86")
    assert decision.order.limit_price <= bound


def test_a_hedge_sell_is_limited_at_the_vwap_minus_slippage_rounded_up():
    decision = decide_hedge(BUY, D("1.5"), BIDS, ASKS, D("20"), RULES)

    vwap = (D("99.5") + D("0.5") * D("99")) / D("1.5")  # 99.3333...
    bound = vwap * (1 - D("20") / BPS)  # 99.1346...
    assert decision.order.limit_price == D("99.14")
    assert decision.order.limit_price >= bound


def test_an_empty_hedge_book_gives_no_order_and_says_which_side_is_missing():
    buy = decide_hedge(SELL, D("1"), BIDS, [], D("20"), RULES)
    sell = decide_hedge(BUY, D("1"), [], ASKS, D("20"), RULES)

    assert buy.order is None and "no asks" in buy.reason
    assert sell.order is None and "no bids" in sell.reason


def test_a_fill_below_the_hedge_venues_minimum_gives_no_order_and_a_reason():
    too_small = decide_hedge(SELL, D("0.04"), BIDS, ASKS, D("20"), RULES)  # 4.03 USDT < 5
    under_step = decide_hedge(SELL, D("0.0004"), BIDS, ASKS, D("20"), RULES)

    for decision in (too_small, under_step):
        assert decision.order is None
        assert "below the hedge venue's minimum" in decision.reason


def test_a_thin_book_still_hedges_the_whole_size_at_what_it_has():
    decision = decide_hedge(SELL, D("5"), BIDS, ASKS, D("0"), RULES)

    # 3 BTC are offered; the limit is their VWAP and the IOC takes what is there.
    assert decision.order.amount == D("5")
    assert decision.order.limit_price == D("100.83")  # floor of 302.5 / 3


levels = st.lists(
    st.tuples(
        st.integers(1, 100000).map(lambda n: D(n) / 100),
        st.integers(1, 5000).map(lambda n: D(n) / 1000),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([BUY, SELL]),
    st.integers(1, 20000).map(lambda n: D(n) / 1000),
    levels,
    st.decimals(min_value=0, max_value=500, places=1),
)
def test_the_hedge_limit_is_on_the_tick_and_never_past_the_slippage_bound(
    mm_side, amount, book, slippage_bps
):
    # A book the sweep reads best first: asks rising, bids falling.
    asks = sorted(book)
    bids = sorted(book, reverse=True)

    decision = decide_hedge(mm_side, amount, bids, asks, slippage_bps, RULES)

    if decision.order is None:
        assert decision.reason
        return
    order = decision.order
    vwap = sweep(asks if order.side == BUY else bids, order.amount)[0]
    assert order.side != mm_side
    assert order.amount == RULES.round_amount(amount)
    assert on_grid(order.limit_price, RULES.price_tick)
    if order.side == BUY:
        assert order.limit_price <= vwap * (1 + slippage_bps / BPS)
        assert order.limit_price > vwap * (1 + slippage_bps / BPS) - RULES.price_tick
    else:
        assert order.limit_price >= vwap * (1 - slippage_bps / BPS)
        assert order.limit_price < vwap * (1 - slippage_bps / BPS) + RULES.price_tick


# --- books ----------------------------------------------------------------------------------


def test_sweep_of_one_level_is_its_price():
    assert sweep(ASKS, D("0.4")) == (D("100.5"), D("100.5"), D("0.4"))


def test_sweep_across_levels_gives_the_vwap_and_the_worst_price_reached():
    vwap, worst, filled = sweep(ASKS, D("2"))

    assert vwap == (D("100.5") + D("101")) / 2
    assert (worst, filled) == (D("101"), D("2"))


def test_sweep_stops_at_the_level_that_completes_the_size():
    asks = ASKS + [(D("105"), D("1"))]

    assert sweep(asks, D("3"))[1] == D("101")


def test_sweep_of_a_thin_book_returns_what_is_available():
    vwap, worst, filled = sweep(ASKS, D("10"))

    assert filled == D("3")
    assert worst == D("101")
    assert vwap == (D("100.5") + D("202")) / 3


def test_sweep_of_an_empty_side_is_none():
    assert sweep([], D("1")) is None


def test_sweep_of_nothing_is_priced_at_the_best_level():
    assert sweep(ASKS, D("0")) == (D("100.5"), D("100.5"), D("0"))


def test_mid_price_is_halfway_between_the_best_bid_and_ask():
    assert mid_price(BIDS, ASKS) == D("100")


def test_mid_price_of_a_one_sided_book_is_none():
    assert mid_price(BIDS, []) is None
    assert mid_price([], ASKS) is None
    assert mid_price([], []) is None
