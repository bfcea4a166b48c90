"""Liquidity sizing: how deep must each bot's pools be, by Monte Carlo over simulated days.

A model of the chain reaction, vectorised with NumPy (the one place the engine uses floats):
users send market orders at Poisson times with exponential sizes, buying with probability
`buy_share`; the MM account takes the other side at the mid plus half its spread, and the hedge
account does the opposite trade on the outside venue at the mid plus its cost. The mid follows a
geometric Brownian motion. Perfect hedging keeps the combined position flat while the two
accounts drift apart; an account "runs dry" when one of its balances falls below its floor,
and that is when a rebalancing transfer is needed.

Paths are simulated in blocks of time so memory stays bounded however long the horizon.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

SECONDS_PER_DAY = 86_400
PRICE_STEP_SECONDS = 60
BLOCK_CELLS = 1_000_000  # paths x steps at once: arrays of 8 MB, which stay in cache


@dataclass(frozen=True)
class Flow:
    """Users' trading against the MM bot, and the market around it."""

    trades_per_minute: float
    mean_size: float  # base units per user order
    buy_share: float = 0.5  # probability that a user order is a buy
    price: float = 65_000.0
    daily_volatility: float = 0.03  # standard deviation of the mid's daily log return
    mm_half_spread_bps: float = 10.0  # the MM bot's price distance from the mid
    hedge_cost_bps: float = 6.0  # the hedge's distance from the mid, taker fee included


@dataclass(frozen=True)
class Pools:
    """Starting balances of both bot accounts, and the floors under which an account is dry."""

    mm_base: float
    mm_quote: float
    hedge_base: float
    hedge_quote: float
    floor_base: float = 0.0
    floor_quote: float = 0.0


@dataclass
class RunResult:
    """Per path: the day the first account ran dry (inf if none did), and the edge earned."""

    days_to_dry: np.ndarray
    edge: np.ndarray  # quote currency kept over the horizon (or until dry)
    # Per path, the deepest each account went below its start over the horizon (>= 0):
    mm_base_drawdown: np.ndarray
    mm_quote_drawdown: np.ndarray
    hedge_base_drawdown: np.ndarray
    hedge_quote_drawdown: np.ndarray
    horizon_days: float


