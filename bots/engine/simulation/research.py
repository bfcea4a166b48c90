"""Research mode: the Avellaneda-Stoikov (2008) market-making experiment, over many runs at once,
with the GLFT quote run over the same paths.

The model (Avellaneda & Stoikov, "High-frequency trading in a limit order book", Quantitative
Finance 8(3), 2008, section 4):

- The mid price s starts at `s0` and moves once per step of `dt` up to `T`. By default it takes
  the paper's binomial step, +sigma*sqrt(dt) or -sigma*sqrt(dt) with probability 1/2 each
  (`mid_step="binomial"`); `mid_step="normal"` takes sigma*sqrt(dt)*N(0, 1) instead. Both are
  Brownian motion without drift, with the same variance per step.
- At each step the market maker quotes a bid and an ask. During the step a market buy reaches
  the ask, at distance delta_a above the mid, with probability A*exp(-k*delta_a)*dt, and a
  market sell the bid likewise (each capped at 1; a quote on the wrong side of the mid has a
  negative distance and fills more often, as in the paper). Each fill is one unit, at the
  quoted price. Then the mid moves.
- A run's profit is its cash plus its inventory valued at the mid at T: cash + q*s_T.

Three strategies, run on the same random draws (same mid paths, same arrival coin flips):

- "inventory": the MM engine's own Avellaneda-Stoikov quote, `volatility.avellaneda_stoikov`,
  around the reservation price r = s - q*gamma*sigma^2*(T-t), of total spread
  gamma*sigma^2*(T-t) + (2/gamma)*ln(1 + gamma/k).
- "glft": the MM engine's own GLFT quote, `glft.glft_quote`, with the same A, k, gamma and
  sigma, xi (default gamma), the fill size `delta` (1: one unit, as every fill here) and the
  inventory limit `Q` (None: none); a side the limit turns off does not fill. It has no
  horizon: the same quote at every step for the same q. Its mean spread counts the steps on
  which it quotes both sides. With A = 0 its skew is infinite (no market order ever brings the
  inventory back) and it quotes neither side.
- "symmetric": a quote centred on the mid whose total spread is the inventory strategy's
  average total spread (over every step of every run), whatever the inventory.

Unit mapping. The engine works in bps of a reference price x and its gamma, kappa and sigma are
per bp; the paper works in price units. With

    gamma_bps = gamma * x / 1e4    k_bps = k * x / 1e4    sigma_bps = sigma / x * 1e4
    horizon = T - t                q unchanged (one unit per fill)

the engine's risk term is gamma_bps * sigma_bps^2 * (T-t) = gamma * sigma^2 * (T-t) * 1e4 / x bps,
which is gamma * sigma^2 * (T-t) in price units once multiplied by x / 1e4; its second term is
(2 / gamma_bps) * ln(1 + gamma_bps / k_bps) = (2 / gamma) * (1e4 / x) * ln(1 + gamma / k) bps,
that is (2 / gamma) * ln(1 + gamma / k) in price units; and the reservation offset -q * risk
maps the same way. The arrival intensity A*exp(-k * delta) is unchanged, since
k_bps * delta_bps = k * delta. So x cancels out of every figure in price units: the engine gives
the paper's quote whatever reference x it is converted at. The simulation converts at s0, which
lets one call of the engine serve every run holding the same inventory at a step (its result
depends only on q and T-t), mapped back with np.unique.

The GLFT quote is asked in price units directly: its formula is the same in any units (in bps
of x, xi*Delta/k and gamma/(A*Delta*k) are unchanged and both c1 and sigma*c2 scale by 1e4/x),
and it depends on q alone, so it is asked once per distinct inventory over the whole run.

Floats are used only here, in the vectorised simulation; the engine's quote is computed in
Decimal and converted once per (step, inventory).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from decimal import Decimal

import numpy as np

from bots.engine.market_making import glft, volatility

BPS = 10_000
MID_STEPS = ("binomial", "normal")
MAX_CELLS = 50_000_000  # runs x steps: the draws take 8 bytes a cell, three times over


@dataclass(frozen=True)
class Params:
    """The experiment's parameters; the defaults are the paper's (its gamma = 0.1 case)."""

    s0: float = 100.0  # the mid at t = 0
    T: float = 1.0  # the horizon
    sigma: float = 2.0  # the mid's volatility, price units per sqrt(unit of time)
    dt: float = 0.005  # one step
    gamma: float = 0.1  # risk aversion
    k: float = 1.5  # decay of the arrival intensity with distance from the mid
    A: float = 140.0  # arrival intensity at distance zero
    runs: int = 1000
    mid_step: str = "binomial"
    xi: float | None = None  # GLFT's penalty; None: gamma
    delta: float = 1.0  # GLFT's fill size Delta (every fill here is one unit)
    Q: float | None = None  # GLFT's inventory limit; None: none

    @property
    def steps(self) -> int:
        return int(round(self.T / self.dt))


def check(params: Params) -> list[str]:
    """What is wrong with `params`, one message per problem; empty when it can run."""
    problems = []
    for name in ("s0", "T", "dt", "gamma", "k"):
        value = getattr(params, name)
        if not np.isfinite(value) or value <= 0:
            problems.append(f"{name} must be a positive number, not {value!r}")
    for name in ("sigma", "A"):
        value = getattr(params, name)
        if not np.isfinite(value) or value < 0:
            problems.append(f"{name} must be zero or a positive number, not {value!r}")
    for name in ("xi", "delta"):
        value = getattr(params, name)
        if value is not None and (not np.isfinite(value) or value <= 0):
            problems.append(f"{name} must be a positive number, not {value!r}")
    if params.Q is not None and (not np.isfinite(params.Q) or params.Q < 0):
        problems.append(f"Q must be zero or a positive number, not {params.Q!r}")
    if not isinstance(params.runs, int) or params.runs < 1:
        problems.append(f"runs must be a whole number of at least 1, not {params.runs!r}")
    if params.mid_step not in MID_STEPS:
        problems.append(f"mid_step must be one of {', '.join(MID_STEPS)}, not {params.mid_step!r}")
    if problems:
        return problems
    steps = params.T / params.dt
    if steps < 1 or abs(steps - round(steps)) > 1e-9 * steps:
        problems.append(
            f"T ({params.T}) must be a whole number (at least 1) of steps dt ({params.dt})"
        )
    elif params.runs * params.steps > MAX_CELLS:
        problems.append(
            f"runs x steps is {params.runs * params.steps:,}; at most {MAX_CELLS:,} fit in memory"
        )
    return problems


def _decimal(value: float) -> Decimal:
    return Decimal(repr(float(value)))


class InventoryQuote:
    """The engine's Avellaneda-Stoikov quote in the paper's price units (see the module's
    docstring for the mapping), for a given inventory and step."""

    def __init__(self, params: Params) -> None:
        self.x = _decimal(params.s0)  # the reference the units are converted at
        self.gamma_bps = _decimal(params.gamma) * self.x / BPS
        self.k_bps = _decimal(params.k) * self.x / BPS
        self.sigma_bps = _decimal(params.sigma) / self.x * BPS
        self.T = _decimal(params.T)
        self.dt = _decimal(params.dt)

    def at(self, q: int, step: int) -> tuple[float, float]:
        """(reservation price minus the mid, total spread), in price units, holding q at the
        start of step `step` (t = step * dt)."""
        horizon = self.T - step * self.dt
        quote = volatility.avellaneda_stoikov(
            Decimal(int(q)), self.sigma_bps, self.gamma_bps, self.k_bps, horizon
        )
        to_price = self.x / BPS
        return float(quote.reservation_bps * to_price), float(quote.spread_bps * to_price)


@dataclass(frozen=True)
class StrategyResult:
    name: str
    mean_spread: float  # ask minus bid, over every step of every run
    profit: np.ndarray  # per run: cash + q * s at T
    final_inventory: np.ndarray  # per run

    def summary(self) -> dict:
        """Standard deviations are over the runs (population, ddof=0)."""
        return {
            "strategy": self.name,
            # None: never quoted both sides (GLFT with A = 0).
            "mean_spread": None if np.isnan(self.mean_spread) else float(self.mean_spread),
            "profit_mean": float(self.profit.mean()),
            "profit_std": float(self.profit.std()),
            "final_inventory_mean": float(self.final_inventory.mean()),
            "final_inventory_std": float(self.final_inventory.std()),
        }


@dataclass(frozen=True)
class ResearchResult:
    params: Params
    seed: int
    inventory: StrategyResult
    glft: StrategyResult
    symmetric: StrategyResult

    def summary(self) -> dict:
        return {
            "params": asdict(self.params),
            "seed": self.seed,
            "strategies": [
                self.inventory.summary(), self.glft.summary(), self.symmetric.summary()
            ],
        }


# A quoting rule: given the step and every run's inventory, each run's (reservation offset from
# the mid, total spread) in price units, and optionally (bid quoted, ask quoted) masks.
Quoter = Callable[[int, np.ndarray], tuple[np.ndarray, ...]]


def _draws(params: Params, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each run's mid moves and the uniform draws its bid and ask fills are decided by."""
    rng = np.random.default_rng(seed)
    shape = (params.runs, params.steps)
    scale = params.sigma * np.sqrt(params.dt)
    if params.mid_step == "binomial":
        moves = np.where(rng.random(shape) < 0.5, scale, -scale)
    else:
        moves = scale * rng.standard_normal(shape)
    return moves, rng.random(shape), rng.random(shape)


