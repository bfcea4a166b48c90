"""The reference's volatility over a rolling window, and the Avellaneda-Stoikov quote from it.

Avellaneda & Stoikov (Quantitative Finance 8(3), 2008): with inventory q, risk aversion gamma,
volatility sigma, order arrival decay k and horizon T-t,

    reservation price  r = s - q * gamma * sigma^2 * (T-t)
    total spread       gamma * sigma^2 * (T-t) + (2 / gamma) * ln(1 + gamma / k)

Here prices are measured in bps of the reference and q in sides' worth of levels (the base held
beyond the target divided by one side's total level size), so one gamma and one k suit BTC at
65,000 and a token at 0.01 alike. The horizon is rolling (the infinite-horizon variant): T-t is
a constant, as_horizon_seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bots.engine.rules import BPS, ZERO

# Samples kept across the window: enough for a steady estimate, few enough to store per market.
MAX_SAMPLES = 120

Sample = tuple[int, Decimal]  # (milliseconds, reference price)


def record_sample(
    samples: list[Sample], now_ms: int, price: Decimal, window_seconds: Decimal
) -> list[Sample]:
    """The samples with `price` added if the last one is old enough, and those past the window
    dropped. Spacing samples window/MAX_SAMPLES apart bounds the list whatever the tick rate."""
    window_ms = int(window_seconds * 1000)
    spacing = window_ms // MAX_SAMPLES
    kept = [(t, p) for t, p in samples if now_ms - t <= window_ms and t <= now_ms]
    if not kept or now_ms - kept[-1][0] >= spacing:
        kept.append((now_ms, price))
    return kept[-(MAX_SAMPLES + 1):]


def sigma_bps(samples: list[Sample]) -> Decimal:
    """Volatility of the reference in bps per square-root second, zero with under two samples.

    Each step's move in bps is scaled by the square root of its duration, so uneven tick gaps
    weigh correctly; the mean is taken as zero, as over a short window it is noise.
    """
    total, count = ZERO, 0
    for (t0, p0), (t1, p1) in zip(samples, samples[1:], strict=False):
        seconds = Decimal(t1 - t0) / 1000
        if seconds <= 0 or p0 <= 0:
            continue
        move = (p1 - p0) / p0 * BPS
        total += move * move / seconds
        count += 1
    if count == 0:
        return ZERO
    return (total / count).sqrt()


@dataclass(frozen=True)
class AvellanedaQuote:
    reservation_bps: Decimal  # reservation price, as bps from the reference (negative: below)
    spread_bps: Decimal  # total spread between the best bid and the best ask


def avellaneda_stoikov(
    q: Decimal, sigma: Decimal, gamma: Decimal, kappa: Decimal, horizon_seconds: Decimal
) -> AvellanedaQuote:
    risk = gamma * sigma * sigma * horizon_seconds
    spread = risk + (2 / gamma) * (1 + gamma / kappa).ln()
    return AvellanedaQuote(reservation_bps=-q * risk, spread_bps=spread)
