"""Orders and cancels sent at once (bots/venues/at_once.py) take the shared request budget once
for the wave, with the weights summed, and count the account's balance move once before any of
them is sent; a request the wave's take does not cover takes its own."""

from __future__ import annotations

import pytest

from bots.platform.locks import client
from bots.venues import at_once, limiter
from bots.venues import stream_state as state

KEY = "7:test-fingerprint"


@pytest.fixture
def taken(monkeypatch):
    """Every weight taken from the budget's Redis bucket, one entry per round trip."""
    weights: list[float] = []
    take = limiter.RequestBudget._take

    def counting(self, weight, cancel):
        weights.append(weight)
        return take(self, weight, cancel)

    monkeypatch.setattr(limiter.RequestBudget, "_take", counting)
    client().delete("ballast:budget:wave-test", f"ballast:balance:moves:{KEY}")
    return weights


def budget() -> limiter.RequestBudget:
    return limiter.RequestBudget("wave-test", 6000, "wave test")


def order_request(weight: float = 1):
    def send():
        state.balance_moving(KEY)
        budget().take(weight)
    return send


def moves() -> int:
    return int(client().get(f"ballast:balance:moves:{KEY}") or 0)


def test_a_wave_of_four_takes_their_summed_weight_once_and_counts_one_move(taken):
    at_once.each(4, [order_request()] * 8)

    assert sorted(taken) == [4, 4]  # two waves of four, one take each
    assert moves() == 2


def test_a_heavier_request_in_a_wave_takes_its_own(taken):
    at_once.each(4, [order_request(), order_request(), order_request(), order_request(50)])

    # Whichever came first took for four; the heavy one, not covered, took its 50 (or, first,
    # took 200 for all): never less than the 53 sent.
    assert sum(taken) >= 53
    assert len(taken) <= 2


def test_one_by_one_each_request_takes_for_itself(taken):
    at_once.each(1, [order_request()] * 3)

    assert taken == [1, 1, 1]
    assert moves() == 3
