"""Refresh discipline: which resting orders stay, which go and why, and what is placed."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from bots.engine.market_making.hedge_floor import HedgeFloor, HedgeVenue
from bots.engine.market_making.protection import SideGates
from bots.engine.market_making.quote_config import DEFAULTS
from bots.engine.market_making.quoting import Funds, Level, QuoteContext, allowances, desired_quotes
from bots.engine.market_making.refresh import (
    AGED,
    REFRESH,
    TOO_CLOSE,
    UNPROFITABLE,
    RestingOrder,
    plan_orders,
)
from bots.engine.rules import BUY, SELL, MarketRules

RULES = MarketRules("B/Q", "B", "Q", D("0.01"), D("0.001"))
MID = D("100")
# A deep hedge book 1 bp either side of 100, no fees: the floor sits at 100.01 / 99.99.
DEEP = HedgeVenue("ext", [(D("99.99"), D("1000"))], [(D("100.01"), D("1000"))], D("0"), D("1e9"), D("1e12"))
FLOOR = HedgeFloor([DEEP], D("0"), D("0"))
CONFIG = DEFAULTS.replace(
    bid_spread_bps=D("10"), ask_spread_bps=D("10"), levels=2, level_spacing_bps=D("10"),
    level_amount=D("1"), amount_growth=D("0"), order_refresh_seconds=D("10"),
    refresh_tolerance_bps=D("3"), hedge_buffer_bps=D("0"),
)
PLENTY = {BUY: D("1e12"), SELL: D("1e9")}
DESIRED = [
    Level(BUY, D("99.9"), D("1")), Level(BUY, D("99.8"), D("1")),
    Level(SELL, D("100.1"), D("1")), Level(SELL, D("100.2"), D("1")),
]
NOW = 1_000_000


def plan(resting, config=CONFIG, gates=None, allowance=None, reference=MID, desired=DESIRED):
    return plan_orders(
        desired, resting, config, now_ms=NOW, reference=reference, floor=FLOOR,
        gates=gates or SideGates(), allowance=allowance or PLENTY,
    )


def order(oid, side, price, amount="1", age_s=60):
    return RestingOrder(oid, side, D(price), D(amount), NOW - age_s * 1000)


ON_TARGET = [
    order("b1", BUY, "99.9"), order("b2", BUY, "99.8"),
    order("s1", SELL, "100.1"), order("s2", SELL, "100.2"),
]


def test_orders_on_target_are_all_kept_and_carry_their_edge():
    result = plan(ON_TARGET)

    assert (sorted(result.keep), result.cancel, result.place) == (["b1", "b2", "s1", "s2"], [], [])
    [b1] = [lv for lv in result.book if lv.price == D("99.9")]
    assert b1.edge_bps == (D("99.99") - D("99.9")) / D("99.9") * 10000


def test_an_order_within_the_refresh_tolerance_is_kept():
    resting = [*ON_TARGET[1:], order("b1", BUY, "99.92")]  # 2 bps off

    assert plan(resting).cancel == []


def test_an_order_off_target_waits_for_the_refresh_time_then_is_replaced():
    young = [*ON_TARGET[1:], order("b1", BUY, "99.5", age_s=5)]
    old = [*ON_TARGET[1:], order("b1", BUY, "99.5", age_s=10)]

    assert (plan(young).cancel, plan(young).place) == ([], [])
    assert (plan(old).cancel, plan(old).place) == ([("b1", REFRESH)], [DESIRED[0]])


def test_an_order_older_than_the_max_age_is_replaced_even_on_target():
    config = CONFIG.replace(max_order_age_seconds=D("30"))
    resting = [
        order("b1", BUY, "99.9", age_s=20), order("b2", BUY, "99.8", age_s=20),
        order("s1", SELL, "100.1", age_s=29), order("s2", SELL, "100.2", age_s=31),
    ]

    result = plan(resting, config)

    assert (result.cancel, result.place) == ([("s2", AGED)], [DESIRED[3]])


def test_an_order_the_reference_came_too_close_to_is_cancelled():
    config = CONFIG.replace(minimum_spread_bps=D("5"))

    result = plan(ON_TARGET, config, reference=D("100.06"))  # 4 bps under s1

    assert ("s1", TOO_CLOSE) in result.cancel
    assert all(lv.price - D("100.06") >= D("0.05") for lv in result.place if lv.side == SELL)


def test_an_order_below_the_hedge_floor_goes_at_once_however_young():
    resting = [*ON_TARGET[:2], order("s1", SELL, "100.00", age_s=1), ON_TARGET[3]]

    result = plan(resting)

    assert ("s1", UNPROFITABLE) in result.cancel
    assert result.place == [DESIRED[2]]


def test_a_stopped_side_is_cancelled_and_a_held_side_only_places_nothing():
    gates = SideGates(stop={SELL: "exposure"}, no_new={BUY: "a hedge is pending"})
    resting = [order("b1", BUY, "99.9")]

    result = plan(resting, gates=gates)

    assert result.keep == ["b1"]
    assert result.place == []  # b2 is missing, but buys are held back
    assert plan([*resting, *ON_TARGET[2:]], gates=gates).cancel == [("s1", "exposure"), ("s2", "exposure")]


def test_a_held_side_keeps_its_orders_off_target_until_it_may_place_again():
    # The best bid was partly filled a moment ago (the filled-order delay holds buys back) and
    # the reference moved: both bids are off target and old enough to replace.
    resting = [order("b1", BUY, "99.5", amount="0.4"), order("b2", BUY, "99.4"), *ON_TARGET[2:]]
    held = SideGates(no_new={BUY: "filled 0.5 s ago"})

    during = plan(resting, gates=held)
    after = plan(resting)

    assert (during.cancel, during.place) == ([], [])
    assert [lv.price for lv in during.book if lv.side == BUY] == [D("99.5"), D("99.4")]
    assert after.cancel == [("b1", REFRESH), ("b2", REFRESH)]
    assert after.place == DESIRED[:2]


def test_new_orders_only_fill_the_allowance_left_by_kept_ones():
    resting = [order("s1", SELL, "100.1")]

    result = plan(resting, allowance={BUY: D("99.9"), SELL: D("1.5")})

    assert result.keep == ["s1"]
    assert result.place == [DESIRED[0]]  # 99.9 quote buys one bid; 0.5 base left is too little


def test_no_more_orders_than_levels_rest_on_a_side():
    # Two young orders off target keep their slots: nothing is placed beside them.
    resting = [order("b1", BUY, "99.5", age_s=1), order("b2", BUY, "99.4", age_s=1), *ON_TARGET[2:]]

    result = plan(resting)

    assert result.place == []
    assert sorted(result.keep) == ["b1", "b2", "s1", "s2"]


def test_a_level_inside_the_minimum_spread_is_not_placed():
    config = CONFIG.replace(minimum_spread_bps=D("5"))
    desired = [Level(SELL, D("100.03"), D("1"))]

    assert plan([], config, desired=desired).place == []


# --- properties ---------------------------------------------------------------------------


@st.composite
def markets_and_orders(draw):
    mid = draw(st.decimals(min_value=D("50"), max_value=D("200"), places=2))
    half = draw(st.decimals(min_value=0, max_value=20, places=1)) / 10000
    venue = HedgeVenue(
        "ext",
        [(mid * (1 - half - D(i) / 1000), D("2")) for i in range(10)],
        [(mid * (1 + half + D(i) / 1000), D("2")) for i in range(10)],
        D("0.001"), D("100"), D("1e9"),
    )
    config = DEFAULTS.replace(
        bid_spread_bps=draw(st.decimals(min_value=0, max_value=100, places=0)),
        ask_spread_bps=draw(st.decimals(min_value=0, max_value=100, places=0)),
        levels=draw(st.integers(1, 6)), level_spacing_bps=draw(st.decimals(min_value=0, max_value=30, places=0)),
        level_amount=D("0.5"), amount_growth=D("0.2"),
        refresh_tolerance_bps=draw(st.decimals(min_value=0, max_value=20, places=0)),
        order_refresh_seconds=D("10"),
        max_order_age_seconds=draw(st.sampled_from([D("0"), D("30")])),
        minimum_spread_bps=D("0"),
    )
    floor = HedgeFloor([venue], D("0"), config.hedge_buffer_bps)
    funds = Funds(D("10"), D("1e6"), D("10"), D("1e6"))
    ctx = QuoteContext(floor.reference(), floor, RULES, funds)
    resting = []
    for i in range(draw(st.integers(0, 8))):
        side = draw(st.sampled_from([BUY, SELL]))
        offset = draw(st.integers(-80, 80))
        price = RULES.round_price(mid * (1 + D(offset) / 10000), side)
        resting.append(RestingOrder(f"o{i}", side, price, D("0.5"), NOW - draw(st.integers(0, 60)) * 1000))
    return config, ctx, resting


@settings(max_examples=300, deadline=None)
@given(markets_and_orders())
def test_planning_again_after_the_plan_changes_nothing_and_the_book_clears_the_floor(case):
    config, ctx, resting = case
    levels = desired_quotes(config, ctx).levels
    allowance = allowances(config, ctx.funds)

    def run(orders):
        return plan_orders(
            levels, orders, config, now_ms=NOW, reference=ctx.reference, floor=ctx.floor,
            gates=SideGates(), allowance=allowance,
        )

    first = run(resting)
    assert sorted(first.keep + [oid for oid, _ in first.cancel]) == sorted(o.id for o in resting)
    after = [o for o in resting if o.id in first.keep] + [
        RestingOrder(f"new{i}", lv.side, lv.price, lv.amount, NOW) for i, lv in enumerate(first.place)
    ]
    second = run(after)

    assert (second.cancel, second.place) == ([], [])
    for side in (BUY, SELL):
        before = D("0")
        side_book = [lv for lv in first.book if lv.side == side]
        assert len(side_book) <= max(config.levels, sum(1 for o in after if o.side == side))
        for level in side_book:
            assert ctx.floor.respects(side, level.price, before, level.amount)
            before += level.amount


def test_a_kept_order_at_the_price_of_a_new_one_is_kept_on_the_next_tick():
    # Found by the property above: a young resting ask at the price of a new, larger level.
    # Judged in list order, the pair passed when the resting order came first and failed when
    # the plan ran again with the new order listed first, so a kept order was cancelled for
    # nothing on the next tick.
    mid = D("50.00")
    venue = HedgeVenue(
        "ext",
        [(mid * (1 - D(i) / 1000), D("2")) for i in range(10)],
        [(mid * (1 + D(i) / 1000), D("2")) for i in range(10)],
        D("0.001"), D("100"), D("1e9"),
    )
    config = DEFAULTS.replace(
        bid_spread_bps=D("0"), ask_spread_bps=D("0"), levels=4, level_spacing_bps=D("0"),
        level_amount=D("0.5"), amount_growth=D("0.2"), refresh_tolerance_bps=D("0"),
        order_refresh_seconds=D("10"), max_order_age_seconds=D("0"), minimum_spread_bps=D("0"),
        hedge_buffer_bps=D("2"),
    )
    floor = HedgeFloor([venue], D("0"), config.hedge_buffer_bps)
    ctx = QuoteContext(floor.reference(), floor, RULES, Funds(D("10"), D("1e6"), D("10"), D("1e6")))
    young = RestingOrder("o0", SELL, D("50.07"), D("0.5"), NOW)

    levels = desired_quotes(config, ctx).levels
    run = lambda orders: plan_orders(  # noqa: E731
        levels, orders, config, now_ms=NOW, reference=ctx.reference, floor=floor,
        gates=SideGates(), allowance=allowances(config, ctx.funds),
    )
    first = run([young])
    after = [young] * (young.id in first.keep) + [
        RestingOrder(f"new{i}", lv.side, lv.price, lv.amount, NOW) for i, lv in enumerate(first.place)
    ]
    assert (run(after).cancel, run(after).place) == ([], [])
