"""Where the market-making bot wants its orders: the levels of each side, priced by the mode,
skewed by inventory, held to the hedge-aware floor, rounded to the venue's grid and fitted to
the budget. Which resting orders must change to get there is bots.engine.market_making.refresh.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from itertools import groupby

from bots.engine.market_making.glft import GlftParams, glft_quote
from bots.engine.market_making.hedge_floor import HedgeFloor
from bots.engine.market_making.quote_config import AVELLANEDA, GLFT, MIRROR, QuoteConfig
from bots.engine.market_making.skew import base_share_target, inventory_skew, size_factors
from bots.engine.market_making.volatility import avellaneda_stoikov
from bots.engine.rules import BPS, BUY, SELL, SIDES, ZERO, MarketRules


@dataclass(frozen=True)
class QuoteParams:
    spread_bps: Decimal  # distance between the best bid and the best ask
    levels: int  # orders per side
    level_spacing_bps: Decimal  # distance between consecutive levels of a side
    level_amount: Decimal  # base amount of the level nearest the mid
    amount_growth: Decimal = Decimal("0")  # each level further out is this fraction larger


@dataclass(frozen=True)
class Level:
    side: str
    price: Decimal
    amount: Decimal
    # Profit per unit after hedging it and both venues' fees, in bps of the price.
    edge_bps: Decimal | None = field(default=None, compare=False)


@dataclass(frozen=True)
class OpenQuote:
    id: str
    side: str
    price: Decimal
    remaining: Decimal


@dataclass(frozen=True)
class RefreshPlan:
    cancel: list[str]
    place: list[Level]
    keep: list[str]


def quote_levels(mid: Decimal, params: QuoteParams, rules: MarketRules) -> list[Level]:
    """Levels on both sides of `mid`, rounded outward to the tick, tradable sizes only.

    Two levels that round to one price are merged rather than sent twice.
    """
    half = params.spread_bps / 2
    levels: list[Level] = []
    for side, sign in ((BUY, -1), (SELL, 1)):
        by_price: dict[Decimal, Decimal] = {}
        best_bid = max((lv.price for lv in levels), default=None)
        for i in range(params.levels):
            offset_bps = half + params.level_spacing_bps * i
            price = rules.round_price(mid * (1 + sign * offset_bps / BPS), side)
            if side == SELL and best_bid is not None and price <= best_bid:
                # A zero spread around a mid on the tick rounds both sides to the mid: the ask
                # would meet our own bid and the venue would refuse it as post-only.
                price = best_bid + rules.price_tick
            amount = rules.round_amount(params.level_amount * (1 + params.amount_growth * i))
            if price <= 0:
                continue
            by_price[price] = by_price.get(price, Decimal("0")) + amount
        for price, amount in by_price.items():
            if rules.is_tradable(amount, price):
                levels.append(Level(side, price, amount))
    return levels


def plan_refresh(
    desired: list[Level], open_orders: list[OpenQuote], tolerance_bps: Decimal
) -> RefreshPlan:
    """Keep an open order that is within tolerance of a desired level and of its size;
    cancel the rest and place what is missing, so a quiet market costs no order traffic."""
    unused = list(open_orders)
    keep: list[str] = []
    place: list[Level] = []
    for level in desired:
        match = next(
            (
                o
                for o in unused
                if o.side == level.side
                and o.remaining == level.amount
                and abs(o.price - level.price) / level.price * BPS <= tolerance_bps
            ),
            None,
        )
        if match is None:
            place.append(level)
        else:
            unused.remove(match)
            keep.append(match.id)
    return RefreshPlan(cancel=[o.id for o in unused], place=place, keep=keep)


def fit_to_budget(
    levels: list[Level], free_base: Decimal, free_quote: Decimal
) -> tuple[list[Level], list[Level]]:
    """Split levels into those the free balances can back, nearest the mid first, and the rest.

    An account that ran out of an asset stops quoting that side instead of sending orders the
    venue would refuse.
    """
    fitted, dropped = [], []
    for level in sorted(levels, key=lambda lv: (lv.side, lv.price if lv.side == SELL else -lv.price)):
        need = level.amount if level.side == SELL else level.amount * level.price
        left = free_base if level.side == SELL else free_quote
        if need > left:
            dropped.append(level)
            continue
        fitted.append(level)
        if level.side == SELL:
            free_base -= need
        else:
            free_quote -= need
    return fitted, dropped


# --- the desired book -----------------------------------------------------------------------


@dataclass(frozen=True)
class Funds:
    """The MM account's holdings of the market's assets, and what each side may commit: the
    free balance plus what this market's own resting orders already hold on that side."""

    base_total: Decimal
    quote_total: Decimal
    base_available: Decimal
    quote_available: Decimal


