"""The hedge decision for a market-making fill: the opposite trade, same size, bounded price."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .books import Levels, sweep
from .rules import BPS, BUY, MarketRules, opposite


@dataclass(frozen=True)
class HedgeOrder:
    side: str
    amount: Decimal
    limit_price: Decimal  # the protection price: the hedge never trades worse than this


@dataclass(frozen=True)
class HedgeDecision:
    order: HedgeOrder | None
    reason: str  # why there is no order, or "" when there is one


def decide_hedge(
    mm_side: str,
    amount: Decimal,
    hedge_bids: Levels,
    hedge_asks: Levels,
    slippage_bps: Decimal,
    rules: MarketRules,
) -> HedgeDecision:
    """Hedge a fill in which the MM bot bought or sold `amount`.

    The order is a limit IOC at the hedge book's volume-weighted price for the size, moved
    past it by the allowed slippage: it fills like a market order in a normal book, and in a
    book that moved away it stops instead of trading at any price.
    """
    side = opposite(mm_side)
    size = rules.round_amount(amount)
    book = hedge_asks if side == BUY else hedge_bids
    swept = sweep(book, size)
    if swept is None:
        return HedgeDecision(None, f"the hedge venue has no {'asks' if side == BUY else 'bids'}")
    vwap = swept[0]
    sign = 1 if side == BUY else -1
    # Rounded inward, so the bound holds after rounding too.
    limit = rules.round_price(vwap * (1 + sign * slippage_bps / BPS), side)
    if not rules.is_tradable(size, limit):
        return HedgeDecision(None, f"{size} {rules.base} is below the hedge venue's minimum order")
    return HedgeDecision(HedgeOrder(side, size, limit), "")
