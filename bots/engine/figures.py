"""Figures as people read and type them, the same on every page, note and proposal.

Plain Python on Decimal: pages (through dashboard.templatetags.desk), views and the planner's
reasons all format through here, so an amount reads the same wherever it appears; what people
type (a link's seed, a form's count) is read strictly through here too.
"""

from __future__ import annotations

import re
from decimal import ROUND_FLOOR, Decimal, InvalidOperation

# Places per asset; the market page's charts use the same (static/js/market.js).
DECIMALS = {"BTC": 5, "ETH": 4, "USDT": 2, "USDC": 2, "USD": 2}
OTHER_ASSET_DECIMALS = 6
DASH = "–"


def fixed(value, places: int = 2) -> str:
    """1234.5 at 2 places -> "1,234.50"; nothing to show -> "–"; -0.001 -> "0.00", not "-0.00"."""
    if value is None or value == "":
        return DASH
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return DASH
    return f"{number:z,.{int(places)}f}"  # z: a figure rounded to zero loses its minus


def in_asset(value, asset: str) -> str:
    """An amount of `asset` with that asset's decimals: 0.1 BTC -> "0.10000"."""
    return fixed(value, DECIMALS.get(asset, OTHER_ASSET_DECIMALS))


def price_places(price, quote: str) -> int:
    """Places that show a price in `quote` with five significant digits, at least the quote
    asset's: 65,043.32 USDT, but 0.24830 USDT for a token worth a quarter (at USDT's two places
    every XHT level would read 0.25). static/js/market.js does the same."""
    places = DECIMALS.get(quote, OTHER_ASSET_DECIMALS)
    try:
        number = abs(Decimal(price))
    except (InvalidOperation, TypeError, ValueError):
        return places
    if not number.is_finite() or number == 0:
        return places
    return min(8, max(places, 4 - number.adjusted()))


def in_price(value, quote: str) -> str:
    """A price in `quote` at `price_places`: 0.2483 USDT -> "0.24830"."""
    return fixed(value, price_places(value, quote))


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


# ASCII digits only: str.isdigit() also takes "²", and int() and Decimal() take "٣" or "５",
# so a check with one and a conversion with the other can disagree (int("²") raises).
_WHOLE = re.compile(r"-?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
MAX_TYPED_LENGTH = 40


def whole_number(text: str, signed: bool = False, max_digits: int = 18) -> int:
    """A whole number typed in ASCII digits 0-9 (a leading minus when `signed`), surrounding
    spaces ignored; ValueError for anything else, or for more than `max_digits` digits."""
    text = str(text).strip()
    if not _WHOLE.fullmatch(text) or (text.startswith("-") and not signed):
        raise ValueError("must be a whole number written with the digits 0-9")
    if len(text.lstrip("-")) > max_digits:
        raise ValueError(f"must have at most {max_digits} digits")
    return int(text)


def typed_decimal(text: str) -> Decimal:
    """A number typed in ASCII digits 0-9 with at most one decimal point and a sign, surrounding
    spaces ignored; ValueError for anything else (exponents, "_", "NaN", other scripts' digits)."""
    text = str(text).strip()
    if len(text) > MAX_TYPED_LENGTH or not _DECIMAL.fullmatch(text):
        raise ValueError("must be a number written with the digits 0-9 and a decimal point")
    return Decimal(text)
