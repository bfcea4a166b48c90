"""The desired book, by example: fixed spreads, the floor lifting a level, mirror mode,
Avellaneda-Stoikov, GLFT, inventory skew, the budget and an unhedgeable side."""

from __future__ import annotations

from decimal import Decimal as D

from bots.engine.market_making.glft import GlftParams, glft_quote
from bots.engine.market_making.hedge_floor import HedgeFloor, HedgeVenue
from bots.engine.market_making.quote_config import DEFAULTS
from bots.engine.market_making.quoting import Funds, QuoteContext, desired_quotes, nearest_first
from bots.engine.rules import BUY, SELL, MarketRules

RULES = MarketRules("B/Q", "B", "Q", D("0.01"), D("0.001"), min_amount=D("0.001"))
# Ten levels of 1 each side, 1, 2, ... 10 bps from 100; a 10 bps taker fee.
BOOK = HedgeVenue(
    "ext",
    [(D(100) * (1 - D(i + 1) / 10000), D("1")) for i in range(10)],
    [(D(100) * (1 + D(i + 1) / 10000), D("1")) for i in range(10)],
    D("0.001"), D("1000"), D("1000000"),
)
FLAT = Funds(D("10"), D("1000"), D("10"), D("1000"))  # 50% base at 100
BASE = DEFAULTS.replace(
    bid_spread_bps=D("20"), ask_spread_bps=D("20"), levels=3, level_spacing_bps=D("10"),
    level_amount=D("0.5"), amount_growth=D("0"), hedge_buffer_bps=D("2"),
)


def quote(config=BASE, funds=FLAT, venues=(BOOK,), sigma=D("0")):
    floor = HedgeFloor(list(venues), D("0"), config.hedge_buffer_bps)
    return desired_quotes(config, QuoteContext(floor.reference(), floor, RULES, funds, sigma))


def prices(q, side):
    return [lv.price for lv in nearest_first(q.levels, side)]


def amounts(q, side):
    return [lv.amount for lv in nearest_first(q.levels, side)]


def test_fixed_spreads_around_the_reference_when_they_clear_the_floor():
    q = quote()

    assert prices(q, SELL) == [D("100.2"), D("100.3"), D("100.4")]
    assert prices(q, BUY) == [D("99.8"), D("99.7"), D("99.6")]
    assert q.notes == []
    # The first ask's hedge costs 100.01 + 10 bps: 100.110 01 per unit.
    [first, *_] = nearest_first(q.levels, SELL)
    assert first.edge_bps == (D("100.2") - D("100.01") * D("1.001")) / D("100.2") * 10000


def test_a_level_inside_the_floor_is_lifted_to_it():
    q = quote(BASE.replace(ask_spread_bps=D("5")))

    floor = D("100.01") * D("1.001") / D("0.9998")  # 100.130 03..., rounded up to the tick
    assert prices(q, SELL)[0] == D("100.14") > floor
    assert nearest_first(q.levels, SELL)[0].edge_bps >= 2


def test_mirror_mode_copies_the_hedge_depth_scaled_and_marked_up():
    q = quote(BASE.replace(mode="mirror", mirror_fraction=D("0.4"), levels=4))

    assert amounts(q, SELL) == [D("0.4")] * 4 and amounts(q, BUY) == [D("0.4")] * 4
    markup = D("1.001") / D("0.9998")  # the taker fee and the 2 bps buffer
    expected = [RULES.round_price(price * markup, SELL) for price, _ in BOOK.asks[:4]]
    assert prices(q, SELL) == expected  # one level per hedge level, its shape kept
    for level in q.levels:
        assert level.edge_bps >= 2


def test_avellaneda_stoikov_leans_away_from_a_long_inventory():
    config = BASE.replace(mode="avellaneda", as_gamma=D("0.05"), as_kappa=D("0.05"))
    flat = quote(config, sigma=D("3"))
    long = quote(config, funds=Funds(D("12"), D("800"), D("12"), D("800")), sigma=D("3"))

    assert flat.reservation_bps == 0 and long.reservation_bps < 0
    assert prices(long, SELL)[0] < prices(flat, SELL)[0]
    assert prices(long, BUY)[0] < prices(flat, BUY)[0]


