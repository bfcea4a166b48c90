"""The hedge for a market-making fill: opposite side, same size, at a bounded price.

A hedge is a limit IOC at a protection price: the hedge book's volume-weighted price for the
size, moved past it by the allowed slippage. In a normal book it fills like a market order; in
a book that moved away it stops instead of trading at any price. What it leaves unfilled is
tried again at the next step of a bounded ladder, each step allowing a little more slippage;
after the last step the hedge fails and an operator decides. No order is worth more than the
notional cap: bigger hedges are split into equal child orders.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from bots.engine.books import Levels, sweep
from bots.engine.rules import BPS, BUY, ZERO, MarketRules, opposite

# Bounds of the parameters, checked by HedgeParams.problems(). A wider slippage than 10% or a
# longer ladder is not hedging any more but giving money away in a crash.
MAX_SLIPPAGE_BPS = Decimal("500")
MAX_LADDER_STEPS = 10
MAX_TOTAL_SLIPPAGE_BPS = Decimal("1000")
MAX_NOTIONAL = Decimal("1000000000")
# A hedge that would need more orders than this is refused as a cap too small for its size:
# hundreds of orders would take longer than the market gives a hedge.
MAX_PIECES = 50


@dataclass(frozen=True)
class HedgeParams:
    """How a market's hedges are priced and sized (its settings, validated)."""

    slippage_bps: Decimal  # past the book's price for the size, at the first step
    ladder_steps: int = 3  # further steps after the first
    ladder_step_bps: Decimal = Decimal("10")  # extra slippage at each further step
    max_notional: Decimal = Decimal("10000")  # per order, quote currency

    def slippage_at(self, step: int) -> Decimal:
        return self.slippage_bps + min(step, self.ladder_steps) * self.ladder_step_bps

    def problems(self) -> list[str]:
        """What is out of bounds, in words an operator can act on; empty when all is well."""
        found = []
        if not ZERO <= self.slippage_bps <= MAX_SLIPPAGE_BPS:
            found.append(f"hedge slippage must be 0 to {MAX_SLIPPAGE_BPS} bps, not {self.slippage_bps}")
        if not 0 <= self.ladder_steps <= MAX_LADDER_STEPS:
            found.append(f"ladder steps must be 0 to {MAX_LADDER_STEPS}, not {self.ladder_steps}")
        if not ZERO <= self.ladder_step_bps <= MAX_SLIPPAGE_BPS:
            found.append(
                f"ladder step must be 0 to {MAX_SLIPPAGE_BPS} bps, not {self.ladder_step_bps}"
            )
        if not found and self.slippage_at(self.ladder_steps) > MAX_TOTAL_SLIPPAGE_BPS:
            found.append(
                f"the last ladder step would allow {self.slippage_at(self.ladder_steps)} bps of "
                f"slippage; at most {MAX_TOTAL_SLIPPAGE_BPS} bps"
            )
        if not ZERO < self.max_notional <= MAX_NOTIONAL:
            found.append(f"max notional per order must be above 0 and at most {MAX_NOTIONAL}")
        return found


def protection_price(side: str, vwap: Decimal, slippage_bps: Decimal, rules: MarketRules) -> Decimal:
    """The worst price a hedge on `side` may trade at: rounded inward, so the bound holds."""
    sign = 1 if side == BUY else -1
    return rules.round_price(vwap * (1 + sign * slippage_bps / BPS), side)


def split_amount(amount: Decimal, limit_price: Decimal, max_notional: Decimal, rules: MarketRules) -> list[Decimal]:
    """`amount` as the fewest near-equal orders each worth at most `max_notional` at the limit.

    Pieces stay on the amount step and add up to `amount` (rounded down to the step); they
    differ by one step at most. An empty list means no split fits: the cap is below one step's
    value, or the hedge would need more than MAX_PIECES orders.
    """
    if amount <= 0:
        return []
    steps = int(rules.round_amount(amount) / rules.amount_step)
    per_piece = int((max_notional / (limit_price * rules.amount_step)).to_integral_value(ROUND_FLOOR))
    if per_piece < 1:
        return []
    count = int((Decimal(steps) / per_piece).to_integral_value(ROUND_CEILING))
    if count > MAX_PIECES:
        return []
    base, extra = divmod(steps, count)
    return [(base + (1 if i < extra else 0)) * rules.amount_step for i in range(count)]


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
    """Hedge a fill in which the MM bot bought or sold `amount`, on one venue, in one order."""
    side = opposite(mm_side)
    size = rules.round_amount(amount)
    book = hedge_asks if side == BUY else hedge_bids
    swept = sweep(book, size)
    if swept is None:
        return HedgeDecision(None, f"the hedge venue has no {'asks' if side == BUY else 'bids'}")
    limit = protection_price(side, swept[0], slippage_bps, rules)
    if not rules.is_tradable(size, limit):
        return HedgeDecision(None, f"{size} {rules.base} is below the hedge venue's minimum order")
    return HedgeDecision(HedgeOrder(side, size, limit), "")
