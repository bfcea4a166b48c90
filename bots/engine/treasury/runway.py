"""Runway: at the recent trading flow, how long until an account can no longer quote or hedge.

An account drains one asset as long as users trade mostly one way. The flow is measured over a
recent window (the admin sets its length) as the net change per hour that trading made to the
account's holding; transfers are not trading and are left out by the caller. Runway is the
usable holding divided by the drain: hours, or None when the account is not draining.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal("0")
MS_PER_HOUR = Decimal(3_600_000)


@dataclass(frozen=True)
class FlowEvent:
    """One trade's effect on one account's holding of one asset (negative: it left)."""

    timestamp_ms: int
    delta: Decimal


def hourly_flow(events: Iterable[FlowEvent], window_start_ms: int, now_ms: int) -> Decimal:
    """Net change per hour over [window_start_ms, now_ms]; events outside are ignored."""
    if now_ms <= window_start_ms:
        raise ValueError("the flow window must have a positive length")
    net = sum((e.delta for e in events if window_start_ms <= e.timestamp_ms <= now_ms), ZERO)
    return net * MS_PER_HOUR / (now_ms - window_start_ms)


def runway_hours(position: Decimal, floor: Decimal, flow_per_hour: Decimal) -> Decimal | None:
    """Hours until `position` falls to `floor` at `flow_per_hour`; 0 if it is there already,
    None when the flow does not drain it."""
    usable = position - floor
    if usable <= 0:
        return ZERO
    if flow_per_hour >= 0:
        return None
    return usable / -flow_per_hour


def projection(
    position: Decimal, flow_per_hour: Decimal, hours: Decimal, points: int = 24
) -> list[tuple[Decimal, Decimal]]:
    """(hour, holding) along a straight line from now, never below zero: the runway chart."""
    if points < 2 or hours <= 0:
        raise ValueError("a projection needs at least two points over a positive horizon")
    line = []
    for i in range(points):
        hour = hours * i / (points - 1)
        line.append((hour, max(ZERO, position + flow_per_hour * hour)))
    return line
