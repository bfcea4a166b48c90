"""Volatility from the reference's recent prices, and the Avellaneda-Stoikov quote."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from bots.engine.market_making.volatility import (
    MAX_SAMPLES,
    avellaneda_stoikov,
    record_sample,
    sigma_bps,
)


def test_sigma_is_the_root_mean_square_move_per_root_second():
    # Moves of +1% and -1% (the second relative to 101), each over 4 seconds.
    samples = [(0, D("100")), (4000, D("101")), (8000, D("99.99"))]

    sigma = sigma_bps(samples)

    first = D(100) ** 2 / 4
    second = ((D("99.99") - D("101")) / D("101") * 10000) ** 2 / 4
    assert sigma == ((first + second) / 2).sqrt()


def test_sigma_needs_two_samples():
    assert sigma_bps([]) == 0
    assert sigma_bps([(0, D("100"))]) == 0


def test_samples_are_spaced_across_the_window_and_drop_out_of_it():
    window = D("120")  # samples at least 1 s apart
    samples = []
    for ms in range(0, 200_000, 250):
        samples = record_sample(samples, ms, D("100"), window)

    assert samples[-1][0] == 199_000
    assert samples[0][0] >= 199_750 - 120_000
    assert len(samples) <= MAX_SAMPLES + 1
    assert all(b[0] - a[0] >= 1000 for a, b in zip(samples, samples[1:], strict=False))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 5000), max_size=400), st.decimals(min_value=10, max_value=3600, places=0))
def test_the_sample_list_stays_bounded_whatever_the_tick_gaps(gaps, window):
    samples, now = [], 0
    for gap in gaps:
        now += gap
        samples = record_sample(samples, now, D("100"), window)
        assert len(samples) <= MAX_SAMPLES + 1
        assert all(now - t <= window * 1000 for t, _ in samples)


def test_avellaneda_stoikov_reservation_and_spread():
    quote = avellaneda_stoikov(q=D("1"), sigma=D("2"), gamma=D("0.02"), kappa=D("0.1"), horizon_seconds=D("60"))

    risk = D("0.02") * 4 * 60  # gamma sigma^2 (T-t) = 4.8 bps
    assert quote.reservation_bps == -risk
    assert quote.spread_bps == risk + (2 / D("0.02")) * (1 + D("0.02") / D("0.1")).ln()


def test_long_inventory_moves_the_reservation_down_and_short_moves_it_up():
    long = avellaneda_stoikov(D("2"), D("3"), D("0.02"), D("0.1"), D("60"))
    flat = avellaneda_stoikov(D("0"), D("3"), D("0.02"), D("0.1"), D("60"))
    short = avellaneda_stoikov(D("-2"), D("3"), D("0.02"), D("0.1"), D("60"))

    assert long.reservation_bps < flat.reservation_bps == 0 < short.reservation_bps
    assert long.spread_bps == flat.spread_bps == short.spread_bps


def test_more_volatility_widens_the_spread():
    calm = avellaneda_stoikov(D("0"), D("1"), D("0.02"), D("0.1"), D("60"))
    wild = avellaneda_stoikov(D("0"), D("10"), D("0.02"), D("0.1"), D("60"))

    assert wild.spread_bps > calm.spread_bps
