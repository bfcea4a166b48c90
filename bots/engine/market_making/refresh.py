"""Which resting orders to keep, which to cancel and what to place, to move toward the desired
book without needless order traffic (Hummingbot's refresh discipline).

An order is cancelled at once when its side must not quote, when it is older than the max order
age, when the reference came closer to it than the minimum spread, or when it no longer earns
after its hedge (the floor for its cumulative size). Otherwise an order within the refresh
tolerance of a desired level is kept; one that drifted further is replaced only once it has
rested the order refresh time, and never while its side is held back (a pending hedge, the
filled-order delay): such a side keeps what rests on it. New orders fill the slots left, nearest
the mid first, unless the side is held back or the budget is spent.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bots.engine.market_making.hedge_floor import HedgeFloor
from bots.engine.market_making.protection import SideGates
from bots.engine.market_making.quote_config import QuoteConfig
from bots.engine.market_making.quoting import (
    Level,
    OpenQuote,
    nearest_first,
    plan_refresh,
    settle,
    uncrossed,
    with_edges,
)
from bots.engine.rules import BPS, SELL, SIDES, ZERO

REFRESH = "drifted off target"
AGED = "older than the max order age"
TOO_CLOSE = "the reference came within the minimum spread"
UNPROFITABLE = "no longer clears the hedge floor"
SURPLUS = "more orders than levels on its side"


@dataclass(frozen=True)
class RestingOrder:
    id: str
    side: str
    price: Decimal
    amount: Decimal  # what is left of it
    placed_ms: int | None = None  # None: unknown, treated as old enough to refresh


@dataclass(frozen=True)
class OrderPlan:
    cancel: list[tuple[str, str]]  # (order id, why)
    place: list[Level]
    keep: list[str]
    book: list[Level]  # what rests after the plan, each side nearest first, with edges


def plan_orders(
    desired: list[Level],
    resting: list[RestingOrder],
    config: QuoteConfig,
    *,
    now_ms: int,
    reference: Decimal,
    floor: HedgeFloor,
    gates: SideGates,
    allowance: dict[str, Decimal],
    refresh_all: bool = False,
) -> OrderPlan:
    """`refresh_all` replaces every order off target at once, however young (new settings)."""
    cancel: list[tuple[str, str]] = []
    alive = []
    for order in resting:
        why = _must_cancel(order, config, now_ms, reference, gates)
        if why:
            cancel.append((order.id, why))
        else:
            alive.append(order)
    clearing = settle(alive, floor)
    cancel += [(o.id, UNPROFITABLE) for o in alive if o not in clearing]

    kept: list[RestingOrder] = []
    wanted: dict[str, list[Level]] = {}
    for side in SIDES:
        want = nearest_first(desired, side)
        have = [o for o in clearing if o.side == side]
        matched = plan_refresh(
            want, [OpenQuote(o.id, o.side, o.price, o.amount) for o in have],
            config.refresh_tolerance_bps,
        )
        kept += [o for o in have if o.id in matched.keep]
        waiting = []  # off target, but not rested long enough to replace, or not replaceable
        # A side held back (the filled-order delay, a pending hedge) keeps its resting orders
        # until it may place again: replacing one there would only cancel it, and a fill that
        # took part of the best level would empty the side for the length of the delay.
        held = side in gates.no_new
        for order in have:
            if order.id in matched.keep:
                continue
            if not held and (refresh_all or _refresh_due(order, config, now_ms)):
                cancel.append((order.id, REFRESH))
            else:
                waiting.append(order)
        # Never more orders on a side than levels wanted there: the farthest waiting ones go.
        room = max(0, len(want) - len(matched.keep))
        waiting = nearest_first(waiting, side)
        kept += waiting[:room]
        cancel += [(o.id, SURPLUS) for o in waiting[room:]]
        # A level inside the minimum spread would only be cancelled again next tick.
        wanted[side] = [lv for lv in matched.place if not _too_close(side, lv.price, reference, config)]

    # The mix of kept and new orders is checked as a whole: new levels nearer the mid grow the
    # cumulative size of kept orders beyond them. A kept order that fails goes, and its slot is
    # offered to the levels still wanted, until the book holds.
    while True:
        place = []
        for side in SIDES:
            if side in gates.stop or side in gates.no_new:
                continue
            side_kept = [o for o in kept if o.side == side]
            slots = max(0, len(nearest_first(desired, side)) - len(side_kept))
            place += _within_allowance(side, side_kept, wanted[side][:slots], allowance[side])
        book = uncrossed(settle(kept + place, floor))
        failed = [o for o in kept if o not in book]
        if not failed:
            break
        cancel += [(o.id, UNPROFITABLE) for o in failed]
        kept = [o for o in kept if o not in failed]
    return OrderPlan(
        cancel=cancel,
        place=[lv for lv in place if lv in book],
        keep=[o.id for o in kept],
        book=with_edges([Level(o.side, o.price, o.amount) for o in book], floor),
    )


def _must_cancel(
    order: RestingOrder, config: QuoteConfig, now_ms: int, reference: Decimal, gates: SideGates
) -> str:
    if order.side in gates.stop:
        return gates.stop[order.side]
    age_ms = None if order.placed_ms is None else now_ms - order.placed_ms
    if config.max_order_age_seconds > 0 and age_ms is not None:
        if age_ms >= config.max_order_age_seconds * 1000:
            return AGED
    if _too_close(order.side, order.price, reference, config):
        return TOO_CLOSE
    return ""


def _too_close(side: str, price: Decimal, reference: Decimal, config: QuoteConfig) -> bool:
    if config.minimum_spread_bps <= 0:
        return False
    distance = price - reference if side == SELL else reference - price
    return distance / reference * BPS < config.minimum_spread_bps


def _refresh_due(order: RestingOrder, config: QuoteConfig, now_ms: int) -> bool:
    if order.placed_ms is None:
        return True
    return now_ms - order.placed_ms >= config.order_refresh_seconds * 1000


def _need(side: str, price: Decimal, amount: Decimal) -> Decimal:
    return amount if side == SELL else amount * price


def _within_allowance(
    side: str, kept: list[RestingOrder], new: list[Level], allowance: Decimal
) -> list[Level]:
    """New levels, nearest first, while the side's kept and new orders fit its allowance."""
    used = sum((_need(side, o.price, o.amount) for o in kept), ZERO)
    fitting = []
    for level in new:
        need = _need(side, level.price, level.amount)
        if used + need > allowance:
            continue
        fitting.append(level)
        used += need
    return fitting

