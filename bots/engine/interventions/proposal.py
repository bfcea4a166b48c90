"""What an intervention would be: its size, its price limit, what it should cost, and its effect
on the MM account's inventory and runway. People approve it from these figures.

A buyback buys base up to a price cap (the reference plus `limit_bps`); an unwind sells base
down to a price floor (the reference less `limit_bps`). Sized to bring an account back to its
band's target when inventory is what crossed, else the market's default size; never more than
the account can pay for (buyback: its free quote at the cap) or hold (unwind: its free base).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bots.engine.books import Levels, sweep
from bots.engine.interventions.detectors import BUYBACK, INVENTORY, Band, Finding
from bots.engine.rules import BPS, BUY, SELL, ZERO, MarketRules
from bots.engine.treasury.runway import runway_hours


@dataclass(frozen=True)
class Sizing:
    default_amount: Decimal  # base, when no band says how much
    duration_minutes: int
    limit_bps: Decimal  # how far past the reference the price may go


def side_of(kind: str) -> str:
    return BUY if kind == BUYBACK else SELL


def price_limit(kind: str, reference: Decimal, limit_bps: Decimal, rules: MarketRules) -> Decimal:
    """The buyback's cap or the unwind's floor, rounded so it never loosens."""
    if kind == BUYBACK:
        return rules.round_price(reference * (1 + limit_bps / BPS), BUY)
    return rules.round_price(reference * (1 - limit_bps / BPS), SELL)


def amount_for(
    kind: str,
    findings: list[Finding],
    held: Decimal,
    band: Band | None,
    free_base: Decimal,
    free_quote: Decimal,
    limit: Decimal,
    sizing: Sizing,
    rules: MarketRules,
) -> Decimal:
    """The base to trade, on the market's amount step; 0 when nothing tradable is left."""
    wanted = sizing.default_amount
    if band is not None and any(f.detector == INVENTORY for f in findings):
        wanted = abs(band.target - held)
    affordable = free_quote / limit if kind == BUYBACK else free_base
    amount = rules.round_amount(max(ZERO, min(wanted, affordable)))
    return amount if amount >= rules.min_amount and amount > 0 else ZERO


@dataclass(frozen=True)
class Estimate:
    """The intervention taken against today's book at once, as the worst case of its cost."""

    average_price: Decimal | None  # over what the book holds within the limit
    reachable: Decimal  # base the book holds within the limit now
    notional: Decimal  # quote paid (buyback) or received (unwind), fees apart
    fee: Decimal  # quote
    slippage: Decimal  # quote lost against the reference (fees apart), >= 0 is a cost


def estimate(
    kind: str, amount: Decimal, levels: Levels, limit: Decimal, reference: Decimal, fee_rate: Decimal
) -> Estimate:
    """`levels` is the side the intervention takes from: asks for a buyback, bids for an unwind.
    What lies beyond the limit is left out: the slices will not trade there either."""
    buying = kind == BUYBACK
    within = [(p, a) for p, a in levels if (p <= limit if buying else p >= limit)]
    taken = sweep(within, amount) if within and amount > 0 else None
    if taken is None:
        return Estimate(None, ZERO, ZERO, ZERO, ZERO)
    average, _, reachable = taken
    notional = average * reachable
    slippage = (average - reference) * reachable if buying else (reference - average) * reachable
    return Estimate(average, reachable, notional, notional * fee_rate, slippage)


@dataclass(frozen=True)
class Effect:
    """The MM account before and after the whole amount trades at the limit (the worst price)."""

    base_before: Decimal
    base_after: Decimal
    quote_before: Decimal
    quote_after: Decimal
    base_runway_before: Decimal | None  # hours at the recent flow; None: not draining
    base_runway_after: Decimal | None
    quote_runway_before: Decimal | None
    quote_runway_after: Decimal | None


def effect(
    kind: str,
    amount: Decimal,
    limit: Decimal,
    fee_rate: Decimal,
    base: Decimal,
    quote: Decimal,
    base_flow_per_hour: Decimal,
    quote_flow_per_hour: Decimal,
    base_floor: Decimal = ZERO,
    quote_floor: Decimal = ZERO,
) -> Effect:
    notional = amount * limit
    if kind == BUYBACK:
        base_after, quote_after = base + amount, quote - notional * (1 + fee_rate)
    else:
        base_after, quote_after = base - amount, quote + notional * (1 - fee_rate)
    return Effect(
        base,
        base_after,
        quote,
        quote_after,
        runway_hours(base, base_floor, base_flow_per_hour),
        runway_hours(base_after, base_floor, base_flow_per_hour),
        runway_hours(quote, quote_floor, quote_flow_per_hour),
        runway_hours(quote_after, quote_floor, quote_flow_per_hour),
    )
