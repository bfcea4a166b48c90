"""The hedge-aware floor: what each level's hedge costs, on which venue, and the edge left."""

from __future__ import annotations

from decimal import Decimal as D

from bots.engine.market_making.hedge_floor import HedgeFloor, HedgeVenue
from bots.engine.rules import BUY, SELL

BOOK = {"bids": [(D("99"), D("1")), (D("98"), D("1"))], "asks": [(D("100"), D("1")), (D("101"), D("1"))]}
RICH = {"free_base": D("100"), "free_quote": D("1000000")}


def venue(name="ext", taker="0.001", bids=None, asks=None, **funds) -> HedgeVenue:
    return HedgeVenue(
        name, bids if bids is not None else BOOK["bids"], asks if asks is not None else BOOK["asks"],
        D(taker), **{**RICH, **funds},
    )


def test_an_ask_costs_the_hedge_buy_plus_its_taker_fee():
    floor = HedgeFloor([venue()], own_maker_fee=D("0"), buffer_bps=D("0"))

    cost = floor.hedge_cost(SELL, D("0"), D("1"))

    assert (cost.venue, cost.unit) == ("ext", D("100.1"))
    assert floor.limit(SELL, D("0"), D("1")) == D("100.1")


def test_a_level_further_out_pays_for_the_book_its_nearer_levels_left():
    floor = HedgeFloor([venue()], own_maker_fee=D("0"), buffer_bps=D("0"))

    # The second unit can only be bought at 101: its marginal price, above the 100.5 average.
    assert floor.hedge_cost(SELL, D("1"), D("1")).unit == D("101") * D("1.001")
    # A single level of both units pays their average.
    assert floor.hedge_cost(SELL, D("0"), D("2")).unit == D("100.5") * D("1.001")


def test_a_bid_yields_the_hedge_sale_less_its_taker_fee():
    floor = HedgeFloor([venue()], own_maker_fee=D("0"), buffer_bps=D("0"))

    assert floor.hedge_cost(BUY, D("0"), D("1")).unit == D("99") * D("0.999")
    assert floor.hedge_cost(BUY, D("1"), D("1")).unit == D("98") * D("0.999")


def test_the_floor_grosses_up_for_the_own_maker_fee_and_buffer_so_the_edge_is_the_buffer():
    floor = HedgeFloor([venue()], own_maker_fee=D("0.001"), buffer_bps=D("10"))

    ask = floor.limit(SELL, D("0"), D("1"))
    bid = floor.limit(BUY, D("0"), D("1"))

    assert ask == D("100.1") / D("0.998")
    assert bid == D("98.901") / D("1.002")
    assert round(floor.edge_bps(SELL, ask, D("0"), D("1")), 12) == D("10")
    assert round(floor.edge_bps(BUY, bid, D("0"), D("1")), 12) == D("10")
    assert floor.respects(SELL, ask, D("0"), D("1"))
    assert not floor.respects(SELL, ask - D("0.01"), D("0"), D("1"))
    assert floor.respects(BUY, bid, D("0"), D("1"))
    assert not floor.respects(BUY, bid + D("0.01"), D("0"), D("1"))


def test_the_edge_of_a_quote_below_its_hedge_cost_is_negative():
    floor = HedgeFloor([venue()], own_maker_fee=D("0"), buffer_bps=D("0"))

    assert floor.edge_bps(SELL, D("100"), D("0"), D("1")) == (D("100") - D("100.1")) / D("100") * 10000


def test_a_size_the_book_cannot_fill_cannot_be_hedged():
    floor = HedgeFloor([venue()], own_maker_fee=D("0"), buffer_bps=D("0"))

    assert floor.limit(SELL, D("1.5"), D("1")) is None
    assert floor.edge_bps(BUY, D("90"), D("2"), D("0.1")) is None
    assert not floor.respects(SELL, D("1000"), D("2"), D("1"))


def test_a_hedge_account_short_of_funds_cannot_hedge():
    short_quote = HedgeFloor([venue(free_quote=D("150"))], D("0"), D("0"))
    short_base = HedgeFloor([venue(free_base=D("0.5"))], D("0"), D("0"))

    assert short_quote.limit(SELL, D("0"), D("1")) == D("100.1")
    assert short_quote.limit(SELL, D("1"), D("1")) is None  # 2 units cost 201.2
    assert short_base.limit(BUY, D("0"), D("0.5")) is not None
    assert short_base.limit(BUY, D("0"), D("1")) is None


def test_the_best_venue_with_the_balance_to_hedge_sets_the_floor():
    cheap_but_broke = venue("cheap", asks=[(D("99.5"), D("5"))], free_quote=D("10"))
    dear = venue("dear", asks=[(D("100.5"), D("5"))])
    cheap_fees = venue("lowfee", taker="0", asks=[(D("100.55"), D("5"))])
    floor = HedgeFloor([cheap_but_broke, dear, cheap_fees], D("0"), D("0"))

    cost = floor.hedge_cost(SELL, D("0"), D("1"))

    # dear: 100.5 * 1.001 = 100.6005; lowfee: 100.55 with no fee is better.
    assert (cost.venue, cost.unit) == ("lowfee", D("100.55"))


def test_the_reference_is_the_mid_of_the_best_bid_and_ask_across_venues():
    floor = HedgeFloor(
        [venue("a"), venue("b", bids=[(D("99.5"), D("1"))], asks=[(D("100.5"), D("1"))])], D("0"), D("0")
    )

    assert floor.reference() == (D("99.5") + D("100")) / 2


def test_a_venue_with_an_empty_side_is_no_reference():
    floor = HedgeFloor([venue(bids=[])], D("0"), D("0"))

    assert floor.reference() is None
    assert floor.limit(SELL, D("0"), D("1")) is None


def test_mirror_mode_copies_the_venue_with_the_best_first_price_that_can_hedge():
    a = venue("a", taker="0.002", asks=[(D("100"), D("1"))])
    b = venue("b", taker="0", asks=[(D("100.1"), D("1"))])
    broke = venue("broke", taker="0", asks=[(D("99"), D("1"))], free_quote=D("0"), free_base=D("0"))
    floor = HedgeFloor([a, b, broke], D("0"), D("0"))

    assert floor.mirror_source(SELL).name == "b"  # 100.1 beats 100 * 1.002
    assert floor.mirror_source(BUY).name == "b"  # 99 * 1 beats 99 * 0.998
