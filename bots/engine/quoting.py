"""Where the market-making bot wants its orders, and which open orders must change to get there."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .rules import BPS, BUY, SELL, MarketRules


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
