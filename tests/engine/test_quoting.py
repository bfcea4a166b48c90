"""The market maker's quotes: where the levels go, which orders change, what the budget backs."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from bots.engine.market_making.quoting import (
    Level,
    OpenQuote,
    QuoteParams,
    fit_to_budget,
    plan_refresh,
    quote_levels,
)
from bots.engine.rules import BPS, BUY, SELL, MarketRules, on_grid

RULES = MarketRules("BTC/USDT", "BTC", "USDT", D("0.01"), D("0.001"))
PARAMS = QuoteParams(
    spread_bps=D("20"),
    levels=3,
    level_spacing_bps=D("10"),
    level_amount=D("1"),
    amount_growth=D("0.5"),
)


def side(levels: list[Level], which: str) -> list[tuple[D, D]]:
    return [(lv.price, lv.amount) for lv in levels if lv.side == which]


# --- quote_levels ---------------------------------------------------------------------------


def test_it_quotes_the_requested_levels_on_each_side_with_growing_amounts():
    levels = quote_levels(D("100"), PARAMS, RULES)

    assert side(levels, BUY) == [(D("99.9"), D("1")), (D("99.8"), D("1.5")), (D("99.7"), D("2"))]
    assert side(levels, SELL) == [
        (D("100.1"), D("1")),
        (D("100.2"), D("1.5")),
        (D("100.3"), D("2")),
    ]


def test_prices_round_outward_so_the_spread_never_tightens():
    levels = quote_levels(D("100.003"), PARAMS, RULES)

    # 100.003 * 0.999 = 99.902997 and 100.003 * 1.001 = 100.103003
    assert side(levels, BUY)[0][0] == D("99.90")
    assert side(levels, SELL)[0][0] == D("100.11")


def test_amounts_round_down_to_the_step():
    params = QuoteParams(D("20"), 2, D("10"), D("0.0015"), D("0.5"))

    levels = quote_levels(D("100"), params, RULES)

    assert [amount for _, amount in side(levels, BUY)] == [D("0.001"), D("0.002")]


def test_levels_that_round_to_one_price_are_merged_into_one_order():
    coarse = MarketRules("BTC/USDT", "BTC", "USDT", D("1"), D("0.001"))
    params = QuoteParams(D("20"), 3, D("5"), D("1"), D("0.5"))

    levels = quote_levels(D("100"), params, coarse)

    assert side(levels, BUY) == [(D("99"), D("4.5"))]
    assert side(levels, SELL) == [(D("101"), D("4.5"))]


def test_untradable_levels_are_dropped():
    rules = MarketRules("BTC/USDT", "BTC", "USDT", D("0.01"), D("0.001"), min_cost=D("120"))

    levels = quote_levels(D("100"), PARAMS, rules)

    # 1 BTC near 100 is worth under 120; the 1.5 and 2 BTC levels further out are not.
    assert side(levels, BUY) == [(D("99.8"), D("1.5")), (D("99.7"), D("2"))]
    assert side(levels, SELL) == [(D("100.2"), D("1.5")), (D("100.3"), D("2"))]


def test_bids_at_or_below_zero_are_not_quoted():
    params = QuoteParams(D("20000"), 2, D("10"), D("1"))

    levels = quote_levels(D("100"), params, RULES)

    assert side(levels, BUY) == []
    assert side(levels, SELL) == [(D("200"), D("1")), (D("200.1"), D("1"))]


def test_a_zero_spread_on_a_mid_on_the_tick_still_leaves_the_ask_above_the_bid():
    params = QuoteParams(D("0"), 2, D("5"), D("1"))

    levels = quote_levels(D("100"), params, RULES)

    assert side(levels, BUY) == [(D("100"), D("1")), (D("99.95"), D("1"))]
    assert side(levels, SELL) == [(D("100.01"), D("1")), (D("100.05"), D("1"))]


ticks = st.sampled_from([D("0.0001"), D("0.01"), D("0.5"), D("1"), D("5")])
steps = st.sampled_from([D("0.00001"), D("0.001"), D("0.1"), D("1")])


@st.composite
def markets(draw):
    tick, step = draw(ticks), draw(steps)
    return MarketRules(
        "BASE/QUOTE",
        "BASE",
        "QUOTE",
        tick,
        step,
        min_amount=draw(st.sampled_from([D("0"), step, step * 10])),
        min_cost=draw(st.sampled_from([D("0"), D("1"), D("10")])),
    )


quote_params = st.builds(
    QuoteParams,
    spread_bps=st.decimals(min_value=0, max_value=1000, places=2),
    levels=st.integers(1, 10),
    level_spacing_bps=st.decimals(min_value=0, max_value=3000, places=2),
    level_amount=st.decimals(min_value=D("0.00001"), max_value=100, places=5),
    amount_growth=st.decimals(min_value=0, max_value=2, places=2),
)
mids = st.decimals(min_value=D("0.01"), max_value=D("100000"), places=4)


@settings(max_examples=300, deadline=None)
@given(mids, quote_params, markets())
def test_quotes_are_ordered_uncrossed_on_the_grid_and_tradable(mid, params, rules):
    levels = quote_levels(mid, params, rules)
    bids = [lv.price for lv in levels if lv.side == BUY]
    asks = [lv.price for lv in levels if lv.side == SELL]

    assert len(bids) <= params.levels and len(asks) <= params.levels
    assert all(a > b for a, b in zip(bids, bids[1:], strict=False))
    assert all(a < b for a, b in zip(asks, asks[1:], strict=False))
    if bids and asks:
        assert max(bids) < min(asks)
        assert min(asks) - max(bids) >= mid * params.spread_bps / BPS
    for level in levels:
        assert level.price > 0
        assert on_grid(level.price, rules.price_tick)
        assert on_grid(level.amount, rules.amount_step)
        assert rules.is_tradable(level.amount, level.price)
    half = mid * params.spread_bps / 2 / BPS
    assert all(price <= mid - half for price in bids)
    assert all(price >= mid + half for price in asks)


@settings(max_examples=200, deadline=None)
@given(mids, quote_params, markets())
def test_quotes_hold_what_the_levels_ask_for_when_nothing_merges_or_drops(mid, params, rules):
    levels = quote_levels(mid, params, rules)
    wanted = [
        rules.round_amount(params.level_amount * (1 + params.amount_growth * i))
        for i in range(params.levels)
    ]

    for which in (BUY, SELL):
        amounts = [amount for _, amount in side(levels, which)]
        if len(amounts) == params.levels:
            assert amounts == wanted
        else:  # merged or dropped levels: never more than was asked for
            assert sum(amounts, D("0")) <= sum(wanted, D("0"))


# --- plan_refresh ---------------------------------------------------------------------------

DESIRED = [Level(BUY, D("99.9"), D("1")), Level(SELL, D("100.1"), D("1"))]


def test_an_order_within_tolerance_and_of_the_same_size_is_kept():
    open_orders = [
        OpenQuote("b", BUY, D("99.92"), D("1")),  # 2 bps away
        OpenQuote("s", SELL, D("100.07"), D("1")),  # 3 bps away
    ]

    plan = plan_refresh(DESIRED, open_orders, tolerance_bps=D("3"))

    assert (plan.keep, plan.cancel, plan.place) == (["b", "s"], [], [])


def test_an_order_beyond_tolerance_is_cancelled_and_replaced():
    open_orders = [
        OpenQuote("b", BUY, D("99.94"), D("1")),
        OpenQuote("s", SELL, D("100.1"), D("1")),
    ]

    plan = plan_refresh(DESIRED, open_orders, tolerance_bps=D("3"))

    assert (plan.keep, plan.cancel, plan.place) == (["s"], ["b"], [DESIRED[0]])


def test_a_partly_filled_order_is_cancelled_and_replaced_at_full_size():
    open_orders = [
        OpenQuote("b", BUY, D("99.9"), D("0.4")),
        OpenQuote("s", SELL, D("100.1"), D("1")),
    ]

    plan = plan_refresh(DESIRED, open_orders, tolerance_bps=D("3"))

    assert (plan.keep, plan.cancel, plan.place) == (["s"], ["b"], [DESIRED[0]])


def test_an_order_on_the_wrong_side_or_not_wanted_is_cancelled():
    open_orders = [
        OpenQuote("wrong-side", SELL, D("99.9"), D("1")),
        OpenQuote("extra", SELL, D("100.1"), D("1")),
        OpenQuote("s", SELL, D("100.1"), D("1")),
    ]

    plan = plan_refresh(DESIRED, open_orders, tolerance_bps=D("3"))

    assert plan.keep == ["extra"]
    assert sorted(plan.cancel) == ["s", "wrong-side"]
    assert plan.place == [DESIRED[0]]


def test_with_no_open_orders_everything_is_placed():
    plan = plan_refresh(DESIRED, [], tolerance_bps=D("3"))

    assert (plan.keep, plan.cancel, plan.place) == ([], [], DESIRED)


def _apply(plan, open_orders: list[OpenQuote]) -> list[OpenQuote]:
    """The open orders after the plan ran, in the order the venue lists them: oldest first."""
    kept = [o for o in open_orders if o.id in plan.keep]
    placed = [OpenQuote(f"new{i}", lv.side, lv.price, lv.amount) for i, lv in enumerate(plan.place)]
    return kept + placed


@st.composite
def desired_and_open(draw):
    mid = draw(st.decimals(min_value=D("10"), max_value=D("1000"), places=2))
    params = draw(quote_params.filter(lambda p: p.spread_bps > 0))
    desired = quote_levels(mid, params, RULES)
    open_orders = []
    for i, level in enumerate(desired):
        if draw(st.booleans()):
            moved = draw(st.integers(-30, 30))
            price = RULES.round_price(level.price * (1 + D(moved) / BPS), level.side)
            amount = level.amount if draw(st.booleans()) else level.amount / 2
            open_orders.append(OpenQuote(f"old{i}", level.side, price, amount))
    for j in range(draw(st.integers(0, 3))):
        open_orders.append(OpenQuote(f"stray{j}", draw(st.sampled_from([BUY, SELL])), mid, D("1")))
    return desired, draw(st.permutations(open_orders))


@settings(max_examples=300, deadline=None)
@given(desired_and_open(), st.decimals(min_value=0, max_value=50, places=1))
def test_planning_again_after_applying_a_plan_changes_nothing(case, tolerance_bps):
    desired, open_orders = case

    first = plan_refresh(desired, open_orders, tolerance_bps)
    after = _apply(first, open_orders)
    second = plan_refresh(desired, after, tolerance_bps)

    assert (second.cancel, second.place) == ([], [])
    assert sorted(second.keep) == sorted(o.id for o in after)
    assert len(after) == len(desired)
    assert sorted(first.keep + first.cancel) == sorted(o.id for o in open_orders)


# --- fit_to_budget --------------------------------------------------------------------------


def test_a_budget_that_backs_everything_drops_nothing():
    levels = quote_levels(D("100"), PARAMS, RULES)

    fitted, dropped = fit_to_budget(levels, free_base=D("4.5"), free_quote=D("449.1"))

    assert sorted(fitted, key=repr) == sorted(levels, key=repr)
    assert dropped == []


def test_a_short_budget_keeps_the_levels_nearest_the_mid():
    levels = quote_levels(D("100"), PARAMS, RULES)

    # The two nearest bids need 99.9 + 149.7 USDT; the two nearest asks 1 + 1.5 BTC.
    fitted, dropped = fit_to_budget(levels, free_base=D("3"), free_quote=D("250"))

    assert side(fitted, BUY) == [(D("99.9"), D("1")), (D("99.8"), D("1.5"))]
    assert side(fitted, SELL) == [(D("100.1"), D("1")), (D("100.2"), D("1.5"))]
    assert sorted(dropped, key=repr) == [
        Level(BUY, D("99.7"), D("2")),
        Level(SELL, D("100.3"), D("2")),
    ]


def test_an_account_out_of_an_asset_stops_quoting_that_side_only():
    levels = quote_levels(D("100"), PARAMS, RULES)

    fitted, dropped = fit_to_budget(levels, free_base=D("0"), free_quote=D("10000"))

    assert side(fitted, SELL) == []
    assert len(side(fitted, BUY)) == 3
    assert {lv.side for lv in dropped} == {SELL}


def _need(level: Level) -> D:
    return level.amount if level.side == SELL else level.amount * level.price


@settings(max_examples=200, deadline=None)
@given(
    mids,
    quote_params,
    st.decimals(min_value=0, max_value=1000, places=3),
    st.decimals(min_value=0, max_value=100000, places=2),
)
def test_a_level_is_dropped_only_when_the_nearer_kept_levels_leave_too_little(
    mid, params, free_base, free_quote
):
    levels = quote_levels(mid, params, RULES)

    fitted, dropped = fit_to_budget(levels, free_base, free_quote)

    assert sorted(fitted + dropped, key=repr) == sorted(levels, key=repr)
    for which, free in ((SELL, free_base), (BUY, free_quote)):
        nearest_first = sorted(
            (lv for lv in levels if lv.side == which),
            key=lambda lv: abs(lv.price - mid),
        )
        left = free
        for level in nearest_first:
            if level in fitted:
                assert _need(level) <= left
                left -= _need(level)
            else:
                assert _need(level) > left
