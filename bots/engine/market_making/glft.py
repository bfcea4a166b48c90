"""The Gueant-Lehalle-Fernandez-Tapia quote: closed-form bid and ask depths with an inventory limit.

Gueant, Lehalle & Fernandez-Tapia, "Dealing with the inventory risk: a solution to the market
making problem", Mathematics and Financial Economics 7(4), 477-507, 2013, solve the market
maker's problem over an infinite horizon with inventory bounded to [-Q, Q]; its closed-form
approximations, as Gueant writes them in "Optimal market making" (Applied Mathematical Finance
24(2), 2017; arXiv:1605.01862, equations 4.6 and 4.7) and as hftbacktest's GLFT tutorial splits
them into a half spread and a skew:

    c1 = ln(1 + xi*Delta/k) / (xi*Delta)
    c2 = sqrt(gamma / (2*A*Delta*k) * (1 + xi*Delta/k) ** (k/(xi*Delta) + 1))
    half_spread = c1 + Delta/2 * sigma * c2
    skew        = sigma * c2
    bid depth   = half_spread + skew * q        (below the reference)
    ask depth   = half_spread - skew * q        (above it)

A market order reaches a quote at depth delta with intensity A*exp(-k*delta); sigma is the
reference's volatility; gamma the risk aversion and xi the one in the objective's penalty
(xi = gamma is the paper's first model, xi = 0 its second); q the inventory and Delta the size of
one fill in the same units (hftbacktest counts q in orders and takes Delta = 1).

The inventory limit: a fill of Delta must not take q beyond [-Q, Q], so the bid stops quoting
once q + Delta > Q and the ask once q - Delta < -Q (the paper quotes no bid at q = Q).

The formulas hold in any consistent units: the live tick uses bps of the reference, sigma in bps
per square-root second, A per second, q in level sizes; `manage.py simulate quote` and research
mode use price units. A depth never goes below zero: for a large inventory the reducing side's
formula would quote through the reference, and it stops at the reference instead (the live
tick's hedge floor lifts it further).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal(0)


@dataclass(frozen=True)
class GlftParams:
    A: Decimal  # arrival intensity at depth zero
    k: Decimal  # its decay with the depth
    gamma: Decimal  # risk aversion
    delta: Decimal  # the size of one fill, in the units of q
    xi: Decimal | None = None  # None: gamma
    q_limit: Decimal | None = None  # Q; None: no limit

    def problems(self) -> list[str]:
        """What makes these parameters unusable, one message each; empty when they can quote."""
        found = [
            f"{name} must be more than 0, not {value}"
            for name, value in (("A", self.A), ("k", self.k), ("gamma", self.gamma),
                                ("delta", self.delta))
            if not value.is_finite() or value <= 0
        ]
        if self.xi is not None and (not self.xi.is_finite() or self.xi <= 0):
            found.append(f"xi must be more than 0 (or left out for gamma), not {self.xi}")
        if self.q_limit is not None and (not self.q_limit.is_finite() or self.q_limit < 0):
            found.append(f"Q must be 0 or more (or left out for no limit), not {self.q_limit}")
        return found


@dataclass(frozen=True)
class GlftQuote:
    half_spread: Decimal
    skew: Decimal  # depth moved per unit of inventory
    bid_depth: Decimal | None  # None: the bid stops (a fill would pass the inventory limit)
    ask_depth: Decimal | None


def coefficients(params: GlftParams) -> tuple[Decimal, Decimal]:
    """(c1, c2): the depth at no risk, and the skew per unit of sigma."""
    xi = params.gamma if params.xi is None else params.xi
    x = xi * params.delta
    c1 = (1 + x / params.k).ln() / x
    growth = (1 + x / params.k) ** (params.k / x + 1)
    c2 = (params.gamma / (2 * params.A * params.delta * params.k) * growth).sqrt()
    return c1, c2


def glft_quote(q: Decimal, sigma: Decimal, params: GlftParams) -> GlftQuote:
    """The depths at inventory `q` and volatility `sigma` (0 or more). ValueError for
    parameters `GlftParams.problems` refuses."""
    problems = params.problems()
    if sigma < 0 or not sigma.is_finite():
        problems.append(f"sigma must be 0 or more, not {sigma}")
    if not q.is_finite():
        problems.append(f"q must be a finite number, not {q}")
    if problems:
        raise ValueError("; ".join(problems))
    c1, c2 = coefficients(params)
    skew = sigma * c2
    half = c1 + params.delta / 2 * skew
    limit = params.q_limit
    bid = None if limit is not None and q + params.delta > limit else max(half + skew * q, ZERO)
    ask = None if limit is not None and q - params.delta < -limit else max(half - skew * q, ZERO)
    return GlftQuote(half_spread=half, skew=skew, bid_depth=bid, ask_depth=ask)
