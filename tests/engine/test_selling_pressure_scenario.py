"""The simulation's "selling pressure" scenario: the intervention detectors propose a buyback,
the visitor approves it, and its slices buy on the external exchange within the cap; the same
seed and actions replay the same run; other scenarios never propose one."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from bots.engine.simulation.scenarios import run
from bots.engine.simulation.sim_inputs import InvalidInput
from dashboard.simulation.demo_runs import page_context


def test_the_detectors_propose_a_buyback_that_waits_for_approval():
    sim = run("selling_pressure", 7, 90)

    iv = sim.summary()["intervention"]
    assert (iv["kind"], iv["state"], iv["filled"]) == ("buyback", "proposed", "0")
    assert "users sold a net" in iv["reason"]
    assert D(iv["limit"]) > 0
    sim.act(("play", 60))
    assert sim.summary()["intervention"]["state"] == "proposed"  # nothing runs unapproved


def test_approved_its_slices_buy_within_the_cap_until_done():
    before = run("selling_pressure", 7, 90)
    hedge_btc = before.holding("hedge", "BTC")
    sim = run("selling_pressure", 7, 180, actions=["p90", "i"])

    iv = sim.summary()["intervention"]
    assert iv["state"] == "completed" and D(iv["filled"]) == D(iv["amount"])
    assert D(iv["average"]) <= D(iv["limit"])
    assert iv["slices"] >= iv["planned"] > 1
    texts = [e["text"] for e in sim.log]
    assert any(t.startswith("you approved the buyback") for t in texts)
    assert any(t.startswith("the buyback is done") for t in texts)
    assert sim.holding("hedge", "BTC") != hedge_btc


def test_the_same_seed_and_actions_replay_the_same_intervention():
    one = run("selling_pressure", 11, 150, actions=["p60", "i"]).summary()
    two = run("selling_pressure", 11, 150, actions=["p60", "i"]).summary()

    assert one == two


def test_approving_without_a_proposal_is_refused_and_other_scenarios_never_watch():
    sim = run("steady", 3, 60)
    assert "intervention" not in sim.summary()
    with pytest.raises(InvalidInput, match="no intervention to approve"):
        sim.act(("intervene",))


def test_the_widget_shows_the_proposal_with_its_button():
    from django.template.loader import render_to_string

    sim = run("selling_pressure", 7, 90)
    html = render_to_string("partials/demo_panel.html", {**page_context(sim, "http://x"),
                                                         "csrf_token": "t"})

    assert 'id="approve-intervention"' in html and "Approve the buyback" in html
