"""Protection decisions: the breaker, a stale reference, exposure, pending hedges, the limiter."""

from __future__ import annotations

from decimal import Decimal as D

from bots.engine.market_making.protection import (
    SideGates,
    Unhedged,
    breaker_trips,
    exposure_gates,
    fill_delay_gates,
    is_stale,
    price_band_gates,
    trade_limit_reached,
    unhedged_net,
)
from bots.engine.rules import BUY, SELL

NOW = 10_000_000


def test_the_breaker_trips_on_a_move_beyond_its_limit_only():
    assert breaker_trips(D("100"), D("102.01"), D("2"))
    assert breaker_trips(D("100"), D("97.9"), D("2"))
    assert not breaker_trips(D("100"), D("102"), D("2"))
    assert not breaker_trips(None, D("150"), D("2"))  # nothing to compare with
    assert not breaker_trips(D("100"), D("150"), D("0"))  # off


def test_a_book_older_than_the_limit_is_stale():
    assert not is_stale(NOW - 5000, NOW, D("5"))
    assert is_stale(NOW - 5001, NOW, D("5"))
    assert is_stale(None, NOW, D("5"))


def test_the_limiter_counts_fills_of_the_last_minute():
    fills = [NOW - 70_000, NOW - 59_000, NOW - 1000]

    assert trade_limit_reached(fills, NOW, 2)
    assert not trade_limit_reached(fills, NOW, 3)
    assert not trade_limit_reached(fills * 10, NOW, 0)  # off


def test_unhedged_buys_beyond_the_limit_stop_the_bids():
    unhedged = [Unhedged(BUY, D("0.4"), None), Unhedged(BUY, D("0.3"), None), Unhedged(SELL, D("0.1"), None)]

    gates = exposure_gates(unhedged, D("0.5"), D("10"), NOW)

    assert unhedged_net(unhedged) == D("0.6")
    assert gates.stop == {BUY: "unhedged exposure +0.6 is above the limit 0.5"}
    assert gates.no_new == {}


def test_unhedged_sells_beyond_the_limit_stop_the_asks_and_no_limit_stops_nothing():
    unhedged = [Unhedged(SELL, D("2"), None)]

    assert exposure_gates(unhedged, D("1"), D("10"), NOW).stop == {
        SELL: "unhedged exposure -2 is below the limit -1"
    }
    assert exposure_gates(unhedged, D("0"), D("10"), NOW).stop == {}


def test_a_hedge_pending_too_long_holds_new_orders_on_its_side():
    unhedged = [Unhedged(SELL, D("0.01"), NOW - 10_000), Unhedged(BUY, D("0.01"), NOW - 9_000)]

    gates = exposure_gates(unhedged, D("0"), D("10"), NOW)

    assert gates.stop == {}
    assert gates.no_new == {SELL: "a hedge of a sell fill has been pending 10 s"}


def test_above_the_ceiling_only_sell_and_below_the_floor_only_buy():
    assert price_band_gates(D("101"), D("100"), D("0")).stop == {
        BUY: "reference 101 is above the price ceiling 100"
    }
    assert price_band_gates(D("89"), D("100"), D("90")).stop == {
        SELL: "reference 89 is below the price floor 90"
    }
    assert price_band_gates(D("95"), D("100"), D("90")).stop == {}


def test_a_recent_fill_holds_its_side_back_for_the_delay():
    gates = fill_delay_gates({BUY: NOW - 1500, SELL: NOW - 5000}, NOW, D("2"))

    assert gates.no_new == {BUY: "filled 1.5 s ago"}


def test_a_fill_stamped_after_the_ticks_clock_holds_nothing_back_without_a_delay():
    # The venue stamped the fill 200 ms after the tick read its clock: it filled during the tick.
    assert fill_delay_gates({BUY: NOW + 200}, NOW, D("0")).no_new == {}
    assert fill_delay_gates({BUY: NOW + 200}, NOW, D("1")).no_new == {BUY: "filled 0.0 s ago"}


def test_merged_gates_keep_the_first_reason_for_a_side():
    first = SideGates(stop={BUY: "exposure"})
    merged = first.merge(SideGates(stop={BUY: "band", SELL: "ceiling"}, no_new={SELL: "delay"}))

    assert (merged.stop, merged.no_new) == ({BUY: "exposure", SELL: "ceiling"}, {SELL: "delay"})
