"""Properties of the desired book over generated hedge books, balances and settings.

Whatever the mode, inventory or venues: every bid is below every ask, each side's levels move
away from the mid, nothing exceeds the budget, every level clears the hedge-aware floor for its
cumulative size (and a user sweeping levels 1..k leaves the bot in profit after hedging them),
and every order is on the venue's grid and above its minimums. The floor is recomputed here
from the books, independently of bots.engine.market_making.hedge_floor.
"""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bots.engine.market_making.hedge_floor import HedgeFloor, HedgeVenue
from bots.engine.market_making.quote_config import DEFAULTS, MODES, InvalidSettings
from bots.engine.market_making.quoting import (
    Funds,
    QuoteContext,
    allowances,
    desired_quotes,
    nearest_first,
)
from bots.engine.rules import BPS, BUY, SELL, MarketRules, on_grid


def spec_total(venues: list[HedgeVenue], side: str, size: D) -> D | None:
    """What hedging `size` costs (asks) or yields (bids) on the best venue able to, fees in."""
    best = None
    for v in venues:
        if not v.bids or not v.asks:
            continue
        left, cost = size, D("0")
        for price, amount in v.asks if side == SELL else v.bids:
            take = min(left, amount)
            cost += take * price
            left -= take
        if left > 0:
            continue
        if side == SELL:
            total = cost * (1 + v.taker_fee)
            if total <= v.free_quote and (best is None or total < best):
                best = total
        elif size <= v.free_base:
            total = cost * (1 - v.taker_fee)
            if best is None or total > best:
                best = total
    return best


def spec_floor(venues, side, cumulative, maker, buffer_bps) -> D | None:
    """The issue's rule: the volume-weighted hedge price of the cumulative size, fees, buffer."""
    total = spec_total(venues, side, cumulative)
    if total is None:
        return None
    unit = total / cumulative
    buffer = buffer_bps / BPS
    return unit / (1 - maker - buffer) if side == SELL else unit / (1 + maker + buffer)


# Mostly plenty, sometimes little or nothing: balances that bind now and then.
amounts = st.one_of(
    st.sampled_from([D("1000"), D("100")]), st.decimals(min_value=0, max_value=20, places=3)
)


@st.composite
def hedge_venue(draw, mid: D, name: str) -> HedgeVenue:
    half = draw(st.decimals(min_value=0, max_value=30, places=1))
    spacing = draw(st.decimals(min_value=D("0.5"), max_value=20, places=1))
    count = draw(st.integers(1, 15))
    size = draw(st.decimals(min_value=D("0.01"), max_value=5, places=2))

    def side(sign):
        return [(mid * (1 + sign * (half + spacing * i) / BPS), size * (1 + D(i) / 4)) for i in range(count)]

    return HedgeVenue(
        name, side(-1), side(1),
        draw(st.sampled_from([D("0"), D("0.0005"), D("0.001"), D("0.0025")])),
        free_base=draw(amounts),
        free_quote=mid * draw(amounts),
    )


