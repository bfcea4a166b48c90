"""Routing a hedge: best price net of taker fee, within balance, healthy venues first."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from bots.engine.books import sweep
from bots.engine.hedging.hedge_order import HedgeParams
from bots.engine.hedging.hedge_routing import (
    BELOW_MINIMUM,
    CAP_TOO_SMALL,
    NO_BOOK,
    SHORT_OF_BALANCE,
    VenueView,
    net_price,
    plan_route,
)
from bots.engine.rules import BUY, SELL, MarketRules

PARAMS = HedgeParams(slippage_bps=D("20"), ladder_steps=2, ladder_step_bps=D("10"))


def rules(taker_fee: str = "0.001", min_cost: str = "5") -> MarketRules:
    return MarketRules(
        "BTC/USDT", "BTC", "USDT", D("0.01"), D("0.00001"),
        min_amount=D("0.00001"), min_cost=D(min_cost), taker_fee=D(taker_fee),
    )


def venue(name, ask="100", bid="99", depth="10", fee="0.001", base="100", quote="1000000", healthy=True,
          min_cost="5"):
    return VenueView(
        name=name,
        rules=rules(fee, min_cost),
        bids=[(D(bid), D(depth))],
        asks=[(D(ask), D(depth))],
        free_base=D(base),
        free_quote=D(quote),
        healthy=healthy,
    )


def test_one_venue_gets_one_order_at_the_protection_price():
    route = plan_route(BUY, D("1"), [venue("a")], PARAMS)

    [order] = route.orders
    assert (order.venue, order.side, order.amount) == ("a", BUY, D("1"))
    assert (order.expected_price, order.limit_price) == (D("100"), D("100.20"))
    assert (route.unplaced, route.reason) == (D("0"), "")


def test_the_ladder_step_widens_the_limit():
    route = plan_route(SELL, D("1"), [venue("a")], PARAMS, step=2)

    assert route.orders[0].limit_price == D("98.61")  # 99 less 40 bps is 98.604: rounded up


def test_the_hedge_goes_where_the_price_net_of_fee_is_best():
    # b's ask is lower but its fee eats the difference: 100 * 1.001 < 99.95 * 1.002.
    cheap_but_costly = venue("b", ask="99.95", fee="0.002")
    route = plan_route(BUY, D("1"), [cheap_but_costly, venue("a", ask="100", fee="0.001")], PARAMS)

    assert [o.venue for o in route.orders] == ["a"]
    assert net_price(BUY, D("100"), D("0.001")) < net_price(BUY, D("99.95"), D("0.002"))
    cheaper_still = venue("b", ask="99.85", fee="0.002")  # 100.0497 < 100.1: now b wins
    assert [o.venue for o in plan_route(BUY, D("1"), [venue("a"), cheaper_still], PARAMS).orders] == ["b"]


def test_a_sell_goes_to_the_highest_bid_net_of_fee():
    route = plan_route(SELL, D("1"), [venue("a", bid="99"), venue("b", bid="99.5")], PARAMS)

    assert [o.venue for o in route.orders] == ["b"]


def test_the_price_for_the_size_decides_not_the_top_of_the_book():
    thin = VenueView("thin", rules(), [], [(D("99"), D("0.1")), (D("103"), D("10"))], D("0"), D("1e6"))
    route = plan_route(BUY, D("2"), [thin, venue("deep", ask="100")], PARAMS)

    assert [o.venue for o in route.orders] == ["deep"]


def test_what_the_best_venues_balance_cannot_cover_goes_to_the_next():
    best = venue("best", ask="99", quote="49.5")  # buys 0.49904 at its 99.19 limit
    route = plan_route(BUY, D("1"), [best, venue("next", ask="100")], PARAMS)

    amounts = {o.venue: o.amount for o in route.orders}
    assert amounts["best"] == D("0.49904")  # floor(49.5 / 99.19, step)
    assert amounts["best"] + amounts["next"] == D("1")
    [short] = route.shortfalls
    assert (short.venue, short.asset, short.free) == ("best", "USDT", D("49.5"))


def test_short_everywhere_places_what_the_balance_allows_and_says_why():
    route = plan_route(SELL, D("1"), [venue("a", base="0.3")], PARAMS)

    assert [o.amount for o in route.orders] == [D("0.3")]
    assert (route.unplaced, route.reason) == (D("0.7"), SHORT_OF_BALANCE)
    assert "needs 1 BTC, has 0.3" in route.note


def test_a_failing_venue_is_skipped_while_another_is_healthy():
    route = plan_route(BUY, D("1"), [venue("down", ask="90", healthy=False), venue("up")], PARAMS)

    assert [o.venue for o in route.orders] == ["up"]


def test_when_every_venue_failed_lately_they_are_all_tried():
    route = plan_route(BUY, D("1"), [venue("a", healthy=False)], PARAMS)

    assert [o.venue for o in route.orders] == ["a"]


def test_an_amount_below_every_minimum_is_left_for_netting():
    route = plan_route(BUY, D("0.00004"), [venue("a"), venue("b")], PARAMS)  # 0.004 USDT

    assert route.orders == ()
    assert (route.unplaced, route.reason) == (D("0.00004"), BELOW_MINIMUM)
    assert "below every hedge venue's minimum" in route.note


def test_no_book_anywhere_is_its_own_reason():
    empty = VenueView("a", rules(), [], [], D("1"), D("1"))

    assert plan_route(SELL, D("1"), [empty], PARAMS).reason == NO_BOOK


def test_a_big_hedge_is_split_under_the_cap():
    params = HedgeParams(D("20"), max_notional=D("30"))
    route = plan_route(BUY, D("1"), [venue("a")], params)

    assert len(route.orders) == 4  # 100.2 USDT at the limit, at most 30 each
    assert sum(o.amount for o in route.orders) == D("1")
    assert all(o.amount * o.limit_price <= D("30") for o in route.orders)


def test_a_cap_below_the_venues_minimum_cannot_hedge():
    route = plan_route(BUY, D("1"), [venue("a", min_cost="50")], HedgeParams(D("20"), max_notional=D("40")))

    assert (route.orders, route.reason) == ((), CAP_TOO_SMALL)


views = st.lists(
    st.builds(
        lambda ask, fee, depth, quote, base, healthy: VenueView(
            "", rules(str(fee)), [(ask - D("0.5"), depth)], [(ask, depth)], base, quote, healthy
        ),
        st.integers(9000, 11000).map(lambda n: D(n) / 100),
        st.sampled_from([D("0"), D("0.0005"), D("0.001"), D("0.002")]),
        st.integers(1, 500).map(lambda n: D(n) / 100),
        st.integers(0, 100000).map(D),
        st.integers(0, 1000).map(lambda n: D(n) / 100),
        st.booleans(),
    ),
    min_size=1,
    max_size=4,
).map(lambda found: [replace(v, name=str(i)) for i, v in enumerate(found)])


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([BUY, SELL]), st.integers(1, 1_000_000).map(lambda n: n * D("0.00001")), views)
def test_a_route_never_exceeds_the_hedge_a_balance_or_its_bound(side, amount, venues):
    route = plan_route(side, amount, venues, PARAMS)

    by_name = {v.name: v for v in venues}
    assert sum(o.amount for o in route.orders) + route.unplaced == amount
    assert route.unplaced >= 0 and (route.unplaced == 0) == (route.reason == "")
    for name in {o.venue for o in route.orders}:
        view, mine = by_name[name], [o for o in route.orders if o.venue == name]
        if side == BUY:
            assert sum(o.amount * o.limit_price for o in mine) <= view.free_quote
        else:
            assert sum(o.amount for o in mine) <= view.free_base
        levels = view.asks if side == BUY else view.bids
        vwap = sweep(levels, sum(o.amount for o in mine))[0]
        for order in mine:
            assert order.expected_price == vwap
            bound = vwap * (1 + (1 if side == BUY else -1) * PARAMS.slippage_bps / 10000)
            assert order.limit_price <= bound if side == BUY else order.limit_price >= bound
            assert view.rules.is_tradable(order.amount, order.limit_price)
    if any(v.healthy for v in venues):
        assert all(by_name[o.venue].healthy for o in route.orders)
