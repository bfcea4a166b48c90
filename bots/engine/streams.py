"""What the stream process decides, on plain values: whether a reference moved far enough to quote
again now, the reference a set of streamed books gives, which orders filled more, and an account's open orders
as its order updates arrive.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

Levels = list[tuple[Decimal, Decimal]]


def cross_mid(books: Iterable[tuple[Levels, Levels]]) -> Decimal | None:
    """The mid of the best bid and the best ask across books (bids, asks), as the tick's
    reference is made (bots.engine.market_making.hedge_floor.HedgeFloor.reference); None when no
    book has both sides."""
    whole = [(bids, asks) for bids, asks in books if bids and asks]
    if not whole:
        return None
    return (max(bids[0][0] for bids, _ in whole) + min(asks[0][0] for _, asks in whole)) / 2


def moved_beyond(reference: Decimal | None, current: Decimal | None, tolerance_bps: Decimal) -> bool:
    """Whether the reference moved further than the refresh tolerance since the quotes were
    made: a market without a reference yet, or without a current one, waits for its beat."""
    if reference is None or current is None or reference <= 0:
        return False
    return abs(current - reference) / reference * 10_000 > tolerance_bps


@dataclass(frozen=True)
class Told:
    """A move the stream told (queued the market's tick for): the time of the tick's reference
    then, and the mid it told of."""

    tick_ms: int | None
    mid: Decimal


def quoted_from(tick_reference: Decimal | None, tick_ms: int | None, told: Told | None) -> Decimal | None:
    """The reference to tell the next move from: the mid of the move told last while no tick has
    written a reference since (the tick it queued will quote from that book, so the same move is
    not news again), else the last tick's own reference. A tick that ends after the move was
    told, even one that began before it and read an older book, is believed: its reference is
    what the quotes stand on, and a book away from it is a move to tell again."""
    if told is not None and told.tick_ms == tick_ms:
        return told.mid
    return tick_reference


def filled_more(seen: dict[str, Decimal], orders: Iterable[tuple[str, Decimal]]) -> list[str]:
    """Ids of the orders whose cumulative `filled` grew since last seen (a fill, where a venue
    streams orders but not trades); `seen` is brought up to date. An order seen for the first
    time with something filled counts: its fill happened while nobody watched."""
    grew = []
    for order_id, filled in orders:
        if filled > seen.get(order_id, Decimal(0)):
            grew.append(order_id)
        seen[order_id] = max(filled, seen.get(order_id, Decimal(0)))
    return grew


def lay_over_open(open_orders: dict[str, dict], updates: Iterable[dict]) -> set[str]:
    """Bring an account's open orders (by id) up to date with streamed order updates, in the
    order they came: an update saying "open" (new, or partly filled) puts the order in as it now
    stands, any other status takes it out. Updates that arrived before the open orders were read
    are laid over that reading too: each order ends as its latest update says. Returns the
    symbols changed."""
    changed = set()
    for order in updates:
        order_id = str(order["id"])
        if order.get("status") == "open":
            open_orders[order_id] = order
        elif open_orders.pop(order_id, None) is None:
            continue
        changed.add(order.get("symbol"))
    return changed