def _run(name: str, params: Params, seed: int, quoter: Quoter) -> StrategyResult:
    moves, ask_draw, bid_draw = _draws(params, seed)
    s = np.full(params.runs, float(params.s0))
    q = np.zeros(params.runs, dtype=np.int64)
    cash = np.zeros(params.runs)
    spread_sum = 0.0
    two_sided = 0
    for step in range(params.steps):
        offset, spread, *quoting = quoter(step, q)
        ask = s + offset + spread / 2
        bid = s + offset - spread / 2
        # A uniform draw below A*exp(-k*delta)*dt: a fill with that probability (certain when
        # it is 1 or more). The exponent is capped only to keep exp finite, far above 1.
        rate = params.A * params.dt
        ask_fill = ask_draw[:, step] < rate * np.exp(np.minimum(-params.k * (ask - s), 700))
        bid_fill = bid_draw[:, step] < rate * np.exp(np.minimum(-params.k * (s - bid), 700))
        if quoting:
            bid_on, ask_on = quoting
            bid_fill &= bid_on
            ask_fill &= ask_on
            both = bid_on & ask_on
            spread_sum += float(np.sum(spread[both]))
            two_sided += int(np.count_nonzero(both))
        else:
            spread_sum += float(np.sum(spread))
            two_sided += params.runs
        q += bid_fill.astype(np.int64) - ask_fill.astype(np.int64)
        cash += np.where(ask_fill, ask, 0.0) - np.where(bid_fill, bid, 0.0)
        s = s + moves[:, step]
    return StrategyResult(
        name=name,
        mean_spread=spread_sum / two_sided if two_sided else float("nan"),
        profit=cash + q * s,
        final_inventory=q,
    )