@dataclass(frozen=True)
class QuoteContext:
    reference: Decimal
    floor: HedgeFloor
    rules: MarketRules  # the own venue's
    funds: Funds
    sigma_bps: Decimal = ZERO
    stopped: dict[str, str] = field(default_factory=dict)  # sides that must not quote, and why


@dataclass(frozen=True)
class Quote:
    levels: list[Level]  # each side nearest the reference first
    skew: Decimal
    notes: list[str]
    # Avellaneda-Stoikov's reservation price, or GLFT's mid between its depths (-skew*q), in
    # bps from the reference; None in the other modes.
    reservation_bps: Decimal | None = None


def nearest_first(levels: list, side: str) -> list:
    """The `side` entries of `levels` (anything with side and price), nearest the mid first."""
    return sorted(
        (lv for lv in levels if lv.side == side),
        key=lambda lv: lv.price if side == SELL else -lv.price,
    )


def allowances(config: QuoteConfig, funds: Funds) -> dict[str, Decimal]:
    """Most each side may commit: base for asks, quote for bids."""
    base = funds.base_available - config.reserve_base
    quote = funds.quote_available - config.reserve_quote
    if config.ask_budget_base > 0:
        base = min(base, config.ask_budget_base)
    if config.bid_budget_quote > 0:
        quote = min(quote, config.bid_budget_quote)
    return {SELL: max(base, ZERO), BUY: max(quote, ZERO)}


def desired_quotes(config: QuoteConfig, ctx: QuoteContext) -> Quote:
    """The book the market maker wants now, every level with its edge; notes say what is missing."""
    notes: list[str] = []
    one_side = _one_side_size(config, ctx)
    target = base_share_target(
        ctx.funds.base_total, ctx.funds.quote_total, ctx.reference, config.target_base_pct
    )
    skew = ZERO
    if config.inventory_skew:
        skew = inventory_skew(
            ctx.funds.base_total, target, config.inventory_range_multiplier * one_side
        )
    offsets, reservation = _first_offsets(config, ctx, target, one_side)
    if config.mode not in (AVELLANEDA, GLFT):
        # Seed 003's skew moves both quotes away from the side that makes the inventory worse;
        # Avellaneda-Stoikov and GLFT do that through their own inventory term instead.
        offsets = {side: offset - skew * config.skew_price_bps for side, offset in offsets.items()}
    factors = size_factors(skew)
    levels: list[Level] = []
    for side in SIDES:
        if side in ctx.stopped:
            continue
        if side not in offsets:
            notes.append(
                f"{side} side off: a fill would take the inventory beyond the GLFT limit Q "
                f"({_plain(config.glft_q_limit)} level sizes)"
            )
            continue
        raw = [(price, amount * factors[side]) for price, amount in _raw_side(config, ctx, side, offsets[side])]
        levels += _priced_side(side, raw, ctx, notes)
    allowance = allowances(config, ctx.funds)
    fitted, dropped = fit_to_budget(levels, free_base=allowance[SELL], free_quote=allowance[BUY])
    for side, what in ((SELL, "base"), (BUY, "quote")):
        missing = sum(1 for lv in dropped if lv.side == side)
        if missing:
            notes.append(f"{missing} {side} level(s) not quoted: the {what} budget or balance is spent")
    book = uncrossed(settle(fitted, ctx.floor, notes))
    return Quote(with_edges(book, ctx.floor), skew, notes, reservation)


