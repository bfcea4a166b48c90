"""Research mode runs GLFT beside Avellaneda-Stoikov and the symmetric quote over the same paths:
its quote is the engine's glft_quote (asked once per inventory), the inventory limit holds on
every run, without volatility it is symmetric, and over the paper's paths it carries far less
inventory risk than the symmetric quote."""

from __future__ import annotations

import math
from dataclasses import replace
from decimal import Decimal

import numpy as np
import pytest

from bots.engine.market_making import glft
from bots.engine.simulation import research
from bots.engine.simulation.research import Params

PAPER = Params()


def test_the_three_strategies_share_the_paths_and_the_report_lists_them():
    result = research.run(replace(PAPER, runs=300), seed=5)

    assert [row["strategy"] for row in result.summary()["strategies"]] == [
        "inventory", "glft", "symmetric"
    ]
    # Same draws: a run where every strategy quotes far away never fills, whichever it is;
    # here, each run's mid path is shared, so the runs' profits are correlated across strategies.
    assert np.corrcoef(result.glft.profit, result.inventory.profit)[0, 1] > 0.3


def test_the_glft_strategy_quotes_the_engines_formula_once_per_inventory(monkeypatch):
    params = replace(PAPER, runs=200, Q=6.0)
    before = research.run(params, seed=3)
    real = glft.glft_quote
    asked = []

    def counted(q, sigma, model):
        asked.append(q)
        return real(q, sigma, model)

    monkeypatch.setattr(glft, "glft_quote", counted)
    same = research.run(params, seed=3)

    assert len(asked) == len(set(asked)) <= 13  # q in [-6, 6], each asked once
    np.testing.assert_array_equal(same.glft.profit, before.glft.profit)
    quote = real(Decimal(2), Decimal(2), glft.GlftParams(
        Decimal(140), Decimal("1.5"), Decimal("0.1"), Decimal(1), q_limit=Decimal(6)))
    offset, spread, bid_on, ask_on = research.glft_quoter(params)(0, np.array([2, 6]))
    assert offset[0] == pytest.approx(float((quote.ask_depth - quote.bid_depth) / 2), rel=1e-15)
    assert spread[0] == pytest.approx(float(quote.ask_depth + quote.bid_depth), rel=1e-15)
    assert list(bid_on) == [True, False] and list(ask_on) == [True, True]  # at q = Q no bid


@pytest.mark.parametrize("limit", [1.0, 3.0, 4.5])
def test_no_run_ends_beyond_the_inventory_limit(limit):
    result = research.run(replace(PAPER, runs=400, Q=limit), seed=2)

    assert np.abs(result.glft.final_inventory).max() <= limit
    assert np.abs(result.inventory.final_inventory).max() > limit  # A-S has no such limit


def test_without_volatility_glft_is_a_symmetric_quote_of_twice_c1():
    params = replace(PAPER, sigma=0.0, runs=300)
    result = research.run(params, seed=8)

    c1 = math.log(1 + 0.1 / 1.5) / 0.1
    assert result.glft.mean_spread == pytest.approx(2 * c1, rel=1e-12)
    offset, spread, *_ = research.glft_quoter(params)(0, np.array([-7, 0, 9]))
    assert list(offset) == [0.0, 0.0, 0.0]


def test_over_the_papers_paths_glft_carries_far_less_inventory_than_the_symmetric_quote():
    result = research.run(PAPER, seed=1)
    glft_row, sym = result.glft.summary(), result.symmetric.summary()

    assert glft_row["final_inventory_std"] < 0.5 * sym["final_inventory_std"]
    assert glft_row["profit_std"] < 0.7 * sym["profit_std"]
    assert glft_row["profit_mean"] > 0
