"""Estimating a market's user flow from the MM bot's fills, and the reference's daily
volatility from price samples: right on inputs drawn with known figures, plain about too few."""

from __future__ import annotations

import math
import random
from decimal import Decimal as D

import pytest

from bots.engine.simulation.flow_estimate import (
    MIN_FILLS,
    FillRecord,
    daily_volatility,
    estimate_flow,
    user_orders,
)

DAY_MS = 86_400_000


def drawn_fills(rate_per_minute: float, mean_size: float, buy_share: float, days: float, seed: int):
    """A Poisson stream of user orders with exponential sizes, as the MM bot records them."""
    rng = random.Random(seed)
    fills, t = [], 0.0
    while True:
        t += rng.expovariate(rate_per_minute / 60_000)
        if t > days * DAY_MS:
            return fills
        user_buys = rng.random() < buy_share
        size = D(str(round(rng.expovariate(1 / mean_size), 8)))
        fills.append(FillRecord(int(t), "sell" if user_buys else "buy", size, D("65000")))


def test_rate_size_and_buy_share_come_back_from_fills_drawn_with_them():
    fills = drawn_fills(12, 0.05, 0.6, days=1, seed=3)  # about 17,000 orders

    estimate = estimate_flow(fills, 0, DAY_MS)

    assert estimate.ok
    assert float(estimate.trades_per_minute) == pytest.approx(12, rel=0.03)
    assert float(estimate.mean_size) == pytest.approx(0.05, rel=0.03)
    assert float(estimate.buy_share) == pytest.approx(0.6, abs=0.015)
    assert (
        estimate.message
        == f"Estimated from {len(fills)} fills ({len(fills)} user orders) over the last 24 hours."
    )


def test_a_market_that_started_midway_is_not_taken_for_a_slow_one():
    # Fills only in the last 6 hours of a 24-hour window, at 2 a minute.
    fills = [
        FillRecord(f.ms + 18 * 3_600_000, f.mm_side, f.amount, f.price)
        for f in drawn_fills(2, 0.1, 0.5, days=0.25, seed=5)
    ]

    estimate = estimate_flow(fills, 0, DAY_MS)

    assert float(estimate.trades_per_minute) == pytest.approx(2, rel=0.1)


def test_fills_of_one_user_order_sweeping_levels_count_as_one_order():
    fills = [
        FillRecord(1_000, "sell", D("0.05"), D("65010")),
        FillRecord(1_000, "sell", D("0.075"), D("65040")),  # same order, next level
        FillRecord(1_000, "buy", D("0.02"), D("64990")),  # another user, selling
        FillRecord(2_000, "sell", D("0.01"), D("65010")),
    ]

    assert user_orders(fills) == [
        (1_000, "buy", D("0.125")),
        (1_000, "sell", D("0.02")),
        (2_000, "buy", D("0.01")),
    ]


def test_known_small_case_exactly():
    # 21 orders a minute apart from minute 0 to 20, window ending at minute 20: 20 gaps in
    # 20 minutes is 1 a minute; sizes alternate 0.1 / 0.3 (mean 0.19..., see below); 11 buys.
    fills = [
        FillRecord(
            i * 60_000, "sell" if i % 2 == 0 else "buy", D("0.1") if i % 2 == 0 else D("0.3"), D(1)
        )
        for i in range(21)
    ]

    estimate = estimate_flow(fills, 0, 20 * 60_000)

    assert estimate.trades_per_minute == D(1)
    assert estimate.mean_size == (11 * D("0.1") + 10 * D("0.3")) / 21
    assert estimate.buy_share == D(11) / 21


def test_too_few_fills_say_so_and_ask_for_figures_by_hand():
    fills = drawn_fills(12, 0.05, 0.5, days=1, seed=1)[: MIN_FILLS - 1]
    end = fills[-1].ms + 1

    estimate = estimate_flow(fills, end - 3 * 3_600_000, end)

    assert not estimate.ok
    assert estimate.trades_per_minute is None and estimate.mean_size is None
    assert estimate.message == (
        f"Not enough fills: {MIN_FILLS - 1} user orders over the last 3 hours "
        f"(at least {MIN_FILLS} needed). Enter the flow by hand."
    )


def test_fills_outside_the_window_are_ignored():
    fills = drawn_fills(12, 0.05, 0.5, days=1, seed=2)
    late = [f for f in fills if f.ms >= DAY_MS // 2]

    assert estimate_flow(fills, DAY_MS // 2, DAY_MS) == estimate_flow(late, DAY_MS // 2, DAY_MS)


def test_an_empty_window_is_refused():
    with pytest.raises(ValueError, match="must end after it starts"):
        estimate_flow([], 10, 10)


def test_daily_volatility_comes_back_from_a_random_walk_drawn_with_it():
    # A sample every 5 s over a day (what the health rounds record), 3% a day.
    rng = random.Random(9)
    step = 0.03 * math.sqrt(5 / 86_400)
    price, samples = 65_000.0, []
    for i in range(17_280):
        samples.append((i * 5_000, D(str(round(price, 6)))))
        price *= math.exp(rng.gauss(0, step))

    assert float(daily_volatility(samples)) == pytest.approx(0.03, rel=0.03)


def test_daily_volatility_of_a_known_series_and_uneven_gaps():
    # Up 1% then back, each step an hour: squared log moves over two hours, scaled to 24.
    up = D("1.01").ln()
    samples = [(i * 3_600_000, D(100) if i % 2 == 0 else D(101)) for i in range(11)]
    expected = (10 * up * up / (10 * 3600) * 86_400).sqrt()

    assert daily_volatility(samples) == expected
    assert daily_volatility(samples[:5]) is None  # too few samples to say
    assert (
        daily_volatility([(0, None), *samples]) == expected
    )  # a sample without a price is skipped
