"""What a hedged fill earned: the MM fill's price against the hedge's, fees of both legs.

Per fill, in quote currency and in bps of the fill's value: a fill where the MM bot sold at p
and the hedge bought back at h earns (p - h) per unit, less the MM fee and the hedge fees. Fees
paid in the base asset are valued at the price of the trade that paid them. Only the hedged part
counts; what was written off unhedged is reported beside it, not priced.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from bots.engine.rules import BPS, BUY, SELL, ZERO


def fee_in_quote(fee: Decimal, currency: str, price: Decimal, base: str, quote: str) -> Decimal:
    """A fee in quote currency; one paid in a third asset (e.g. BNB) cannot be valued here: 0."""
    if not fee or currency == quote:
        return fee
    if currency == base:
        return fee * price
    return ZERO


@dataclass(frozen=True)
class FillResult:
    pnl_quote: Decimal
    pnl_bps: Decimal | None
    average_price: Decimal | None


def hedge_pnl(
    mm_side: str,
    fill_price: Decimal,
    fill_amount: Decimal,
    mm_fee_quote: Decimal,
    hedged: Decimal,
    hedged_cost: Decimal,
    hedge_fee_quote: Decimal,
) -> FillResult:
    """P&L of the hedged part of one fill (`hedged_cost`: sum of hedge price x amount)."""
    if hedged <= 0:
        return FillResult(ZERO, None, None)
    gross = fill_price * hedged - hedged_cost if mm_side == SELL else hedged_cost - fill_price * hedged
    # The MM leg's fee is charged on the whole fill; the hedged part bears its share.
    pnl = gross - mm_fee_quote * hedged / fill_amount - hedge_fee_quote
    return FillResult(pnl, pnl / (fill_price * hedged) * BPS, hedged_cost / hedged)


def slippage_bps(hedge_side: str, average: Decimal, expected: Decimal) -> Decimal:
    """How far the hedge traded past the book's price for the size: positive is worse."""
    move = average - expected if hedge_side == BUY else expected - average
    return move / expected * BPS


def protection_bps(hedge_side: str, limit: Decimal, expected: Decimal) -> Decimal:
    """How much slippage the protection price allowed, in bps of the book's price."""
    return slippage_bps(hedge_side, limit, expected)


@dataclass(frozen=True)
class HedgeFigures:
    """What one finished hedge contributes to a day's summary."""

    pnl_quote: Decimal | None
    notional: Decimal  # fill price x hedged amount
    hedge_ms: int | None
    state: str


@dataclass(frozen=True)
class DaySummary:
    hedges: int
    pnl_quote: Decimal
    pnl_bps: Decimal | None  # weighted by notional
    median_ms: int | None
    p99_ms: int | None
    by_state: dict[str, int]


def summarize(rows: Iterable[HedgeFigures]) -> DaySummary:
    rows = list(rows)
    pnl = sum((r.pnl_quote for r in rows if r.pnl_quote is not None), ZERO)
    notional = sum((r.notional for r in rows if r.pnl_quote is not None), ZERO)
    times = sorted(r.hedge_ms for r in rows if r.hedge_ms is not None)
    states: dict[str, int] = {}
    for r in rows:
        states[r.state] = states.get(r.state, 0) + 1
    return DaySummary(
        hedges=len(rows),
        pnl_quote=pnl,
        pnl_bps=pnl / notional * BPS if notional else None,
        median_ms=_quantile(times, Decimal("0.5")),
        p99_ms=_quantile(times, Decimal("0.99")),
        by_state=states,
    )


def _quantile(values: list[int], q: Decimal) -> int | None:
    """The nearest-rank quantile: a value that occurred, never an interpolation."""
    if not values:
        return None
    rank = max(1, int((q * len(values)).to_integral_value(ROUND_CEILING)))
    return values[rank - 1]
