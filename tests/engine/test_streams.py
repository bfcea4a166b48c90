"""The stream process's decisions on plain values: a reference move against the refresh
tolerance and the reference it is told from, the reference of several streamed books, and a
fill seen as an order's growth."""

from __future__ import annotations

from decimal import Decimal

from bots.engine.streams import Told, cross_mid, filled_more, moved_beyond, quoted_from

D = Decimal


def test_a_move_counts_only_beyond_the_tolerance():
    assert not moved_beyond(D("65000"), D("65019"), D("3"))  # 2.9 bps
    assert moved_beyond(D("65000"), D("65020"), D("3"))  # 3.08 bps
    assert moved_beyond(D("65000"), D("64970"), D("3"))  # 4.6 bps down
    assert not moved_beyond(None, D("65000"), D("3"))  # no reference yet: the beat quotes first
    assert not moved_beyond(D("65000"), None, D("3"))


def test_a_move_is_told_from_the_last_move_told_until_a_tick_ends():
    told = Told(tick_ms=1_000, mid=D("65050"))
    assert quoted_from(D("65000"), 1_000, None) == D("65000")  # nothing told: the tick's
    assert quoted_from(D("65000"), 1_000, told) == D("65050")  # no tick since: the move told
    assert quoted_from(D("65000"), 2_000, told) == D("65000")  # a tick ended since: its own
    assert quoted_from(D("65000"), 1_000, Told(None, D("65050"))) == D("65000")  # the first tick
    assert quoted_from(None, None, Told(None, D("65050"))) == D("65050")


def test_the_reference_is_the_best_bid_and_ask_across_books():
    one = ([(D("64990"), D("1"))], [(D("65010"), D("1"))])
    two = ([(D("64995"), D("1"))], [(D("65020"), D("1"))])
    assert cross_mid([one, two]) == D("65002.5")
    assert cross_mid([one, ([], [(D("64000"), D("1"))])]) == D("65000")  # a one-sided book is left out
    assert cross_mid([]) is None


def test_a_fill_is_an_order_filling_more_than_last_seen():
    seen: dict[str, Decimal] = {}
    assert filled_more(seen, [("1", D("0")), ("2", D("0.5"))]) == ["2"]
    assert filled_more(seen, [("1", D("0")), ("2", D("0.5"))]) == []  # the same update again
    assert filled_more(seen, [("1", D("0.1")), ("2", D("0.4"))]) == ["1"]  # never backwards
    assert seen == {"1": D("0.1"), "2": D("0.5")}
