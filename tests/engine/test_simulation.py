"""The simulation widget's engine: seed 000's chain reaction, dry pools, the rebalance suggestion."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bots.engine.simulation.demo import BTC, HEDGE, MM, USDT, Simulation
from bots.engine.simulation.scenarios import run
from bots.engine.simulation.sim_inputs import InvalidInput
from bots.engine.treasury.planner import INSIDE

D = Decimal
QUIET = {"rate": "0"}  # no random users: only the visitor trades


def holdings(sim):
    return {(a, x): sim.holding(a, x) for a in (MM, HEDGE) for x in (BTC, USDT)}


def test_a_user_buy_moves_btc_from_the_mm_account_and_into_the_hedge_account():
    sim = Simulation("steady", 0, QUIET)
    before = holdings(sim)

    sim.act(("buy", D("0.1")))

    after = holdings(sim)
    chain = sim.chains[-1]
    assert chain["filled"] == "0.1" and chain["hedge"]["state"] == "filled"
    assert after[(MM, BTC)] < before[(MM, BTC)] and after[(MM, USDT)] > before[(MM, USDT)]
    assert after[(HEDGE, BTC)] > before[(HEDGE, BTC)] and after[(HEDGE, USDT)] < before[(HEDGE, USDT)]
    # The MM bot sold dearer than the hedge bought: the exchange kept the edge.
    assert D(chain["fills"][0]["price"]) > D(chain["hedge"]["price"])
    assert D(chain["edge"]) > 0


def test_a_user_sell_is_the_mirror_image():
    sim = Simulation("steady", 0, QUIET)
    before = holdings(sim)

    sim.act(("sell", D("0.1")))

    after = holdings(sim)
    chain = sim.chains[-1]
    assert chain["mm_side"] == "buy" and chain["hedge"]["side"] == "sell"
    assert after[(MM, BTC)] > before[(MM, BTC)] and after[(MM, USDT)] < before[(MM, USDT)]
    assert after[(HEDGE, BTC)] < before[(HEDGE, BTC)] and after[(HEDGE, USDT)] > before[(HEDGE, USDT)]
    assert D(chain["edge"]) > 0


def test_hedged_trades_leave_the_net_btc_flat_but_for_the_hedge_fees():
    sim = Simulation("steady", 0, QUIET)
    for _ in range(5):
        sim.act(("buy", D("0.1")))

    # The hedge venue charges its taker fee in the BTC bought: 10 bps of 0.5 BTC.
    assert D("-0.0006") < sim.exposure() <= 0


def test_a_long_run_of_buys_ends_in_the_suggestion_to_refill_the_mm_account():
    sim = Simulation("steady", 0, QUIET)
    assert sim.suggestion() is None
    seen = set()
    for _ in range(40):
        sim.act(("buy", D("0.1")))
        sim.act(("play", 2))  # the filled-order delay lets the asks back
        if sim.suggestion():
            seen |= {(t["asset"], t["from"], t["to"]) for t in sim.suggestion()["transfers"]}
        if (BTC, HEDGE, MM) in seen:
            break

    # Only ever the right direction: BTC back to the MM account, USDT back to the hedge account.
    assert seen == {(BTC, HEDGE, MM), (USDT, MM, HEDGE)}
    text = sim.suggestion()["text"]
    assert "BTC from the hedge account to the MM account" in text and "USDT the other way" in text


def test_applying_the_suggestion_brings_every_account_back_inside_its_bands():
    sim = run("whale", 0, 90)
    assert sim.suggestion() is not None
    mm_btc = sim.holding(MM, BTC)

    sim.act(("apply",))

    assert sim.holding(MM, BTC) > mm_btc
    for h in sim._holdings():
        assert h.band.status(h.position) == INSIDE, (h.account, h.asset, h.position)
    assert sim.suggestion() is None
    assert sim.summary()["transfers_applied"] >= 1


def test_apply_without_a_suggestion_is_refused_and_changes_nothing():
    sim = Simulation("steady", 0, QUIET)
    before = sim.summary()

    with pytest.raises(InvalidInput, match="no transfer"):
        sim.act(("apply",))

    assert sim.summary() == before


def test_an_mm_account_out_of_btc_stops_quoting_asks_and_a_buyer_is_told_why():
    sim = Simulation("steady", 0, {**QUIET, "mm_btc": "0.01"})

    assert sim.sides["sell"]["levels"] == 0
    assert "MM account's BTC pool is dry" in sim.sides["sell"]["text"]
    chain = sim.user_trade("you", "buy", D("0.1"))
    assert chain["filled"] == "0" and "quotes no asks" in chain["why"]
    assert "BTC pool is dry" in chain["why"]
    assert sim.sides["buy"]["levels"] == 5


def test_a_hedge_account_out_of_usdt_cannot_place_the_hedge_and_says_so():
    sim = Simulation("steady", 0, QUIET)
    # The hedge account's USDT leaves after the MM bot quoted against it.
    free = sim.out.balances.free(HEDGE, USDT)
    sim.out.balances.withdraw(HEDGE, USDT, free)

    chain = sim.user_trade("you", "buy", D("0.1"))

    assert chain["filled"] == "0.1"
    assert chain["hedge"]["state"] == "pending"
    assert "short of balance" in chain["hedge"]["why"] and "USDT" in chain["hedge"]["why"]
    assert sim.summary()["hedges_pending"] == 1
    # The next tick quotes no asks: it could not hedge them either.
    sim.act(("play", 1))
    assert sim.sides["sell"]["levels"] == 0
    assert "hedge account's USDT pool is dry" in sim.sides["sell"]["text"]


def test_a_hedge_venue_outage_keeps_hedges_pending_and_retries_them_when_it_is_back():
    sim = run("venue_down", 3, 31, {"rate": "0"})
    sim.act(("buy", D("0.1")))  # second 31: the venue is down, the quotes still stand
    chain = sim.chains[-1]
    assert chain["hedge"]["state"] == "pending" and "unreachable" in chain["hedge"]["why"]
    sim.act(("play", 10))
    assert sim.state == "holding" and "stale reference" in sim.state_reason

    sim.act(("play", 60))

    assert chain["hedge"]["state"] == "filled"
    assert sim.state == "running"


@pytest.mark.parametrize(
    "given, field",
    [
        ({"spread": "abc"}, "spread"),
        ({"mm_btc": "-1"}, "mm_btc"),
        ({"fee": "1000"}, "fee"),
        ({"band": "0"}, "band"),
        ({"spread": "5"}, "spread"),  # below the hedge floor of 12 bps
        ({"nonsense": "1"}, "settings"),
    ],
)
def test_bad_settings_are_refused_with_a_message_naming_the_field(given, field):
    with pytest.raises(InvalidInput) as caught:
        Simulation("steady", 0, given)

    assert field in caught.value.problems
    assert caught.value.problems[field]


def test_a_bad_action_changes_nothing():
    sim = Simulation("steady", 0, QUIET)
    before = sim.summary()

    with pytest.raises(InvalidInput):
        sim.act(("play", 500))

    assert sim.summary() == before


def test_after_the_transfers_the_mm_bot_quotes_the_side_that_was_dry_again():
    sim = run("whale", 0, 90)
    assert sim.sides["sell"]["levels"] == 0

    sim.act(("apply",))

    assert sim.sides["sell"]["levels"] == 5
    assert sim.user_trade("you", "buy", D("0.1"))["filled"] == "0.1"
