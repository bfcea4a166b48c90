"""An intervention's slice plan: sizes add up, stay within their bounds, go in time order inside
the duration, differ from run to run; a slice never takes more than the participation cap."""

from __future__ import annotations

import random
from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from bots.engine.interventions.slicing import (
    MINUTE_MS,
    SliceLimits,
    due_now,
    next_amount,
    participation_cap,
    plan_slices,
    size_bounds,
)

STEP = D("0.0001")

amounts = st.integers(min_value=1, max_value=10**7).map(lambda u: u * STEP)
limits = st.builds(
    SliceLimits,
    slice_seconds=st.integers(min_value=5, max_value=600),
    jitter=st.decimals(min_value=D("0"), max_value=D("0.9"), places=2),
    participation_pct=st.decimals(min_value=D("1"), max_value=D("100"), places=1),
)


@given(amounts, st.integers(min_value=1, max_value=240), limits, st.integers())
def test_slices_add_up_to_the_amount_within_their_bounds_and_the_duration(
    amount, minutes, lim, seed
):
    minimum = D("0.001")
    slices = plan_slices(amount, minutes, lim, STEP, minimum, random.Random(seed))

    assert sum(s.amount for s in slices) == amount
    low, high = size_bounds(amount, len(slices), lim.jitter, STEP)
    assert all(low <= s.amount <= high for s in slices)
    assert all(s.amount % STEP == 0 and s.amount > 0 for s in slices)
    if len(slices) > 1:
        assert all(s.amount >= minimum for s in slices)
    offsets = [s.offset_ms for s in slices]
    assert offsets == sorted(offsets)
    assert 0 <= offsets[0] and offsets[-1] < minutes * MINUTE_MS


def test_two_plans_of_the_same_intervention_differ_in_times_and_sizes():
    lim = SliceLimits(slice_seconds=60, jitter=D("0.5"))
    one = plan_slices(D("5"), 30, lim, STEP, D("0.001"), random.Random(1))
    two = plan_slices(D("5"), 30, lim, STEP, D("0.001"), random.Random(2))

    assert len(one) == len(two) == 30
    assert [s.amount for s in one] != [s.amount for s in two]
    assert [s.offset_ms for s in one] != [s.offset_ms for s in two]
    gaps = {b.offset_ms - a.offset_ms for a, b in zip(one, one[1:], strict=False)}
    assert len(gaps) > 1  # not a metronome


def test_no_jitter_gives_even_slices():
    slices = plan_slices(D("3"), 3, SliceLimits(60, D("0")), STEP, D("0.001"), random.Random(0))

    assert [s.amount for s in slices] == [D("1"), D("1"), D("1")]


def test_a_small_amount_goes_in_fewer_slices_each_above_the_minimum():
    slices = plan_slices(D("0.05"), 60, SliceLimits(60, D("0.5")), STEP, D("0.01"), random.Random(3))

    assert 1 <= len(slices) < 60
    assert all(s.amount >= D("0.01") for s in slices)


@given(
    st.integers(min_value=0, max_value=10**6).map(lambda u: u * STEP),  # due
    st.integers(min_value=0, max_value=10**6).map(lambda u: u * STEP),  # filled
    st.integers(min_value=1, max_value=10**6).map(lambda u: u * STEP),  # total
    st.integers(min_value=0, max_value=10**7).map(lambda u: u * STEP),  # volume
    limits,
)
def test_a_slice_respects_the_plan_the_cap_and_what_is_left(due, filled, total, volume, lim):
    amount = next_amount(due, filled, total, volume, lim, STEP, D("0.001"))

    assert amount >= 0
    assert amount <= participation_cap(volume, lim.participation_pct)
    assert filled + amount <= max(total, filled)
    assert amount <= max(D(0), min(due, total) - filled)
    assert amount == 0 or amount >= D("0.001")


def test_what_the_cap_holds_back_is_taken_by_later_slices():
    lim = SliceLimits(60, D("0"), participation_pct=D("10"))
    slices = plan_slices(D("2"), 2, lim, STEP, D("0.001"), random.Random(0))
    filled = D(0)
    for elapsed in (MINUTE_MS, 2 * MINUTE_MS, 3 * MINUTE_MS, 4 * MINUTE_MS):
        filled += next_amount(due_now(slices, elapsed), filled, D("2"), D("6"), lim, STEP, D(0))

    assert filled == D("2")  # 0.6 a slice at most: 0.6, 0.6, 0.6, 0.2
