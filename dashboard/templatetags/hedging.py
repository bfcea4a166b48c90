"""Numbers as operators read them on the hedging pages: 0.0125, not 0.012500000000000000."""

from decimal import Decimal

from django import template

from bots.engine.figures import plain

register = template.Library()


@register.filter(name="plain")
def plain_number(value):
    if isinstance(value, Decimal):
        return plain(value)
    return value
