"""Runway: the recent flow per hour, the hours it leaves an account, the projected line."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bots.engine.treasury.runway import FlowEvent, hourly_flow, projection, runway_hours

HOUR = 3_600_000


def test_the_flow_is_the_net_change_per_hour_inside_the_window():
    events = [
        FlowEvent(0, D("-5")),  # before the window
        FlowEvent(HOUR, D("-0.5")),
        FlowEvent(2 * HOUR, D("0.2")),
        FlowEvent(3 * HOUR, D("-0.3")),
    ]

    assert hourly_flow(events, HOUR, 3 * HOUR) == D("-0.3")


def test_a_draining_account_has_hours_left_and_a_filling_one_has_none():
    assert runway_hours(D("1.5"), D("0.1"), D("-0.35")) == D("4")
    assert runway_hours(D("1.5"), D("0.1"), D("0.2")) is None
    assert runway_hours(D("1.5"), D("0.1"), D("0")) is None


def test_an_account_at_its_floor_has_no_runway_left():
    assert runway_hours(D("0.1"), D("0.1"), D("0.5")) == 0


def test_the_projection_runs_from_now_and_stops_at_zero():
    line = projection(D("2"), D("-0.5"), D("6"), points=7)

    assert line[0] == (0, D("2"))
    assert [amount for _, amount in line] == [D("2"), D("1.5"), D("1"), D("0.5"), 0, 0, 0]


def test_a_window_must_have_a_length():
    with pytest.raises(ValueError, match="positive length"):
        hourly_flow([], 5, 5)


@given(
    st.decimals("0", "100", places=4),
    st.decimals("0", "10", places=4),
    st.decimals("-50", "-0.0001", places=4),
)
def test_draining_for_the_runway_reaches_the_floor_exactly(position, floor, flow):
    hours = runway_hours(position, floor, flow)

    if position <= floor:
        assert hours == 0
    else:
        assert hours > 0
        assert abs(position + flow * hours - floor) < D("1e-20")
