"""Simulated users and a simulated outside market, deterministic from a seed.

Each second of a market's flow is drawn from its own generator, seeded by (seed, market, second),
so any process can compute the same second without sharing state, and a rerun replays it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from decimal import Decimal

from bots.engine.rules import BPS, BUY, SELL


@dataclass(frozen=True)
class UserOrder:
    side: str
    amount: Decimal  # base amount, before the venue's rounding


# The trade limiter (max_trades_per_minute) counts the MM bot's fills, and one user's market order
# fills about 1.5 of the demo book's levels, in Poisson bursts. On the demo's book
# (bots.engine.simulation.demo, 5 seeds x 20 minutes) users at a third of the limit never tripped it;
# at half of it four seeds of five did, and the market flipped between running and holding.
LIMIT_SHARE_FOR_USERS = 3


def users_rate_ceiling(max_trades_per_minute: int) -> float | None:
    """The most user orders a minute that keep a market clear of its trade limiter (None: off)."""
    if max_trades_per_minute <= 0:
        return None
    return max_trades_per_minute / LIMIT_SHARE_FOR_USERS


def _rng(seed: int, key: str, second: int) -> random.Random:
    # random.Random is a simulation source here, not a security one.
    return random.Random(f"{seed}|{key}|{second}")  # noqa: S311


def user_orders(
    seed: int,
    key: str,
    second: int,
    trades_per_minute: float,
    mean_amount: Decimal,
    buy_share: float = 0.5,
) -> list[UserOrder]:
    """The market orders users send during one second: a Poisson count, exponential sizes."""
    rng = _rng(seed, key, second)
    threshold, count, product = math.exp(-trades_per_minute / 60), 0, rng.random()
    while product > threshold:  # Knuth's Poisson sampler; the rate per second is small
        count += 1
        product *= rng.random()
    orders = []
    for _ in range(count):
        side = BUY if rng.random() < buy_share else SELL
        amount = Decimal(str(round(rng.expovariate(1.0), 6))) * mean_amount
        orders.append(UserOrder(side, amount))
    return orders


def random_walk_step(
    price: Decimal, seed: int, key: str, second: int, volatility_bps: Decimal
) -> Decimal:
    """The next reference price: a Gaussian step of `volatility_bps` standard deviation."""
    shock = Decimal(str(round(_rng(seed, key, second).gauss(0.0, 1.0), 8)))
    return price * (1 + shock * volatility_bps / BPS)
