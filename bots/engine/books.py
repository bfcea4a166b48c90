"""Reading an order book: mid price, and what a given size costs against it."""

from __future__ import annotations

from decimal import Decimal

Levels = list[tuple[Decimal, Decimal]]  # [(price, amount)], best first


def mid_price(bids: Levels, asks: Levels) -> Decimal | None:
    if not bids or not asks:
        return None
    return (bids[0][0] + asks[0][0]) / 2


def sweep(levels: Levels, amount: Decimal) -> tuple[Decimal, Decimal, Decimal] | None:
    """(volume-weighted price, worst price reached, amount available) for taking `amount`.

    None when the side is empty; the amount available is less than asked when the book is thin.
    """
    if not levels:
        return None
    left, cost, worst = amount, Decimal("0"), levels[0][0]
    for price, size in levels:
        take = min(left, size)
        cost += take * price
        left -= take
        worst = price
        if left == 0:
            break
    filled = amount - left
    return (cost / filled if filled else levels[0][0]), worst, filled
