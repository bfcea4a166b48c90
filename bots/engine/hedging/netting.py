"""The pending hedge position: fills too small to hedge alone, netted and summed until tradable.

A fill below the hedge venue's minimum order cannot be hedged by itself (Hummingbot #5984,
#6055 stop the strategy there). Ballast keeps it pending. Opposite pending fills hedge each
other first: the MM bot bought here and sold there, so the pair needs no order at all. Each
side of such a pair is booked at the midpoint of the two fill prices, so the pair's profit is
split evenly and counted once. What is left is all on one side; once its sum is tradable, one
set of orders hedges it and each fill gets its share, oldest first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from bots.engine.rules import BUY, ZERO


@dataclass(frozen=True)
class Waiting:
    id: int
    side: str  # the hedge's side (opposite of the MM fill's)
    remaining: Decimal
    fill_price: Decimal


@dataclass(frozen=True)
class Offset:
    """`amount` of a pending buy hedge and of a pending sell hedge that cancel out."""

    buy: int
    sell: int
    amount: Decimal
    price: Decimal


@dataclass(frozen=True)
class Netting:
    offsets: tuple[Offset, ...]
    left: tuple[Waiting, ...]  # what remains pending, all on one side, oldest first


def net(waiting: Sequence[Waiting]) -> Netting:
    """Pair opposite pending hedges oldest first; `waiting` is in the order the fills came."""
    buys = [[w, w.remaining] for w in waiting if w.side == BUY and w.remaining > 0]
    sells = [[w, w.remaining] for w in waiting if w.side != BUY and w.remaining > 0]
    offsets = []
    while buys and sells:
        buy, sell = buys[0], sells[0]
        amount = min(buy[1], sell[1])
        price = (buy[0].fill_price + sell[0].fill_price) / 2
        offsets.append(Offset(buy[0].id, sell[0].id, amount, price))
        buy[1] -= amount
        sell[1] -= amount
        if buy[1] == 0:
            buys.pop(0)
        if sell[1] == 0:
            sells.pop(0)
    left = tuple(
        Waiting(w.id, w.side, rest, w.fill_price) for w, rest in (buys or sells)
    )
    return Netting(tuple(offsets), left)


def allocate(amount: Decimal, members: Sequence[tuple[int, Decimal]]) -> list[tuple[int, Decimal]]:
    """Share `amount` among (id, remaining) members, oldest first; never more than each needs."""
    shares = []
    left = amount
    for member_id, remaining in members:
        if left <= 0:
            break
        take = min(left, remaining)
        if take > 0:
            shares.append((member_id, take))
            left -= take
    if left > 0:
        raise ValueError(f"{left} more than the members need was allocated")
    return shares


def total(waiting: Sequence[Waiting]) -> Decimal:
    return sum((w.remaining for w in waiting), ZERO)
