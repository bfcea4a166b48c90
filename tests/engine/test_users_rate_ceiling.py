"""The simulated users' rate stays clear of the market's trade limiter: the demo's defaults, and
any rate up to the ceiling, never make the market flip between running and holding."""

from __future__ import annotations

import pytest

from bots.engine.simulation.demo import DEMO_QUOTES, Simulation
from bots.engine.simulation.flow import users_rate_ceiling
from bots.engine.simulation.sim_inputs import DEFAULTS


def test_the_ceiling_is_a_third_of_the_limit_and_none_when_the_limiter_is_off():
    assert users_rate_ceiling(90) == 30
    assert users_rate_ceiling(0) is None


def test_the_demo_widgets_default_rate_is_under_its_ceiling():
    assert DEFAULTS["rate"] <= users_rate_ceiling(DEMO_QUOTES["max_trades_per_minute"])


@pytest.mark.parametrize("seed", [1, 3])
def test_users_at_the_ceiling_never_trip_the_limiter(seed):
    ceiling = users_rate_ceiling(DEMO_QUOTES["max_trades_per_minute"])
    sim = Simulation("steady", seed, {"rate": str(ceiling)})
    states = set()
    for _ in range(600):
        sim.act(("play", 1))
        states.add((sim.state, sim.state_reason))
    assert sim.totals["mm_fills"] > 600 / 60 * ceiling  # users did trade, at about that rate
    assert {state for state, _ in states} == {"running"}, states