def test_volatility_widens_the_avellaneda_stoikov_spread():
    config = BASE.replace(mode="avellaneda", as_gamma=D("0.05"), as_kappa=D("0.05"))
    calm, wild = quote(config, sigma=D("1")), quote(config, sigma=D("6"))

    assert prices(wild, SELL)[0] - prices(wild, BUY)[0] > prices(calm, SELL)[0] - prices(calm, BUY)[0]


def test_too_much_base_grows_the_asks_shrinks_the_bids_and_lowers_both():
    config = BASE.replace(inventory_skew=True, inventory_range_multiplier=D("1"), skew_price_bps=D("10"))
    # 11 base at 100 plus 900 quote: the 50% target is 10 base; one side's levels total 1.5.
    q = quote(config, funds=Funds(D("11"), D("900"), D("11"), D("900")))

    skew = (D("1") / D("1.5")).quantize(D("1e-18"))  # the skew is kept to 18 decimals
    assert q.skew == skew
    assert amounts(q, SELL) == [RULES.round_amount(D("0.5") * (1 + skew))] * 3
    assert amounts(q, BUY) == [RULES.round_amount(D("0.5") * (1 - skew))] * 3
    assert prices(q, SELL)[0] < D("100.2") and prices(q, BUY)[0] < D("99.8")


def test_the_budget_keeps_the_levels_nearest_the_mid_and_says_what_is_left_out():
    q = quote(BASE.replace(ask_budget_base=D("1.5"), reserve_base=D("0")), funds=Funds(D("10"), D("1000"), D("1.2"), D("1000")))

    assert amounts(q, SELL) == [D("0.5"), D("0.5")]
    assert "1 sell level(s) not quoted: the base budget or balance is spent" in q.notes


def test_a_side_the_hedge_account_cannot_cover_stops_where_its_balance_ends():
    short = HedgeVenue("ext", BOOK.bids, BOOK.asks, D("0.001"), free_base=D("0.7"), free_quote=D("1000000"))

    q = quote(venues=(short,))

    assert amounts(q, BUY) == [D("0.5")]  # a second bid would need 1.0 base sold on the hedge venue
    assert len(amounts(q, SELL)) == 3
    assert "buy side stops at 0.5: no hedge venue can hedge more (thin book or short balance)" in q.notes


GLFT = BASE.replace(mode="glft", glft_a=D("1"), glft_k=D("0.05"), glft_gamma=D("0.02"), glft_q_limit=D("4"))


def test_glft_quotes_its_depths_around_the_reference_and_leans_away_from_a_long_inventory():
    flat = quote(GLFT, sigma=D("2"))
    # 11 base at 100 plus 900 quote: the 50% target is 10 base, one base beyond it, which is
    # q = 2 level sizes of 0.5.
    long = quote(GLFT, funds=Funds(D("11"), D("900"), D("11"), D("900")), sigma=D("2"))

    model = glft_quote(D(0), D("2"), GlftParams(D("1"), D("0.05"), D("0.02"), D("1")))
    assert prices(flat, SELL)[0] == RULES.round_price(D(100) * (1 + model.ask_depth / 10000), SELL)
    assert prices(flat, BUY)[0] == RULES.round_price(D(100) * (1 - model.bid_depth / 10000), BUY)
    assert prices(long, SELL)[0] < prices(flat, SELL)[0]
    assert prices(long, BUY)[0] < prices(flat, BUY)[0]
    assert long.notes == [] and all(lv.edge_bps >= 2 for lv in long.levels)
    assert flat.reservation_bps == 0 and long.reservation_bps < 0


def test_glft_stops_the_bid_when_a_fill_would_pass_the_inventory_limit():
    # 12 base is 2 beyond the target: q = 4 level sizes, at the limit Q = 4.
    q = quote(GLFT, funds=Funds(D("12"), D("800"), D("12"), D("800")), sigma=D("2"))

    assert prices(q, BUY) == [] and len(prices(q, SELL)) == 3
    assert "buy side off: a fill would take the inventory beyond the GLFT limit Q (4 level sizes)" in q.notes


def test_glft_is_held_to_the_hedge_floor():
    # A huge long inventory pulls the ask through the reference; the floor keeps it above the
    # hedge's cost.
    config = GLFT.replace(glft_q_limit=D("0"), glft_gamma=D("5"))
    q = quote(config, funds=Funds(D("30"), D("100"), D("30"), D("100")), sigma=D("10"))

    assert all(lv.edge_bps >= 2 for lv in q.levels)
    assert prices(q, SELL)[0] > D("100.01") * D("1.001")
