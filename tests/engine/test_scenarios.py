"""Scenarios are deterministic from their seed, settings and actions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bots.engine.simulation import demo
from bots.engine.simulation.demo import BTC, MM
from bots.engine.simulation.scenarios import SCENARIOS, run
from bots.engine.simulation.sim_inputs import InvalidInput, actions_text, parse_actions

ACTIONS = ["b0.3", "p20", "k-1.5", "s0.2", "f40/80", "p30"]


def same(a, b) -> bool:
    return (
        a.summary() == b.summary()
        and a.events() == b.events()
        and {k: list(v) for k, v in a.series.items()} == {k: list(v) for k, v in b.series.items()}
    )


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_the_same_seed_and_actions_give_the_same_run(name):
    first = run(name, 42, 60, {"rate": "30"}, ACTIONS)
    second = run(name, 42, 60, {"rate": "30"}, ACTIONS)

    assert same(first, second)
    assert first.summary()["user_trades"] > 0


def test_a_different_seed_gives_a_different_run():
    assert not same(run("steady", 1, 120), run("steady", 2, 120))


def test_the_action_list_replays_the_run_it_came_from():
    live = run("arbitrage", 5, 0, None, [])
    for token in ACTIONS + ["p60"]:
        live.act(parse_actions(token)[0])

    replay = run("arbitrage", 5, 0, None, parse_actions(actions_text(live.actions)))

    assert same(live, replay)


def test_the_whale_drains_the_mm_accounts_btc():
    sim = run("whale", 0, 120)

    assert sim.holding(MM, BTC) < Decimal("1")
    assert "BTC from the hedge account to the MM account" in sim.summary()["suggestion"]


def test_the_arbitrageur_takes_quotes_a_jump_left_mispriced():
    sim = run("arbitrage", 0, 90, {"rate": "0"})

    taken = [c for c in sim.chains if c["who"] == "arbitrageur" and c["fills"]]
    assert taken
    # He bought below (or sold above) where the hedge then traded: the MM bot lost on it.
    assert any(Decimal(c["edge"]) < 0 for c in taken if c["edge"] is not None)


def test_the_trend_day_moves_the_mid_up():
    sim = run("trend", 0, 300, {"rate": "0"})

    assert Decimal(sim.summary()["mid"]) > Decimal("65500")


def test_unknown_scenarios_and_overlong_runs_are_refused():
    with pytest.raises(InvalidInput, match="unknown scenario"):
        run("moon", 0, 10)
    with pytest.raises(InvalidInput):
        run("steady", 0, 100_000)


def test_many_short_plays_make_a_link_that_replays():
    live = run("steady", 8, 0)
    for _ in range(60):
        live.act(("play", 5))

    text = actions_text(live.actions)

    assert text == "p120,p120,p60"
    assert same(live, run("steady", 8, 0, None, parse_actions(text)))


def test_a_run_stops_taking_actions_at_the_cap(monkeypatch):
    monkeypatch.setattr(demo, "MAX_ACTIONS", 3)
    sim = run("steady", 0, 0, {"rate": "0"}, ["b0.1", "s0.1", "p5"])
    sim.act(("play", 5))  # merges into the last play

    with pytest.raises(InvalidInput, match="at most 3 actions"):
        sim.act(("buy", Decimal("0.1")))
