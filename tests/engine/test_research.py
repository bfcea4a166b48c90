"""Research mode: the Avellaneda-Stoikov experiment quotes with the MM engine's own formula,
mapped exactly to the paper's price units, is deterministic from its seed, and reproduces the
paper's comparison of the inventory strategy with the symmetric one."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from decimal import Decimal

import numpy as np
import pytest

from bots.engine.market_making import volatility
from bots.engine.simulation import research
from bots.engine.simulation.research import InventoryQuote, Params

PAPER = Params()


def closed_form(params: Params, q: int, step: int) -> tuple[float, float]:
    """The paper's reservation offset and total spread, in price units, written out again."""
    horizon = params.T - step * params.dt
    risk = params.gamma * params.sigma**2 * horizon
    return -q * risk, risk + 2 / params.gamma * math.log(1 + params.gamma / params.k)


@pytest.mark.parametrize(
    "params",
    [PAPER, Params(s0=65_000, sigma=900, gamma=0.0004, k=0.002, T=60, dt=0.5, A=2)],
    ids=["paper", "btc-like"],
)
@pytest.mark.parametrize(("q", "step"), [(0, 0), (3, 50), (-5, 199), (12, 100), (-1, 119)])
def test_the_engines_quote_in_price_units_is_the_papers_closed_form(params, q, step):
    offset, spread = InventoryQuote(params).at(q, step)

    want_offset, want_spread = closed_form(params, q, step)
    assert offset == pytest.approx(want_offset, rel=1e-12, abs=1e-12)
    assert spread == pytest.approx(want_spread, rel=1e-12)


def test_the_price_the_units_are_converted_at_does_not_change_the_quote():
    # The simulation converts at s0 for every run, whatever its mid: x cancels out.
    for mid in (37.5, 100.0, 181.25, 65_000.0):
        here = InventoryQuote(replace(PAPER, s0=mid)).at(7, 40)
        assert here == pytest.approx(InventoryQuote(PAPER).at(7, 40), rel=1e-15)


def test_one_state_of_the_inventory_strategy_is_a_direct_call_of_the_engine():
    x = Decimal(100)
    direct = volatility.avellaneda_stoikov(
        Decimal(4), sigma=Decimal(2) / x * 10_000, gamma=Decimal("0.1") * x / 10_000,
        kappa=Decimal("1.5") * x / 10_000, horizon_seconds=Decimal("0.75"),
    )
    offset, spread = research.inventory_quoter(PAPER)(50, np.array([4, 0, 4]))

    assert offset[0] == offset[2] == float(direct.reservation_bps * x / 10_000)
    assert spread[0] == float(direct.spread_bps * x / 10_000)
    assert offset[1] == 0.0 and spread[1] == spread[0]


