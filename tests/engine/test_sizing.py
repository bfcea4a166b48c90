"""The liquidity-sizing Monte Carlo: deterministic, right on cases with known answers, and its
required pools really do last the horizon at the confidence asked."""

from __future__ import annotations

import numpy as np
import pytest

from bots.engine.simulation.sizing import (
    SECONDS_PER_DAY,
    Flow,
    Pools,
    histogram,
    required_pools,
    simulate,
    summary,
)

DEEP = Pools(mm_base=1e6, mm_quote=1e12, hedge_base=1e6, hedge_quote=1e12)


def test_the_same_seed_gives_the_same_run():
    flow = Flow(trades_per_minute=30, mean_size=0.1, buy_share=0.6)
    pools = Pools(2, 130_000, 2, 130_000, floor_base=0.1, floor_quote=5_000)
    a = simulate(flow, pools, days=0.1, paths=50, seed=7)
    b = simulate(flow, pools, days=0.1, paths=50, seed=7)
    c = simulate(flow, pools, days=0.1, paths=50, seed=8)
    np.testing.assert_array_equal(a.days_to_dry, b.days_to_dry)
    np.testing.assert_array_equal(a.edge, b.edge)
    assert not np.array_equal(a.edge, c.edge)


def test_one_way_buying_drains_the_mm_base_in_the_expected_time():
    # Users only buy: 0.6 BTC a minute on average leaves the MM account's 1.9 BTC above its
    # floor gone in about 1.9 / 0.6 = 3.2 minutes.
    flow = Flow(trades_per_minute=12, mean_size=0.05, buy_share=1.0, daily_volatility=0)
    pools = Pools(2, 1e9, 2, 1e9, floor_base=0.1)
    result = simulate(flow, pools, days=0.05, paths=400, seed=1)
    minutes = result.days_to_dry * SECONDS_PER_DAY / 60
    assert np.isfinite(minutes).all()
    assert np.median(minutes) == pytest.approx(1.9 / 0.6, rel=0.1)
    # It is the MM account's base that ran dry: the hedge account's base only grew.
    assert (result.hedge_base_drawdown == 0).all()


def test_two_way_flow_with_deep_pools_never_runs_dry():
    flow = Flow(trades_per_minute=12, mean_size=0.05, buy_share=0.5)
    result = simulate(flow, DEEP, days=0.5, paths=100, seed=3)
    assert summary(result)["share_dry"] == 0.0


def test_the_edge_is_the_spread_net_of_the_hedge_cost_on_the_volume():
    flow = Flow(trades_per_minute=60, mean_size=0.1, daily_volatility=0, mm_half_spread_bps=10,
                hedge_cost_bps=6, price=50_000)
    result = simulate(flow, DEEP, days=0.1, paths=200, seed=5)
    expected = 4e-4 * 50_000 * (60 * 0.1 * 0.1 * SECONDS_PER_DAY / 60)  # bps x price x volume
    assert result.edge.mean() == pytest.approx(expected, rel=0.02)


def test_required_pools_last_the_horizon_at_the_confidence_asked():
    flow = Flow(trades_per_minute=12, mean_size=0.05, buy_share=0.55, daily_volatility=0.04)
    floors = Pools(0, 0, 0, 0, floor_base=0.1, floor_quote=5_000)
    sizing_run = simulate(flow, floors, days=0.5, paths=600, seed=11)
    need = required_pools(sizing_run, floors, confidence=0.95)
    assert need.mm_base > need.hedge_base  # users buy on balance: the MM account gives base away

    pools = Pools(need.mm_base, need.mm_quote, need.hedge_base, need.hedge_quote, 0.1, 5_000)
    # On the very paths it was sized on (same seed), at most 5% run dry: exactly as asked.
    assert summary(simulate(flow, pools, days=0.5, paths=600, seed=11))["share_dry"] <= 0.05
    fresh = simulate(flow, pools, days=0.5, paths=600, seed=12)  # new paths, not the ones sized on
    assert summary(fresh)["share_dry"] <= 0.08  # 5% asked; sampling noise on 600 paths allowed

    half = Pools(need.mm_base / 2, need.mm_quote / 2, need.hedge_base / 2, need.hedge_quote / 2, 0.1, 5_000)
    assert summary(simulate(flow, half, days=0.5, paths=600, seed=12))["share_dry"] > 0.3


@pytest.mark.parametrize(("days", "paths", "dt"), [(0, 10, 1.0), (1, 0, 1.0), (1, 10, 0.0)])
def test_nonsense_sizes_are_refused(days, paths, dt):
    with pytest.raises(ValueError, match="must be positive"):
        simulate(Flow(12, 0.05), DEEP, days=days, paths=paths, seed=1, dt=dt)


def test_progress_is_reported_up_to_the_end():
    seen = []
    simulate(Flow(12, 0.05), DEEP, days=0.05, paths=2000, seed=1, progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) > 1


def test_a_histogram_is_bounded_and_counts_every_path():
    flow = Flow(trades_per_minute=12, mean_size=0.05, buy_share=0.55)
    pools = Pools(2, 1e9, 2, 1e9, floor_base=0.1, floor_quote=5_000)
    result = simulate(flow, pools, days=0.02, paths=300, seed=4)

    days = histogram(result.days_to_dry, bins=50, low=0, high=0.02)
    edge = histogram(result.edge)

    dry = int(np.isfinite(result.days_to_dry).sum())
    assert 0 < dry < 300  # some paths ran dry, some lasted: both parts are exercised
    assert len(days["counts"]) == 50 and len(days["edges"]) == 51
    assert sum(days["counts"]) == dry and days["not_finite"] == 300 - dry
    assert days["edges"][0] == 0 and days["edges"][-1] == pytest.approx(0.02)
    assert sum(edge["counts"]) == 300 and edge["not_finite"] == 0
    assert edge["edges"][0] == result.edge.min()
    assert edge["edges"][-1] == pytest.approx(result.edge.max())


def test_a_histogram_of_one_value_or_none_still_has_its_bins():
    assert histogram(np.array([2.0, 2.0]), bins=4)["counts"] == [2, 0, 0, 0]
    assert histogram(np.array([np.inf]), bins=3) == {
        "edges": [0.0, 1 / 3, 2 / 3, 1.0], "counts": [0, 0, 0], "not_finite": 1
    }
    with pytest.raises(ValueError, match="bins must be positive"):
        histogram(np.array([1.0]), bins=0)
