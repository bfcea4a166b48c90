"""A market's history rebuilt from its records: inventory, exposure, and P&L split into spread
captured, hedge P&L, fees and mark-to-market, which add up to the total."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bots.engine.desk.history import (
    HEDGE,
    MM,
    Change,
    Reference,
    Trade,
    Transfer,
    Walk,
    attribute,
    bucket_ends,
    market_history,
)
from bots.engine.rules import BUY, SELL

S = 1000  # one second in ms


def test_buckets_are_whole_clock_minutes_and_the_last_one_ends_now():
    start, ends = bucket_ends(now_ms=185 * S, bucket_ms=60 * S, points=3)

    assert start == 60 * S
    assert ends == [120 * S, 180 * S, 185 * S]


def test_a_window_of_one_bucket_starts_where_that_bucket_starts():
    assert bucket_ends(now_ms=61 * S, bucket_ms=60 * S, points=1) == (60 * S, [61 * S])
    with pytest.raises(ValueError):
        bucket_ends(now_ms=61 * S, bucket_ms=0, points=1)


def test_a_walk_moves_a_known_level_back_and_forward_by_its_changes():
    walk = Walk(D("2"), 50, [Change(10, D("1")), Change(40, D("-0.5")), Change(70, D("0.25"))])

    assert [walk.at(t) for t in (0, 10, 39, 40, 50, 69, 70, 99)] == [
        D("1.5"),
        D("2.5"),
        D("2.5"),
        D("2"),
        D("2"),
        D("2"),
        D("2.25"),
        D("2.25"),
    ]


def sold_and_hedged():
    """The MM bot sells 1 at 101 when the reference is 100; the reference jumps to 102 before
    the hedge buys 1 at 100.5 paying 0.1 USDT; later the reference falls to 99."""
    references = [(0, D("100")), (15 * S, D("102")), (90 * S, D("99"))]
    trades = [
        Trade(10 * S, MM, SELL, D("1"), D("101"), account="mm"),
        Trade(
            20 * S,
            HEDGE,
            BUY,
            D("1"),
            D("100.5"),
            fee_quote=D("0.1"),
            reference_ms=10 * S,
            account="h",
        ),
    ]
    return trades, references


def test_a_hedged_fill_splits_into_spread_hedge_and_fees_and_the_parts_make_the_total():
    trades, references = sold_and_hedged()

    pnl = attribute(trades, Reference(references), D("0"), 120 * S, 0, [12 * S, 60 * S, 120 * S])

    # After the fill alone: 1 captured against the reference, the short marked at 100.
    assert (pnl.spread[0], pnl.hedge[0], pnl.fees[0], pnl.mtm[0], pnl.total[0]) == (
        D("1"),
        D("0"),
        D("0"),
        D("0"),
        D("1"),
    )
    # The hedge is judged against the fill's reference (100): it paid 0.5 over it. The reference
    # moved 2 against the short while the hedge was on its way, and the hedge bought at 100.5,
    # not 102: the mark-to-market of the move and its reversal at the hedge cancel.
    assert (pnl.spread[1], pnl.hedge[1], pnl.fees[1], pnl.mtm[1], pnl.total[1]) == (
        D("1"),
        D("-0.5"),
        D("-0.1"),
        D("0"),
        D("0.4"),
    )
    # Flat afterwards: the fall to 99 changes nothing.
    assert pnl.total[2] == D("0.4") and pnl.mtm[2] == D("0")


def test_an_unhedged_position_is_marked_to_market_as_the_reference_moves():
    trades = [Trade(10 * S, MM, BUY, D("2"), D("99"), account="mm")]
    references = [(0, D("100")), (30 * S, D("101")), (40 * S, D("98"))]

    pnl = attribute(trades, Reference(references), D("2"), 60 * S, 0, [35 * S, 60 * S])

    assert pnl.spread == [D("2"), D("2")]  # bought 1 under the reference, twice
    assert pnl.mtm == [D("2"), D("-4")]  # 2 held: +1 then -3 per unit
    assert pnl.total == [D("4"), D("-2")]


def test_a_fee_in_the_base_asset_is_valued_at_the_reference_and_leaves_a_residual_position():
    trades = [
        Trade(10 * S, MM, SELL, D("1"), D("101"), account="mm"),
        Trade(
            11 * S,
            HEDGE,
            BUY,
            D("1"),
            D("100"),
            fee_base=D("0.01"),
            reference_ms=10 * S,
            account="h",
        ),
    ]
    references = [(0, D("100")), (50 * S, D("110"))]

    pnl = attribute(trades, Reference(references), D("-0.01"), 60 * S, 0, [20 * S, 60 * S])

    assert pnl.fees == [D("-1.00"), D("-1.00")]  # 0.01 BTC at 100
    assert pnl.mtm[1] == D("-0.1")  # the 0.01 BTC short the fee left, up 10
    assert pnl.total == [D("0"), D("-0.1")]


def test_the_position_before_the_window_is_marked_from_the_window_start():
    # 1 BTC long from before the window; nothing traded in it; the reference rises 5.
    pnl = attribute(
        [], Reference([(0, D("100")), (70 * S, D("105"))]), D("1"), 120 * S, 60 * S, [120 * S]
    )

    assert (pnl.spread, pnl.hedge, pnl.fees, pnl.mtm, pnl.total) == (
        [0],
        [0],
        [0],
        [D("5")],
        [D("5")],
    )


def test_without_a_reference_there_is_nothing_to_judge_against():
    assert attribute([], Reference([]), D("0"), 60 * S, 0, [60 * S]) is None


def test_an_empty_history_is_flat():
    start, ends = bucket_ends(300 * S, 60 * S, 5)

    history = market_history(
        now_ms=300 * S,
        start_ms=start,
        ends=ends,
        target=D("4"),
        anchors={"mm": (D("2"), 100 * S), "h": (D("2"), 100 * S)},
        trades=[],
        references=[(0, D("100"))],
    )

    assert history.holdings == {"mm": [D("2")] * 5, "h": [D("2")] * 5}
    assert history.held == [D("4")] * 5
    assert history.exposure == [D("0")] * 5
    assert history.unhedged == [D("0")] * 5
    assert history.pnl.total == [D("0")] * 5
    assert all(part == [D("0")] * 5 for part in (history.pnl.spread, history.pnl.mtm))


def test_inventory_and_exposure_follow_the_trades_from_the_balances_read():
    trades, references = sold_and_hedged()
    trades.append(
        Trade(
            70 * S,
            HEDGE,
            BUY,
            D("0.5"),
            D("99"),
            fee_base=D("0.001"),
            reference_ms=65 * S,
            account="h",
        )
    )
    trades.append(Trade(65 * S, MM, SELL, D("0.5"), D("100"), account="mm"))
    # Balances read at 30 s: after the first fill and its hedge.
    anchors = {"mm": (D("1"), 30 * S), "h": (D("3"), 30 * S)}

    history = market_history(
        now_ms=80 * S,
        start_ms=0,
        ends=[5 * S, 12 * S, 30 * S, 66 * S, 80 * S],
        target=D("4"),
        anchors=anchors,
        trades=trades,
        references=references,
        unhedged_now=D("0"),
        unhedged_changes=[
            Change(10 * S, D("-1")),
            Change(20 * S, D("1")),
            Change(65 * S, D("-0.5")),
            Change(70 * S, D("0.5")),
        ],
    )

    assert history.holdings["mm"] == [D("2"), D("1"), D("1"), D("0.5"), D("0.5")]
    assert history.holdings["h"] == [D("2"), D("2"), D("3"), D("3"), D("3.499")]
    assert history.exposure == [D("0"), D("-1"), D("0"), D("-0.5"), D("-0.001")]
    assert history.unhedged == [D("0"), D("-1"), D("0"), D("-0.5"), D("0")]
    # The P&L's position is the exposure: flat at the start, so nothing before the first fill.
    assert history.pnl.total[0] == D("0")
    parts = [
        sum(p) for p in zip(*(getattr(history.pnl, n) for n in history.pnl.PARTS), strict=True)
    ]
    assert parts == history.pnl.total


def test_a_transfer_moves_inventory_but_not_pnl():
    trades, references = sold_and_hedged()
    references.append((100 * S, D("97")))
    ends = [30 * S, 60 * S, 90 * S, 120 * S]
    common = dict(
        now_ms=120 * S, start_ms=0, ends=ends, target=D("4"), trades=trades, references=references
    )
    # Without a transfer: both accounts hold 2 at the end.
    still = market_history(anchors={"mm": (D("1"), 120 * S), "h": (D("3"), 120 * S)}, **common)
    # The same trades, and 1 BTC sent from the hedge account at 40 s, arriving at 80 s with 0.0002 fee.
    moved = market_history(
        anchors={"mm": (D("1.9998"), 120 * S), "h": (D("2"), 120 * S)},
        transfers=[
            Transfer(40 * S, D("1"), D("0.0002"), source="h", destination="mm", arrived_ms=80 * S)
        ],
        **common,
    )

    assert still.holdings["h"] == [D("3")] * 4
    assert moved.holdings["h"] == [D("3"), D("2"), D("2"), D("2")]
    assert moved.holdings["mm"] == [D("1"), D("1"), D("1.9998"), D("1.9998")]
    assert moved.in_flight == [D("0"), D("0.9998"), D("0"), D("0")]
    assert moved.exposure == [D("0"), D("-0.0002"), D("-0.0002"), D("-0.0002")]
    for name in ("spread", "hedge", "fees", "mtm", "total"):
        assert getattr(moved.pnl, name) == getattr(still.pnl, name), name


def test_a_failed_transfer_stops_counting_in_flight_when_it_failed():
    transfer = Transfer(10 * S, D("1"), D("0.1"), source="h", destination="mm", failed_ms=50 * S)

    assert [transfer.in_flight_at(t) for t in (5 * S, 10 * S, 49 * S, 50 * S)] == [
        0,
        D("0.9"),
        D("0.9"),
        0,
    ]


prices = st.decimals(min_value=D("90"), max_value=D("110"), places=2)
amounts = st.decimals(min_value=D("0.0001"), max_value=D("3"), places=4)


@st.composite
def desks(draw):
    n = draw(st.integers(0, 25))
    trades = []
    for _ in range(n):
        at = draw(st.integers(1, 600)) * S
        leg = draw(st.sampled_from([MM, HEDGE]))
        trades.append(
            Trade(
                at,
                leg,
                draw(st.sampled_from([BUY, SELL])),
                draw(amounts),
                draw(prices),
                fee_quote=draw(st.decimals(min_value=D("0"), max_value=D("0.5"), places=3)),
                fee_base=draw(st.sampled_from([D("0"), D("0.0001"), D("0.002")])),
                reference_ms=None if leg == MM else max(0, at - draw(st.integers(0, 30)) * S),
                account=draw(st.sampled_from(["mm", "h", None])),
            )
        )
    references = [
        (draw(st.integers(0, 600)) * S, draw(prices)) for _ in range(draw(st.integers(1, 30)))
    ]
    return trades, references, draw(st.decimals(min_value=D("-5"), max_value=D("5"), places=4))


@settings(max_examples=300, deadline=None)
@given(desks(), st.integers(1, 12))
def test_the_parts_always_add_up_to_the_total(desk, points):
    trades, references, position_now = desk
    start, ends = bucket_ends(600 * S, 60 * S, points)

    pnl = attribute(trades, Reference(references), position_now, 600 * S, start, ends)

    for i in range(len(ends)):
        assert pnl.spread[i] + pnl.hedge[i] + pnl.fees[i] + pnl.mtm[i] == pnl.total[i]
    # And the total is what an independent replay gets: cash plus the position at the reference.
    reference = Reference(references)
    position = position_now - sum((t.position_change for t in trades if t.at_ms > start), D("0"))
    for i, end in enumerate(ends):
        inside = [t for t in trades if start < t.at_ms <= end]
        cash = -sum((t.delta * t.price + t.fee_quote for t in inside), D("0"))
        held = position + sum((t.position_change for t in inside), D("0"))
        assert pnl.total[i] == cash + held * reference.at(end) - position * reference.at(start)