def _first_offsets(
    config: QuoteConfig, ctx: QuoteContext, target: Decimal, one_side: Decimal
) -> tuple[dict[str, Decimal], Decimal | None]:
    """Where each side's first level sits, in bps from the reference (before the floor)."""
    if config.mode == AVELLANEDA:
        q = (ctx.funds.base_total - target) / one_side if one_side > 0 else ZERO
        model = avellaneda_stoikov(
            q, ctx.sigma_bps, config.as_gamma, config.as_kappa, config.as_horizon_seconds
        )
        half = model.spread_bps / 2
        return {BUY: model.reservation_bps - half, SELL: model.reservation_bps + half}, (
            model.reservation_bps
        )
    if config.mode == GLFT:
        return glft_offsets(config, ctx, target)
    if config.mode == MIRROR:
        return {BUY: ZERO, SELL: ZERO}, None  # the hedge book's own prices, marked up
    return {BUY: -config.bid_spread_bps, SELL: config.ask_spread_bps}, None


def glft_inventory(config: QuoteConfig, ctx: QuoteContext, target: Decimal) -> Decimal:
    """GLFT's q: the base held beyond the target, in level sizes (one order, as hftbacktest)."""
    return (ctx.funds.base_total - target) / config.level_amount


def glft_offsets(
    config: QuoteConfig, ctx: QuoteContext, target: Decimal
) -> tuple[dict[str, Decimal], Decimal]:
    """Each side's first level in bps from the reference (a side the inventory limit stops is
    left out), and the reservation price the depths are centred on: -skew*q."""
    params = GlftParams(
        A=config.glft_a, k=config.glft_k, gamma=config.glft_gamma, delta=config.glft_delta,
        xi=config.glft_xi if config.glft_xi > 0 else None,
        q_limit=config.glft_q_limit if config.glft_q_limit > 0 else None,
    )
    q = glft_inventory(config, ctx, target)
    model = glft_quote(q, ctx.sigma_bps, params)
    offsets = {}
    if model.bid_depth is not None:
        offsets[BUY] = -model.bid_depth
    if model.ask_depth is not None:
        offsets[SELL] = model.ask_depth
    return offsets, -model.skew * q


def _one_side_size(config: QuoteConfig, ctx: QuoteContext) -> Decimal:
    """One side's total size before skew: the unit of inventory for the skew and for q."""
    if config.mode != MIRROR:
        return sum(config.level_amounts(), ZERO)
    totals = [sum((a for _, a in _mirror_raw(config, ctx, side)), ZERO) for side in SIDES]
    return sum(totals, ZERO) / 2


def _mirror_raw(config: QuoteConfig, ctx: QuoteContext, side: str) -> list[tuple[Decimal, Decimal]]:
    source = ctx.floor.mirror_source(side)
    if source is None:
        return []
    book = source.asks if side == SELL else source.bids
    # Own level i copies hedge level i: a fraction of its size, its price marked up. Its units
    # are hedged within hedge levels 1..i (the fraction is at most 1), so the markup covers them.
    return [
        (ctx.floor.marked_up(side, price, source), amount * config.mirror_fraction)
        for price, amount in book[: config.levels]
    ]


def _raw_side(
    config: QuoteConfig, ctx: QuoteContext, side: str, offset_bps: Decimal
) -> list[tuple[Decimal, Decimal]]:
    """Unrounded (price, amount) per level of a side, nearest the reference first."""
    if config.mode == MIRROR:
        return [(p * (1 + offset_bps / BPS), a) for p, a in _mirror_raw(config, ctx, side)]
    sign = 1 if side == SELL else -1
    return [
        (ctx.reference * (1 + (offset_bps + sign * config.level_spacing_bps * i) / BPS), amount)
        for i, amount in enumerate(config.level_amounts())
    ]


