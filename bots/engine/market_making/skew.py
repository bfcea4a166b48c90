"""What the MM account's inventory asks of its quotes: a skew toward the target, and a band.

Skew s runs from -1 (far too little base) to +1 (far too much). At +1 the quotes lean fully
toward selling: ask sizes double, bid sizes go to zero (Hummingbot's inventory range multiplier),
and both prices move down by the configured shift (seed 003's skew). The position band is
blunter: beyond it, the side that would take the position further stops quoting.
"""

from __future__ import annotations

from decimal import Decimal

from bots.engine.rules import BUY, SELL, ZERO

ONE = Decimal("1")


def base_share_target(
    base_total: Decimal, quote_total: Decimal, price: Decimal, target_pct: Decimal
) -> Decimal:
    """The base amount that would make the account's base share `target_pct` at `price`."""
    value = base_total * price + quote_total
    return value * target_pct / 100 / price if price > 0 else ZERO


SKEW_STEP = Decimal("1e-18")


def inventory_skew(base_total: Decimal, target_base: Decimal, range_base: Decimal) -> Decimal:
    """(held - target) / range, clipped to [-1, 1]; 0 when there is no range.

    Kept to 18 decimals (what the database stores): then 1 - skew and 1 + skew are exact and
    the two sides' size factors add up to 2 exactly, where a quotient of 28 digits would round
    one of them."""
    if range_base <= 0:
        return ZERO
    skew = ((base_total - target_base) / range_base).quantize(SKEW_STEP)
    return max(-ONE, min(ONE, skew))


def size_factors(skew: Decimal) -> dict[str, Decimal]:
    """Multipliers of each side's sizes: the side that restores the target grows."""
    return {BUY: 1 - skew, SELL: 1 + skew}


def position_stops(base_total: Decimal, target: Decimal, band: Decimal) -> dict[str, str]:
    """Sides that stop quoting because the position is outside target ± band (band 0: off)."""
    if band <= 0:
        return {}
    if base_total > target + band:
        return {BUY: f"position {_plain(base_total)} is above target + band {_plain(target + band)}"}
    if base_total < target - band:
        return {SELL: f"position {_plain(base_total)} is below target - band {_plain(target - band)}"}
    return {}


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}"
