"""Numbers as the desk shows them: grouped, right-aligned by the CSS, fixed decimals per asset."""

from __future__ import annotations

from decimal import Decimal

from django import template

from bots.engine import figures

register = template.Library()

DASH = figures.DASH


@register.filter
def fixed(value, places=2) -> str:
    """1234.5|fixed:2 -> "1,234.50"; nothing to show -> "–"."""
    return figures.fixed(value, places)


@register.filter
def in_asset(value, asset: str) -> str:
    """An amount of `asset` with that asset's decimals: 0.1|in_asset:"BTC" -> "0.10000"."""
    return figures.in_asset(value, asset)


@register.filter
def in_price(value, quote: str) -> str:
    """A price in `quote` with five significant digits at least: 0.2483|in_price:"USDT" -> "0.24830"."""
    return figures.in_price(value, quote)


@register.filter
def duration(hours) -> str:
    """Hours as people say them: 2.4 h, or 35 min under an hour."""
    return figures.duration(hours)


@register.filter
def plain(value) -> str:
    """A Decimal as people write it: 10, not 10.000000000000000000."""
    if value is None or value == "":
        return DASH
    return figures.plain(value)


@register.filter
def grouped(value) -> str:
    """A Decimal as people read it: 1,000,000 and 7.5, not 1000000.000000000000000000."""
    if value is None or value == "":
        return DASH
    return format(Decimal(value).normalize(), ",f")