def inventory_quoter(params: Params) -> Quoter:
    """The engine's quote, asked once per distinct inventory at each step."""
    quote = InventoryQuote(params)

    def quoter(step: int, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        values, where = np.unique(q, return_inverse=True)
        answers = np.array([quote.at(int(v), step) for v in values])
        return answers[where, 0], answers[where, 1]

    return quoter


def glft_quoter(params: Params) -> Quoter:
    """The engine's GLFT quote, asked once per distinct inventory over the whole run."""
    model = glft.GlftParams(
        A=_decimal(params.A), k=_decimal(params.k), gamma=_decimal(params.gamma),
        delta=_decimal(params.delta),
        xi=None if params.xi is None else _decimal(params.xi),
        q_limit=None if params.Q is None else _decimal(params.Q),
    )
    sigma = _decimal(params.sigma)
    known: dict[int, tuple[float, float, bool, bool]] = {}

    def at(q: int) -> tuple[float, float, bool, bool]:
        if params.A == 0:
            return 0.0, 0.0, False, False  # no arrivals: the model has no quote
        if q not in known:
            quote = glft.glft_quote(Decimal(q), sigma, model)
            bid = quote.half_spread if quote.bid_depth is None else quote.bid_depth
            ask = quote.half_spread if quote.ask_depth is None else quote.ask_depth
            # (reservation offset, total spread) as the other quoters give them.
            known[q] = (float((ask - bid) / 2), float(ask + bid),
                        quote.bid_depth is not None, quote.ask_depth is not None)
        return known[q]

    def quoter(step: int, q: np.ndarray) -> tuple[np.ndarray, ...]:
        values, where = np.unique(q, return_inverse=True)
        answers = [at(int(v)) for v in values]
        columns = [np.array(c)[where] for c in zip(*answers, strict=True)]
        return columns[0], columns[1], columns[2].astype(bool), columns[3].astype(bool)

    return quoter


def symmetric_quoter(spread: float) -> Quoter:
    def quoter(step: int, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros(q.shape), np.full(q.shape, spread)

    return quoter


def run(params: Params | None = None, seed: int = 0) -> ResearchResult:
    """The three strategies over `params.runs` runs, on the same draws from `seed`."""
    params = params or Params()
    problems = check(params)
    if problems:
        raise ValueError("; ".join(problems))
    inventory = _run("inventory", params, seed, inventory_quoter(params))
    gueant = _run("glft", params, seed, glft_quoter(params))
    symmetric = _run("symmetric", params, seed, symmetric_quoter(inventory.mean_spread))
    return ResearchResult(
        params=params, seed=seed, inventory=inventory, glft=gueant, symmetric=symmetric
    )