def simulate(
    flow: Flow,
    pools: Pools,
    days: float,
    paths: int,
    seed: int,
    dt: float = 1.0,
    progress: Callable[[float], None] | None = None,
) -> RunResult:
    """Run `paths` independent paths of `days` in steps of `dt` seconds."""
    if paths < 1 or days <= 0 or dt <= 0:
        raise ValueError("paths, days and dt must be positive")
    rng = np.random.default_rng(seed)
    steps = int(round(days * SECONDS_PER_DAY / dt))
    block = max(1, min(steps, BLOCK_CELLS // paths))
    rate = flow.trades_per_minute / 60.0 * dt
    sigma = flow.daily_volatility * np.sqrt(dt / SECONDS_PER_DAY)
    mm_h = flow.mm_half_spread_bps / 1e4
    hedge_c = flow.hedge_cost_bps / 1e4

    # Per path, running sums from the start: base users bought (B), its cost at the mid (P),
    # and the mid value of all volume (V). Every balance is a line in these:
    #   MM base = mm_base - B        MM quote = mm_quote + P + h*V
    #   hedge base = hedge_base + B  hedge quote = hedge_quote - P - c*V      edge = (h - c)*V
    log_price = np.full(paths, np.log(flow.price))
    B, P, V = np.zeros(paths), np.zeros(paths), np.zeros(paths)
    dry_step = np.full(paths, np.inf)
    edge_at_dry = np.zeros(paths)
    worst = {name: np.zeros(paths) for name in ("mmb", "mmq", "hb", "hq")}
    # A balance under its floor, as a bound on B, P + h*V and P + c*V:
    b_high, b_low = pools.mm_base - pools.floor_base, pools.floor_base - pools.hedge_base
    x_low, y_high = pools.floor_quote - pools.mm_quote, pools.hedge_quote - pools.floor_quote

    done = 0
    while done < steps:
        n = min(block, steps - done)
        cells = paths * n
        # A Poisson process: a Poisson number of orders in the block, each in a uniformly
        # drawn (path, step) cell; far cheaper than a Poisson draw per cell.
        total = int(rng.poisson(rate * cells))
        cell = rng.integers(0, cells, total)
        sizes = rng.exponential(flow.mean_size, size=total)
        signs = np.where(rng.random(total) < flow.buy_share, 1.0, -1.0)
        bought = np.bincount(cell, sizes * signs, minlength=cells).reshape(paths, n)
        volume = np.bincount(cell, sizes, minlength=cells).reshape(paths, n)

        # The mid moves once a minute of simulated time (within a minute its moves change
        # what the accounts pay by far less than the spread) and holds between moves.
        per = max(1, int(round(PRICE_STEP_SECONDS / dt)))
        moves = -(-n // per)
        move_sigma = sigma * np.sqrt(per)
        walk = np.cumsum(move_sigma * rng.standard_normal((paths, moves)) - 0.5 * move_sigma**2, axis=1)
        log_path = log_price[:, None] + walk
        price = np.repeat(np.exp(log_path), per, axis=1)[:, :n]

        Bp = B[:, None] + np.cumsum(bought, axis=1)
        Pp = P[:, None] + np.cumsum(price * bought, axis=1)
        Vp = V[:, None] + np.cumsum(price * volume, axis=1)
        Xp = Pp + mm_h * Vp
        Yp = Pp + hedge_c * Vp
        b_max, b_min, x_min, y_max = Bp.max(axis=1), Bp.min(axis=1), Xp.min(axis=1), Yp.max(axis=1)
        worst["mmb"] = np.maximum(worst["mmb"], b_max)
        worst["hb"] = np.maximum(worst["hb"], -b_min)
        worst["mmq"] = np.maximum(worst["mmq"], -x_min)
        worst["hq"] = np.maximum(worst["hq"], y_max)

        # Only the paths that ran dry in this block need the step it happened at.
        crossing = np.isinf(dry_step) & (
            (b_max > b_high) | (b_min < b_low) | (x_min < x_low) | (y_max > y_high)
        )
        rows = np.flatnonzero(crossing)
        if rows.size:
            dry = (Bp[rows] > b_high) | (Bp[rows] < b_low) | (Xp[rows] < x_low) | (Yp[rows] > y_high)
            first = dry.argmax(axis=1)
            dry_step[rows] = done + first
            edge_at_dry[rows] = (mm_h - hedge_c) * Vp[rows, first]

        log_price = log_path[:, -1]
        B, P, V = Bp[:, -1], Pp[:, -1], Vp[:, -1]
        done += n
        if progress:
            progress(done / steps)

    # The desk pauses when an account runs dry, so a path's edge stops there.
    edge = np.where(np.isinf(dry_step), (mm_h - hedge_c) * V, edge_at_dry)
    return RunResult(
        days_to_dry=dry_step * dt / SECONDS_PER_DAY,
        edge=edge,
        mm_base_drawdown=worst["mmb"],
        mm_quote_drawdown=worst["mmq"],
        hedge_base_drawdown=worst["hb"],
        hedge_quote_drawdown=worst["hq"],
        horizon_days=days,
    )


@dataclass(frozen=True)
class Requirement:
    """Balances each account must start with to last the horizon at the given confidence."""

    mm_base: float
    mm_quote: float
    hedge_base: float
    hedge_quote: float
    horizon_days: float
    confidence: float


def required_pools(result: RunResult, pools: Pools, confidence: float = 0.95) -> Requirement:
    """Starting balances with which no account runs dry on `confidence` of the paths.

    A path needs, per balance, its floor plus the deepest it went below its start; a path is
    covered when all four fit. Each balance is set at the same quantile of its own drawdowns,
    the smallest quantile at which the covered share reaches `confidence` (the four drawdowns
    move together but not in lockstep, so it lies between `confidence` and 1).
    """
    drawdowns = np.stack(
        [result.mm_base_drawdown, result.mm_quote_drawdown, result.hedge_base_drawdown,
         result.hedge_quote_drawdown]
    )

    def levels(q: float) -> np.ndarray:
        return np.quantile(drawdowns, q, axis=1)

    def covered(q: float) -> float:
        return float((drawdowns <= levels(q)[:, None]).all(axis=0).mean())

    low, high = confidence, 1.0
    if covered(low) < confidence:
        for _ in range(30):  # bisection to well under one path's share
            middle = (low + high) / 2
            low, high = (low, middle) if covered(middle) >= confidence else (middle, high)
        low = high
    mm_base, mm_quote, hedge_base, hedge_quote = levels(low)
    return Requirement(
        mm_base=pools.floor_base + float(mm_base),
        mm_quote=pools.floor_quote + float(mm_quote),
        hedge_base=pools.floor_base + float(hedge_base),
        hedge_quote=pools.floor_quote + float(hedge_quote),
        horizon_days=result.horizon_days,
        confidence=confidence,
    )


def summary(result: RunResult) -> dict:
    """The figures an operator reads: how often and how soon an account runs dry, the edge."""
    dry = np.isfinite(result.days_to_dry)
    return {
        "paths": int(result.days_to_dry.size),
        "horizon_days": result.horizon_days,
        "share_dry": float(dry.mean()),
        "median_days_to_dry": float(np.median(result.days_to_dry)) if dry.mean() > 0.5 else None,
        "p05_days_to_dry": float(np.quantile(result.days_to_dry, 0.05)) if dry.mean() > 0.05 else None,
        "edge_mean": float(result.edge.mean()),
        "edge_p05": float(np.quantile(result.edge, 0.05)),
        "edge_p95": float(np.quantile(result.edge, 0.95)),
    }


HISTOGRAM_BINS = 50


def histogram(values: np.ndarray, bins: int = HISTOGRAM_BINS, low: float | None = None,
              high: float | None = None) -> dict:
    """A bounded summary of a distribution for a plot: `bins` equal bins over [low, high]
    (the finite values' range by default), their counts, and how many values were not finite
    (a path that never ran dry has infinite days to dry). Plain lists, ready for JSON."""
    if bins < 1:
        raise ValueError("bins must be positive")
    finite = values[np.isfinite(values)]
    lo = float(finite.min()) if low is None and finite.size else (low or 0.0)
    hi = float(finite.max()) if high is None and finite.size else (high if high is not None else lo)
    if hi <= lo:
        hi = lo + 1.0  # one value, or none: a bin of width one around it still shows it
    counts, edges = np.histogram(finite, bins=bins, range=(lo, hi))
    return {
        "edges": [float(e) for e in edges],
        "counts": [int(c) for c in counts],
        "not_finite": int(values.size - finite.size),
    }
