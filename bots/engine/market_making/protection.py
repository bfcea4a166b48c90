"""When a market must stop quoting, altogether or on one side, and why.

Whole-market holds: the price breaker (the reference jumped between ticks), a stale or empty
reference, and the trades-per-minute limiter. Per side: the exposure limit and the price band
stop a side (its resting orders are cancelled too); a hedge pending too long and the
filled-order delay only hold back new orders on a side (Hummingbot #4779).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from bots.engine.rules import BUY, SELL, ZERO

MINUTE_MS = 60_000


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}"


def move_pct(previous: Decimal, current: Decimal) -> Decimal:
    return abs(current - previous) / previous * 100


def breaker_trips(previous: Decimal | None, current: Decimal, limit_pct: Decimal) -> bool:
    """True when the reference moved more than `limit_pct` since the last tick (0: off)."""
    if limit_pct <= 0 or previous is None or previous <= 0:
        return False
    return move_pct(previous, current) > limit_pct


def is_stale(book_ms: int | None, now_ms: int, stale_after_seconds: Decimal) -> bool:
    """A book without a time is as old as the request that fetched it, which the caller passes."""
    if book_ms is None:
        return True
    return Decimal(now_ms - book_ms) / 1000 > stale_after_seconds


def trade_limit_reached(fill_times_ms: Iterable[int], now_ms: int, per_minute: int) -> bool:
    if per_minute <= 0:
        return False
    return sum(1 for t in fill_times_ms if now_ms - t < MINUTE_MS) >= per_minute


@dataclass(frozen=True)
class Unhedged:
    """A fill whose hedge is not done: what is left to hedge, and since when it waits."""

    mm_side: str  # the MM bot's side in the fill
    amount: Decimal
    pending_since_ms: int | None  # when the hedge was queued; None once it gave up (final)


@dataclass
class SideGates:
    stop: dict[str, str] = field(default_factory=dict)  # no quotes on this side at all
    no_new: dict[str, str] = field(default_factory=dict)  # resting orders stay, none added

    def merge(self, other: SideGates) -> SideGates:
        return SideGates({**other.stop, **self.stop}, {**other.no_new, **self.no_new})


def unhedged_net(unhedged: Iterable[Unhedged]) -> Decimal:
    """Base the MM bot bought minus base it sold, not yet answered by a hedge."""
    return sum((u.amount if u.mm_side == BUY else -u.amount for u in unhedged), ZERO)


def exposure_gates(
    unhedged: list[Unhedged], limit: Decimal, pending_seconds: Decimal, now_ms: int
) -> SideGates:
    gates = SideGates()
    net = unhedged_net(unhedged)
    if limit > 0 and net > limit:
        gates.stop[BUY] = f"unhedged exposure +{_plain(net)} is above the limit {_plain(limit)}"
    elif limit > 0 and net < -limit:
        gates.stop[SELL] = f"unhedged exposure {_plain(net)} is below the limit -{_plain(limit)}"
    for u in unhedged:
        if u.pending_since_ms is None or u.mm_side in gates.no_new:
            continue
        waited = Decimal(now_ms - u.pending_since_ms) / 1000
        if waited >= pending_seconds:
            gates.no_new[u.mm_side] = (
                f"a hedge of a {u.mm_side} fill has been pending {waited:.0f} s"
            )
    return gates


def price_band_gates(reference: Decimal, ceiling: Decimal, floor: Decimal) -> SideGates:
    """Above the ceiling only sell, below the floor only buy (0: off)."""
    gates = SideGates()
    if ceiling > 0 and reference > ceiling:
        gates.stop[BUY] = f"reference {_plain(reference)} is above the price ceiling {_plain(ceiling)}"
    if floor > 0 and reference < floor:
        gates.stop[SELL] = f"reference {_plain(reference)} is below the price floor {_plain(floor)}"
    return gates


def fill_delay_gates(last_fill_ms: dict[str, int], now_ms: int, delay_seconds: Decimal) -> SideGates:
    gates = SideGates()
    for side in (BUY, SELL):
        since = last_fill_ms.get(side)
        if since is None or delay_seconds <= 0:
            continue
        # A fill the venue stamped after the tick's clock read (it filled during the tick) is
        # 0 s old, not negative: with no delay it holds nothing back, with one it does.
        age = Decimal(max(0, now_ms - since)) / 1000
        if age < delay_seconds:
            gates.no_new[side] = f"filled {age:.1f} s ago"
    return gates
