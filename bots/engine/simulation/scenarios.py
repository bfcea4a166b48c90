"""The simulation's scenarios: each a deterministic function of (seed, second) giving the outside
market's mid and the users who trade, so a seed and a list of actions replay the same run.

- steady: random users, half buying, half selling; the mid wanders.
- whale: the same, plus one large buyer every few seconds, draining the MM bot's BTC.
- trend: the mid drifts up all day and users lean to buying.
- arbitrage: the outside mid jumps now and then; an arbitrageur hits the MM bot's quotes that
  the jump left mispriced, before its next tick moves them.
- venue_down: the hedge venue is unreachable for a minute: hedges wait, quotes go.
- selling_pressure: users sell, a large seller hits the bids, the mid slides; the intervention
  detectors propose a buyback for the visitor to approve (bots.engine.simulation.price_action).

`run()` is the entry point for `manage.py simulate` and the tests.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from bots.engine.rules import BPS, BUY, SELL
from bots.engine.simulation.flow import UserOrder, random_walk_step, user_orders
from bots.engine.simulation.sim_inputs import (
    MAX_RUN_SECONDS,
    InvalidInput,
    action_token,
    parse_action,
)

D = Decimal


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    description: str
    walk_bps: Decimal = D("2")  # standard deviation of the mid's step per second
    drift_bps: Decimal = D("0")  # added to every step
    buy_tilt_pct: Decimal = D("0")  # added to the users' buy share
    whale_every: int = 0  # seconds between the whale's buys (0: no whale)
    whale_mean: Decimal = D("0.25")
    jump_every: int = 0  # seconds between outside jumps (0: none)
    jump_pct: Decimal = D("0.6")
    arbitrageur: bool = False
    down_from: int = -1  # seconds during which the hedge venue is unreachable
    down_until: int = -1
    whale_side: str = BUY
    price_action: bool = False  # the intervention detectors watch (bots.engine.simulation.price_action)

    def next_mid(self, seed: int, second: int, mid: Decimal) -> Decimal:
        mid = random_walk_step(mid, seed, f"{self.name}:mid", second, self.walk_bps)
        mid = mid * (1 + self.drift_bps / BPS)
        if self.jump_every and second > 0 and second % self.jump_every == 0:
            sign = 1 if _rng(seed, f"{self.name}:jump", second).random() < 0.5 else -1
            mid = mid * (1 + sign * self.jump_pct / 100)
        return mid

    def orders(
        self, seed: int, second: int, rate: Decimal, buy_pct: Decimal, mean: Decimal
    ) -> list[tuple[str, UserOrder]]:
        """(who, order) for the users of this second; the arbitrageur is not among them (he
        reacts to the books, which the simulation holds)."""
        share = float(min(D("100"), max(D("0"), buy_pct + self.buy_tilt_pct)) / 100)
        found = [
            ("users", order)
            for order in user_orders(seed, self.name, second, float(rate), mean, share)
        ]
        if self.whale_every and second > 0 and second % self.whale_every == 0:
            size = _rng(seed, f"{self.name}:whale", second).expovariate(1.0)
            amount = Decimal(str(round(0.5 + size, 4))) * self.whale_mean
            found.append(("whale", UserOrder(self.whale_side, amount)))
        return found

    def venue_down(self, second: int) -> bool:
        return self.down_from <= second < self.down_until

    def describe_event(self, second: int) -> str:
        if second == self.down_from:
            return "the hedge venue stops answering"
        if second == self.down_until:
            return "the hedge venue is back"
        return ""


def _rng(seed: int, key: str, second: int) -> random.Random:
    return random.Random(f"{seed}|{key}|{second}")  # noqa: S311 - a simulation source


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("steady", "Steady two-way flow",
                 "Random users, as many buying as selling; the outside mid wanders."),
        Scenario("whale", "A whale buying",
                 "Random users, plus one large buyer every 5 s: the MM bot's BTC drains.",
                 whale_every=5),
        Scenario("trend", "A trend day",
                 "The outside mid climbs about 0.5% a minute and users lean to buying.",
                 drift_bps=D("0.8"), buy_tilt_pct=D("20")),
        Scenario("arbitrage", "An arbitrageur",
                 "Every 40 s the outside mid jumps 0.6%; an arbitrageur takes the MM bot's "
                 "quotes the jump left mispriced before its next tick moves them.",
                 jump_every=40, arbitrageur=True),
        Scenario("selling_pressure", "Selling pressure",
                 "Users lean to selling, a large seller hits the bids every 4 s and the outside "
                 "mid slides: the detectors propose a buyback, you approve it, and its slices buy "
                 "on the external exchange at random times within a price cap.",
                 drift_bps=D("-0.5"), buy_tilt_pct=D("-35"), whale_every=4, whale_mean=D("0.3"),
                 whale_side=SELL, price_action=True),
        Scenario("venue_down", "Hedge venue down",
                 "The hedge venue is unreachable from second 30 to second 90: hedges wait and "
                 "are retried, and the MM bot's quotes go once its reference is stale.",
                 down_from=30, down_until=90),
    )
}


def get(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise InvalidInput(
            {"scenario": f"unknown scenario {name[:30]!r}: one of {', '.join(SCENARIOS)}"}
        ) from None


def run(
    name: str,
    seed: int,
    seconds: int,
    settings: dict | None = None,
    actions: list | None = None,
):
    """Run scenario `name` from `seed` and return the Simulation (bots.engine.simulation.demo).

    `settings` are the visitor's settings as names to values (strings or numbers; see
    bots.engine.simulation.sim_inputs.FIELDS, e.g. {"spread": "20", "mm_btc": "5"}); missing ones take
    their defaults. `actions` are applied first, in order, each a tuple such as ("buy",
    Decimal("0.5")), ("sell", ...), ("shock", Decimal("-2")), ("play", 60), ("apply",),
    ("flow", Decimal("30"), Decimal("80")), or its short string form ("b0.5", "p60", "a").
    Then the run plays `seconds` more simulated seconds. The same arguments give the same run:
    compare `summary()`, `events()` and `series` of two runs. Raises InvalidInput on bad input.
    `Simulation.summary()` is the run as plain JSON-able values.
    """
    from bots.engine.simulation.demo import Simulation  # that module imports this one

    if not isinstance(seconds, int) or not 0 <= seconds <= MAX_RUN_SECONDS:
        raise InvalidInput({"seconds": f"seconds must be 0 to {MAX_RUN_SECONDS}"})
    sim = Simulation(name, seed, settings)
    for action in actions or []:
        # A tuple goes through its short form too, so that it meets the same checks as a link.
        try:
            token = action if isinstance(action, str) else action_token(tuple(action))
        except (IndexError, TypeError, ValueError, ArithmeticError):
            raise InvalidInput({"action": f"not an action: {str(action)[:40]}"}) from None
        sim.act(parse_action(token))
    left = seconds
    while left > 0:
        chunk = min(left, 120)
        sim.act(("play", chunk))
        left -= chunk
    return sim

