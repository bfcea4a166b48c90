"""An intervention's slices: when each goes and how much, and what a slice may take now.

A TWAP whose pattern cannot be read off the tape (seed 002 warns that predictable patterns get
exploited): the duration is cut into equal slots and each slice goes at a random moment of its
slot; sizes are the even share with a random deviation of at most `jitter` of it, give or take
two amount steps from rounding, and they add up to the amount exactly. The caller passes the
random source (the system's in production, a seeded one in tests and the simulation).

When a slice is due it may take what the plan has reached less what has filled, capped by the
participation limit: a share of what the market itself traded recently. What the cap holds back
carries to the next slice; what is left at the end stays unfilled and is said so.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from bots.engine.rules import ZERO, floor_to

MINUTE_MS = 60_000


@dataclass(frozen=True)
class SliceLimits:
    slice_seconds: int = 60  # the aim for the gap between slices
    jitter: Decimal = Decimal("0.5")  # each size within (1 +/- jitter) of the even share
    participation_pct: Decimal = Decimal("20")  # of the market's recent volume


@dataclass(frozen=True)
class Slice:
    offset_ms: int  # from the intervention's start
    amount: Decimal


def slice_count(
    amount: Decimal, minutes: int, limits: SliceLimits, step: Decimal, min_amount: Decimal
) -> int:
    """One slot per `slice_seconds`, but no more slices than keep each above the minimum."""
    by_time = max(1, minutes * 60 // max(1, limits.slice_seconds))
    smallest = max(min_amount, step) + 2 * step
    by_size = int(amount * (1 - limits.jitter) / smallest)
    return max(1, min(by_time, by_size))


def plan_slices(
    amount: Decimal,
    minutes: int,
    limits: SliceLimits,
    step: Decimal,
    min_amount: Decimal,
    rng: random.Random,
) -> list[Slice]:
    """The slices of `amount` (on the step grid) over `minutes`, in time order."""
    if amount <= 0 or minutes <= 0:
        raise ValueError("an intervention needs an amount and a duration")
    if floor_to(amount, step) != amount:
        raise ValueError("the amount must be on the market's amount step")
    n = slice_count(amount, minutes, limits, step, min_amount)
    # In whole steps, so the sizes add up exactly. Deviations are drawn within half the jitter
    # and centred, so each stays within the jitter and together they nearly cancel out.
    units = int(amount / step)
    half = int(limits.jitter * units / (2 * n))
    draws = [rng.randint(-half, half) for _ in range(n)]
    centre = round(sum(draws) / n)
    sizes = [units // n + d - centre for d in draws]
    # What rounding left over goes one step at a time to the smallest (or from the largest):
    # the spread of sizes widens by one step at most.
    while (gap := units - sum(sizes)) != 0:
        i = sizes.index(min(sizes)) if gap > 0 else sizes.index(max(sizes))
        sizes[i] += 1 if gap > 0 else -1
    slot = minutes * MINUTE_MS // n
    times = [k * slot + rng.randrange(max(1, slot)) for k in range(n)]
    return [Slice(t, step * s) for t, s in zip(times, sizes, strict=True)]


def size_bounds(amount: Decimal, n: int, jitter: Decimal, step: Decimal) -> tuple[Decimal, Decimal]:
    """The least and most any slice of a plan may be: the jitter around the even share, two
    steps either way for rounding to whole steps."""
    even = amount / n
    return even * (1 - jitter) - 2 * step, even * (1 + jitter) + 2 * step


def due_now(slices: list[Slice], elapsed_ms: int) -> Decimal:
    """What the plan has reached by `elapsed_ms`."""
    return sum((s.amount for s in slices if s.offset_ms <= elapsed_ms), ZERO)


def participation_cap(recent_volume: Decimal, participation_pct: Decimal) -> Decimal:
    return max(ZERO, recent_volume) * participation_pct / 100


def next_amount(
    due: Decimal,
    filled: Decimal,
    total: Decimal,
    recent_volume: Decimal,
    limits: SliceLimits,
    step: Decimal,
    min_amount: Decimal,
) -> Decimal:
    """What a slice may send now: behind the plan, within the cap and what is left; 0 when that is
    below the market's minimum (it waits for the next slice)."""
    behind = min(due, total) - filled
    cap = participation_cap(recent_volume, limits.participation_pct)
    amount = floor_to(max(ZERO, min(behind, cap, total - filled)), step)
    return amount if amount >= min_amount and amount > 0 else ZERO
