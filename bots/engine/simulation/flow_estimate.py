"""A market's user flow, estimated from the MM bot's recorded fills: the inputs of the sizing
Monte Carlo (bots.engine.simulation.sizing.Flow), or a plain statement that there is too little to go on.

The model the sizing simulation assumes is: user orders arrive as a Poisson process, their
sizes are exponential, each is a buy with a fixed probability. The estimates are the maximum
likelihood ones for that model:

- one user order can sweep several MM levels and so give several fills with one timestamp and
  side: those are merged into one order first (sizes summed);
- trades per minute: orders after the first, over the time from the first to the end of the
  window (the first order only says when the count started, so a market that began trading
  midway through the window is not taken for a slow one);
- mean size: the mean of the order sizes (the exponential's one parameter);
- buy share: the share of orders that were user buys (MM sells);
- daily volatility: from prices sampled over time (see `daily_volatility`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bots.engine.rules import BUY, SELL, ZERO

MIN_FILLS = 20  # fewer orders than this say too little about the rate and the sizes
MIN_PRICE_SAMPLES = 10
SECONDS_PER_DAY = Decimal(86_400)


@dataclass(frozen=True)
class FillRecord:
    """One fill of the MM bot as recorded: venue time (ms), the MM bot's side, amount, price."""

    ms: int
    mm_side: str
    amount: Decimal
    price: Decimal


@dataclass(frozen=True)
class FlowEstimate:
    """What the fills say; `ok` is False (and `message` says why) when they say too little."""

    ok: bool
    message: str
    fills: int
    orders: int
    window_seconds: int
    trades_per_minute: Decimal | None = None
    mean_size: Decimal | None = None
    buy_share: Decimal | None = None


def user_orders(fills: list[FillRecord]) -> list[tuple[int, str, Decimal]]:
    """(ms, user side, size) per user order: fills sharing a timestamp and side merged."""
    merged: dict[tuple[int, str], Decimal] = {}
    for fill in fills:
        if fill.mm_side not in (BUY, SELL):
            raise ValueError(f"unknown side {fill.mm_side!r}")
        user_side = BUY if fill.mm_side == SELL else SELL
        key = (fill.ms, user_side)
        merged[key] = merged.get(key, ZERO) + fill.amount
    return sorted((ms, side, size) for (ms, side), size in merged.items())


def estimate_flow(
    fills: list[FillRecord], window_start_ms: int, window_end_ms: int
) -> FlowEstimate:
    """The flow over [window_start_ms, window_end_ms]; fills outside it are ignored."""
    if window_end_ms <= window_start_ms:
        raise ValueError("the window must end after it starts")
    inside = [f for f in fills if window_start_ms <= f.ms <= window_end_ms]
    orders = user_orders(inside)
    window_seconds = (window_end_ms - window_start_ms) // 1000
    hours = _hours(window_seconds)
    if len(orders) < MIN_FILLS:
        return FlowEstimate(
            ok=False,
            message=f"Not enough fills: {len(orders)} user orders over the last {hours} "
            f"(at least {MIN_FILLS} needed). Enter the flow by hand.",
            fills=len(inside),
            orders=len(orders),
            window_seconds=window_seconds,
        )
    span_minutes = Decimal(window_end_ms - orders[0][0]) / 60_000
    if span_minutes <= 0:
        return FlowEstimate(
            ok=False,
            message="Every fill has the same timestamp as the end of the window: no rate can be "
            "estimated. Enter the flow by hand.",
            fills=len(inside),
            orders=len(orders),
            window_seconds=window_seconds,
        )
    sizes = [size for _, _, size in orders]
    buys = sum(1 for _, side, _ in orders if side == BUY)
    return FlowEstimate(
        ok=True,
        message=f"Estimated from {len(inside)} fills ({len(orders)} user orders) "
        f"over the last {hours}.",
        fills=len(inside),
        orders=len(orders),
        window_seconds=window_seconds,
        trades_per_minute=(len(orders) - 1) / span_minutes,
        mean_size=sum(sizes, ZERO) / len(sizes),
        buy_share=Decimal(buys) / len(orders),
    )


def daily_volatility(samples: list[tuple[int, Decimal]]) -> Decimal | None:
    """Standard deviation of the daily log return, from (ms, price) samples; None with fewer
    than MIN_PRICE_SAMPLES usable ones.

    Each step's squared log return is a variance for its duration: their sum over the time
    covered is the variance per second (zero mean assumed: over hours the drift is noise
    beside the moves), scaled to a day. Uneven gaps between samples weigh correctly.
    """
    points = sorted((ms, price) for ms, price in samples if price is not None and price > 0)
    total, seconds, steps = ZERO, ZERO, 0
    for (t0, p0), (t1, p1) in zip(points, points[1:], strict=False):
        if t1 <= t0:
            continue
        move = (p1 / p0).ln()
        total += move * move
        seconds += Decimal(t1 - t0) / 1000
        steps += 1
    if steps + 1 < MIN_PRICE_SAMPLES or seconds <= 0:
        return None
    return (total / seconds * SECONDS_PER_DAY).sqrt()


def _hours(seconds: int) -> str:
    hours = Decimal(seconds) / 3600
    text = f"{hours:.1f}".rstrip("0").rstrip(".")
    return f"{text} hour" if text == "1" else f"{text} hours"
