"""Figures as people read them, the same on every page, note and proposal.

Plain Python on Decimal: pages (through dashboard.templatetags.desk), views and the planner's
reasons all format through here, so an amount reads the same wherever it appears.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal, InvalidOperation

# Places per asset; the market page's charts use the same (static/js/market.js).
DECIMALS = {"BTC": 5, "ETH": 4, "USDT": 2, "USDC": 2, "USD": 2}
OTHER_ASSET_DECIMALS = 6
DASH = "–"


def fixed(value, places: int = 2) -> str:
    """1234.5 at 2 places -> "1,234.50"; nothing to show -> "–"."""
    if value is None or value == "":
        return DASH
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return DASH
    return f"{number:,.{int(places)}f}"


def in_asset(value, asset: str) -> str:
    """An amount of `asset` with that asset's decimals: 0.1 BTC -> "0.10000"."""
    return fixed(value, DECIMALS.get(asset, OTHER_ASSET_DECIMALS))


def plain(value: Decimal) -> str:
    """An amount as people write it, every digit kept: 10, not 1E+1 nor 10.000000000000000000."""
    return format(Decimal(value).normalize(), "f")


def duration(hours) -> str:
    """How long something lasts, in hours, as people say it: "2.4 h", "35 min", "under 1 min".

    Under an hour it counts whole minutes, rounded down: a runway of 0.04 h reads "2 min", not
    "0.0 h".
    """
    if hours is None or hours == "":
        return DASH
    hours = Decimal(hours)
    if hours >= 1:
        return f"{hours:,.1f} h"
    minutes = int((hours * 60).to_integral_value(ROUND_FLOOR))
    return f"{minutes} min" if minutes >= 1 else "under 1 min"