@st.composite
def cases(draw):
    mid = draw(st.decimals(min_value=D("0.5"), max_value=D("100000"), places=2))
    tick = draw(st.sampled_from([D("0.0001"), D("0.01"), D("0.5"), D("1")]).filter(lambda t: t * 200 <= mid))
    step = draw(st.sampled_from([D("0.00001"), D("0.001"), D("0.1")]))
    rules = MarketRules(
        "B/Q", "B", "Q", tick, step,
        min_amount=draw(st.sampled_from([D("0"), step, step * 10])),
        min_cost=draw(st.sampled_from([D("0"), D("1"), D("10")])),
        maker_fee=draw(st.sampled_from([D("0"), D("0.0002"), D("0.001")])),
    )
    venues = [draw(hedge_venue(mid, f"v{i}")) for i in range(draw(st.integers(1, 3)))]
    try:
        config = DEFAULTS.replace(
            mode=draw(st.sampled_from(MODES)),
            bid_spread_bps=draw(st.decimals(min_value=0, max_value=200, places=1)),
            ask_spread_bps=draw(st.decimals(min_value=0, max_value=200, places=1)),
            levels=draw(st.integers(1, 10)),
            level_spacing_bps=draw(st.decimals(min_value=0, max_value=50, places=1)),
            level_amount=draw(st.decimals(min_value=D("0.001"), max_value=3, places=3)),
            amount_growth=draw(st.decimals(min_value=D("-0.1"), max_value=1, places=2)),
            ask_budget_base=draw(st.sampled_from([D("0"), D("0"), D("2"), D("30")])),
            bid_budget_quote=draw(st.sampled_from([D("0"), D("0"), mid * 2, mid * 30])),
            reserve_base=draw(st.sampled_from([D("0"), D("0.5")])),
            reserve_quote=draw(st.sampled_from([D("0"), mid / 2])),
            hedge_buffer_bps=draw(st.decimals(min_value=0, max_value=30, places=1)),
            mirror_fraction=draw(st.decimals(min_value=D("0.1"), max_value=1, places=2)),
            inventory_skew=draw(st.booleans()),
            target_base_pct=draw(st.decimals(min_value=0, max_value=100, places=0)),
            skew_price_bps=draw(st.decimals(min_value=0, max_value=50, places=0)),
            as_gamma=draw(st.sampled_from([D("0.001"), D("0.02"), D("1")])),
            as_kappa=draw(st.sampled_from([D("0.01"), D("0.1"), D("10")])),
            glft_a=draw(st.sampled_from([D("0.01"), D("1"), D("100")])),
            glft_k=draw(st.sampled_from([D("0.01"), D("0.1"), D("10")])),
            glft_gamma=draw(st.sampled_from([D("0.001"), D("0.02"), D("1")])),
            glft_xi=draw(st.sampled_from([D("0"), D("0.05")])),
            glft_q_limit=draw(st.sampled_from([D("0"), D("1"), D("10")])),
        )
    except InvalidSettings:
        assume(False)
    base = draw(amounts)
    quote = mid * draw(amounts)
    funds = Funds(base, quote, base * draw(st.sampled_from([D("1"), D("0.5")])), quote)
    sigma = draw(st.decimals(min_value=0, max_value=20, places=2))
    floor = HedgeFloor(venues, rules.maker_fee, config.hedge_buffer_bps)
    assume(floor.reference() is not None)
    return config, QuoteContext(floor.reference(), floor, rules, funds, sigma), venues


@settings(max_examples=400, deadline=None)
@given(cases())
def test_the_desired_book_keeps_every_invariant(case):
    config, ctx, venues = case
    levels = desired_quotes(config, ctx).levels
    bids, asks = nearest_first(levels, BUY), nearest_first(levels, SELL)

    if bids and asks:
        assert bids[0].price < asks[0].price
    for side_levels in (bids, asks):
        assert len(side_levels) <= config.levels or config.mode == "mirror"
        prices = [lv.price for lv in side_levels]
        assert len(set(prices)) == len(prices)  # strictly away from the mid, no two at one price

    allowance = allowances(config, ctx.funds)
    assert sum((lv.amount for lv in asks), D("0")) <= allowance[SELL]
    assert sum((lv.amount * lv.price for lv in bids), D("0")) <= allowance[BUY]

    maker, buffer = ctx.rules.maker_fee, config.hedge_buffer_bps
    for side, side_levels in ((SELL, asks), (BUY, bids)):
        cumulative, proceeds = D("0"), D("0")
        for level in side_levels:
            cumulative += level.amount
            floor = spec_floor(venues, side, cumulative, maker, buffer)
            assert floor is not None, "a level that no venue can hedge"
            assert level.price >= floor if side == SELL else level.price <= floor
            # Sweeping every level up to here and hedging it all still keeps the buffer.
            proceeds += level.price * level.amount
            hedge = spec_total(venues, side, cumulative)
            keep = buffer / BPS
            if side == SELL:
                assert proceeds * (1 - maker - keep) >= hedge
            else:
                assert proceeds * (1 + maker + keep) <= hedge
            assert level.edge_bps is not None and level.edge_bps >= buffer - D("1e-9")

    for level in levels:
        assert level.price > 0
        assert on_grid(level.price, ctx.rules.price_tick)
        assert on_grid(level.amount, ctx.rules.amount_step)
        assert ctx.rules.is_tradable(level.amount, level.price)


@settings(max_examples=200, deadline=None)
@given(cases())
def test_a_stopped_side_quotes_nothing_and_the_other_side_is_unchanged(case):
    config, ctx, _ = case
    both = desired_quotes(config, ctx).levels
    stopped = QuoteContext(
        ctx.reference, ctx.floor, ctx.rules, ctx.funds, ctx.sigma_bps, stopped={BUY: "test"}
    )

    levels = desired_quotes(config, stopped).levels

    assert nearest_first(levels, BUY) == []
    if not config.inventory_skew:
        assert nearest_first(levels, SELL) == nearest_first(both, SELL)