def _priced_side(
    side: str, raw: list[tuple[Decimal, Decimal]], ctx: QuoteContext, notes: list[str]
) -> list[Level]:
    """Each level no better than the floor for its cumulative size, on the venue's grid; levels
    that round to one price merge, untradable ones drop."""
    rules, floor = ctx.rules, ctx.floor
    levels: list[Level] = []
    before = ZERO
    for raw_price, raw_amount in raw:
        amount = rules.round_amount(raw_amount)
        if amount <= 0:
            continue
        limit = floor.limit(side, before, amount)
        if limit is None:
            notes.append(
                f"{side} side stops at {_plain(before)}: no hedge venue can hedge more "
                "(thin book or short balance)"
            )
            break
        price = max(raw_price, limit) if side == SELL else min(raw_price, limit)
        price = rules.round_price(price, side)
        if price <= 0:
            break
        if levels and (price <= levels[-1].price if side == SELL else price >= levels[-1].price):
            # Rounded onto (or, with several hedge venues, inside) the previous level: one
            # order at the previous, more cautious price.
            last = levels.pop()
            levels.append(Level(side, last.price, last.amount + amount))
        else:
            levels.append(Level(side, price, amount))
        before += amount
    return [lv for lv in levels if rules.is_tradable(lv.amount, lv.price)]


def settle(levels: list, floor: HedgeFloor, notes: list[str] | None = None) -> list:
    """The levels (anything with side, price and amount) that respect the floor for their
    cumulative size, walking out from the mid.

    Dropping a level only shrinks the cumulative size of those beyond it, so one pass suffices
    for a single hedge venue; with several, the check is repeated until nothing changes.
    """
    result: list = []
    for side in SIDES:
        side_levels = nearest_first(levels, side)
        while True:
            kept = _clearing(side, side_levels, floor)
            if len(kept) == len(side_levels):
                break
            if notes is not None:
                notes.append(f"{len(side_levels) - len(kept)} {side} level(s) dropped at the floor")
            side_levels = kept
        result += side_levels
    return result


def _clearing(side: str, side_levels: list, floor: HedgeFloor) -> list:
    """One pass of `settle` over a side, nearest first.

    Orders at one price fill in the venue's queue order, which the plan does not know, so each
    is judged as if it filled last at its price. Judging them in list order instead made the
    verdict depend on how the caller happened to list them: a plan and the same plan run again
    disagreed, and a kept order was cancelled for nothing on the next tick. Where a price's group
    fails, its last-listed member goes first (callers list resting orders before new ones).
    """
    kept: list = []
    before = ZERO
    for price, members in groupby(side_levels, key=lambda lv: lv.price):
        group = list(members)
        while group:
            total = sum((lv.amount for lv in group), ZERO)
            if all(floor.respects(side, price, before + total - lv.amount, lv.amount) for lv in group):
                break
            group.pop()
        kept += group
        before += sum((lv.amount for lv in group), ZERO)
    return kept


def uncrossed(levels: list) -> list:
    """Bids at or above the lowest ask dropped: hedge venues crossed by more than the fees
    could otherwise put the bot's bid over its own ask."""
    asks = [lv.price for lv in levels if lv.side == SELL]
    if not asks:
        return levels
    lowest = min(asks)
    return [lv for lv in levels if lv.side == SELL or lv.price < lowest]


def with_edges(levels: list[Level], floor: HedgeFloor) -> list[Level]:
    """The levels, each side nearest first, each carrying its edge at its cumulative size."""
    result = []
    for side in SIDES:
        before = ZERO
        for level in nearest_first(levels, side):
            edge = floor.edge_bps(side, level.price, before, level.amount)
            result.append(Level(side, level.price, level.amount, edge))
            before += level.amount
    return result


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}"
