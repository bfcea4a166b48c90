"""Simulated users and the outside market: the same second always replays the same way."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

import pytest

from bots.engine.rules import BPS, BUY, SELL
from bots.engine.simulation.flow import UserOrder, random_walk_step, user_orders
from bots.engine.treasury.exposure import net_exposure

ROOT = Path(__file__).resolve().parents[2]
SECONDS = 20_000
# Deviations beyond this many standard deviations would mean a broken sampler, not bad luck.
SIGMAS = 5


def test_user_orders_replay_the_same_for_the_same_seed_key_and_second():
    first = user_orders(7, "btc-usdt", 1_700_000_000, 600, D("0.05"))

    assert first == user_orders(7, "btc-usdt", 1_700_000_000, 600, D("0.05"))
    assert first and all(isinstance(o, UserOrder) for o in first)


def test_user_orders_differ_across_seconds_seeds_and_keys():
    def draw(seed, key, second):
        return user_orders(seed, key, second, 600, D("0.05"))

    by_second = [draw(7, "btc-usdt", s) for s in range(20)]
    assert all(a != b for a, b in zip(by_second, by_second[1:], strict=False))
    assert draw(7, "btc-usdt", 0) != draw(8, "btc-usdt", 0)
    assert draw(7, "btc-usdt", 0) != draw(7, "eth-usdt", 0)


def test_random_walk_step_replays_the_same_and_differs_across_seconds():
    def step(second):
        return random_walk_step(D("100"), 1, "outside:BTC/USDT", second, D("10"))

    assert step(5) == step(5)
    assert len({step(s) for s in range(50)}) == 50


def test_a_second_replays_the_same_in_another_process():
    code = (
        "from decimal import Decimal as D;"
        "from bots.engine.simulation.flow import random_walk_step, user_orders;"
        "print(user_orders(7, 'k', 42, 600, D('0.05')));"
        "print(random_walk_step(D('100'), 7, 'k', 42, D('10')))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}

    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout

    orders = user_orders(7, "k", 42, 600, D("0.05"))
    price = random_walk_step(D("100"), 7, "k", 42, D("10"))
    assert out == f"{orders}\n{price}\n"


def test_no_users_trade_at_a_rate_of_zero():
    assert all(user_orders(7, "k", s, 0, D("1")) == [] for s in range(200))


@pytest.fixture(scope="module")
def long_run() -> list[list[UserOrder]]:
    return [user_orders(7, "btc-usdt", s, 30, D("0.05"), buy_share=0.8) for s in range(SECONDS)]


def test_the_mean_count_per_second_is_the_rate_per_minute_over_sixty(long_run):
    rate = 30 / 60
    counts = [len(orders) for orders in long_run]
    mean = sum(counts) / SECONDS

    # A Poisson count has variance equal to its mean.
    assert abs(mean - rate) <= SIGMAS * math.sqrt(rate / SECONDS)
    variance = sum((c - mean) ** 2 for c in counts) / (SECONDS - 1)
    assert abs(variance - rate) <= SIGMAS * math.sqrt((rate + 2 * rate**2) / SECONDS)


def test_buy_share_sets_the_fraction_of_buys(long_run):
    sides = [o.side for orders in long_run for o in orders]
    share = sides.count(BUY) / len(sides)

    assert set(sides) == {BUY, SELL}
    assert abs(share - 0.8) <= SIGMAS * math.sqrt(0.8 * 0.2 / len(sides))


def test_sizes_average_the_mean_amount(long_run):
    amounts = [o.amount for orders in long_run for o in orders]
    mean = float(sum(amounts)) / len(amounts)

    # Exponential sizes: the standard deviation equals the mean.
    assert all(a >= 0 for a in amounts)
    assert abs(mean - 0.05) <= SIGMAS * 0.05 / math.sqrt(len(amounts))


def test_random_walk_steps_have_the_volatility_asked_for():
    price, volatility = D("100"), D("10")
    shocks = [
        float((random_walk_step(price, 3, "k", s, volatility) / price - 1) * BPS / volatility)
        for s in range(SECONDS)
    ]
    mean = sum(shocks) / SECONDS
    std = math.sqrt(sum((x - mean) ** 2 for x in shocks) / (SECONDS - 1))

    assert abs(mean) <= SIGMAS / math.sqrt(SECONDS)
    # The sample standard deviation of a normal sample has standard error 1 / sqrt(2n).
    assert abs(std - 1) <= SIGMAS / math.sqrt(2 * SECONDS)


def test_net_exposure_is_what_the_accounts_hold_minus_the_target():
    assert net_exposure([D("1.5"), D("-0.25"), D("3")], D("4")) == D("0.25")
    assert net_exposure(iter([D("2"), D("2")]), D("4")) == 0
    assert net_exposure([], D("1")) == D("-1")