def test_the_inventory_strategy_calls_the_engines_function(monkeypatch):
    params = replace(PAPER, runs=200)
    before = research.run(params, seed=3)
    real = volatility.avellaneda_stoikov
    calls = []

    def counted(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(volatility, "avellaneda_stoikov", counted)
    same = research.run(params, seed=3)
    # Once per distinct inventory per step, not once per run.
    assert params.steps <= len(calls) < params.steps * 40
    np.testing.assert_array_equal(same.inventory.profit, before.inventory.profit)

    def wider(*args, **kwargs):
        quote = real(*args, **kwargs)
        return volatility.AvellanedaQuote(quote.reservation_bps, quote.spread_bps * 2)

    monkeypatch.setattr(volatility, "avellaneda_stoikov", wider)
    changed = research.run(params, seed=3)
    assert changed.inventory.mean_spread == pytest.approx(2 * before.inventory.mean_spread)
    assert not np.array_equal(changed.inventory.profit, before.inventory.profit)


def test_the_same_seed_gives_the_same_run_and_another_seed_another():
    params = replace(PAPER, runs=300)
    a, b = research.run(params, seed=11), research.run(params, seed=11)
    c = research.run(params, seed=12)

    assert a.summary() == b.summary()
    for name in ("inventory", "glft", "symmetric"):
        np.testing.assert_array_equal(getattr(a, name).profit, getattr(b, name).profit)
        np.testing.assert_array_equal(
            getattr(a, name).final_inventory, getattr(b, name).final_inventory
        )
        assert not np.array_equal(getattr(a, name).profit, getattr(c, name).profit)


def test_it_reproduces_the_papers_comparison_of_the_two_strategies():
    # The 2008 paper's gamma = 0.1 table (1,000 runs), as a public replication quotes it:
    # inventory profit 65.0 (std 6.6), final q std 2.9; symmetric 68.4 (std 12.7), 8.4. The 2006
    # working paper's gamma = 0.1 table: 62.94 (5.89), 2.80; 67.21 (13.43), 8.66.
    # docs/simulation.md, research mode, says which figures could not be checked.
    result = research.run(PAPER, seed=2008)
    inv, sym = result.inventory.summary(), result.symmetric.summary()

    assert inv["profit_std"] < 0.6 * sym["profit_std"]
    assert inv["final_inventory_std"] < 0.5 * sym["final_inventory_std"]
    assert 58 < inv["profit_mean"] < 70 and 4.5 < inv["profit_std"] < 8.5
    assert 2.3 < inv["final_inventory_std"] < 3.5
    assert 62 < sym["profit_mean"] < 74 and 10 < sym["profit_std"] < 17
    assert 7 < sym["final_inventory_std"] < 10.5
    assert abs(inv["final_inventory_mean"]) < 0.5 and abs(sym["final_inventory_mean"]) < 1.5


def test_the_mean_spread_includes_the_inventory_risk_term():
    # The engine's spread is gamma*sigma^2*(T-t) + (2/gamma)ln(1 + gamma/k): 1.29 + 0.4*(T-t),
    # 1.49 on average over the steps. (The 2006 working paper's gamma = 0.1 table shows 1.29,
    # the second term alone.)
    result = research.run(replace(PAPER, runs=50), seed=1)
    steps = PAPER.steps
    expected = np.mean([closed_form(PAPER, 0, i)[1] for i in range(steps)])

    assert result.inventory.mean_spread == pytest.approx(expected, rel=1e-12)
    assert result.inventory.mean_spread == pytest.approx(1.4918, abs=1e-4)
    assert result.symmetric.mean_spread == pytest.approx(result.inventory.mean_spread, rel=1e-12)


def test_the_symmetric_quote_is_centred_on_the_mid_whatever_the_inventory():
    offset, spread = research.symmetric_quoter(1.5)(10, np.array([-9, 0, 4]))

    assert offset.tolist() == [0.0, 0.0, 0.0]
    assert spread.tolist() == [1.5, 1.5, 1.5]


def test_without_volatility_the_profit_is_the_spread_times_the_expected_fills():
    # sigma = 0: the risk term vanishes, both strategies quote (2/gamma)ln(1+gamma/k) around
    # the mid, and each fill earns half of it: profit = spread/2 * fills, with fills per side
    # A*exp(-k*spread/2)*T on average.
    params = replace(PAPER, sigma=0.0, runs=4000)
    result = research.run(params, seed=5)
    spread = closed_form(params, 0, 0)[1]
    expected = spread * params.A * math.exp(-params.k * spread / 2) * params.T

    np.testing.assert_allclose(result.inventory.profit, result.symmetric.profit, rtol=1e-9)
    assert result.symmetric.profit.mean() == pytest.approx(expected, rel=0.01)


def test_with_no_arrivals_nothing_fills():
    result = research.run(replace(PAPER, A=0.0, runs=20), seed=1)

    for strategy in (result.inventory, result.glft, result.symmetric):
        assert (strategy.profit == 0).all() and (strategy.final_inventory == 0).all()
    # GLFT has no quote without arrivals (its skew divides by A): it never quotes both sides.
    assert result.summary()["strategies"][1]["mean_spread"] is None


def test_the_normal_mid_step_also_reproduces_the_comparison():
    result = research.run(replace(PAPER, mid_step="normal"), seed=7)
    inv, sym = result.inventory.summary(), result.symmetric.summary()

    assert inv["profit_std"] < 0.6 * sym["profit_std"]
    assert 2.3 < inv["final_inventory_std"] < 3.5 and 7 < sym["final_inventory_std"] < 10.5


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"T": 1.0012}, "T (1.0012) must be a whole number"),
        ({"dt": 2.0}, "must be a whole number (at least 1) of steps"),
        ({"gamma": 0.0}, "gamma must be a positive number"),
        ({"k": -1.5}, "k must be a positive number"),
        ({"sigma": float("nan")}, "sigma must be zero or a positive number"),
        ({"A": -1.0}, "A must be zero or a positive number"),
        ({"runs": 0}, "runs must be a whole number of at least 1"),
        ({"mid_step": "levy"}, "mid_step must be one of binomial, normal"),
        ({"runs": 1_000_000, "dt": 0.0001}, "at most 50,000,000 fit in memory"),
        ({"xi": 0.0}, "xi must be a positive number"),
        ({"delta": -1.0}, "delta must be a positive number"),
        ({"Q": -2.0}, "Q must be zero or a positive number"),
    ],
)
def test_bad_parameters_are_refused_with_the_reason(change, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        research.run(replace(PAPER, **change), seed=1)
