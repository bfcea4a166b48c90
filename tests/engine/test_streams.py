"""The stream process's decisions on plain values: a reference move against the refresh
tolerance, the reference of several streamed books, and a fill seen as an order's growth."""

from __future__ import annotations

from decimal import Decimal

from bots.engine.streams import cross_mid, filled_more, moved_beyond

D = Decimal


def test_a_move_counts_only_beyond_the_tolerance():
    assert not moved_beyond(D("65000"), D("65019"), D("3"))  # 2.9 bps
    assert moved_beyond(D("65000"), D("65020"), D("3"))  # 3.08 bps
    assert moved_beyond(D("65000"), D("64970"), D("3"))  # 4.6 bps down
    assert not moved_beyond(None, D("65000"), D("3"))  # no reference yet: the beat quotes first
    assert not moved_beyond(D("65000"), None, D("3"))


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
