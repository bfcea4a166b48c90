"""Liquidity figures of a book and their grades against target bands (bots.engine.desk.liquidity)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bots.engine.desk.liquidity import (
    AMBER,
    GREEN,
    RED,
    Band,
    ListingRules,
    Targets,
    breach_changes,
    daily_volume_due,
    day_share,
    default_targets,
    depth_within,
    grade,
    grade_book,
    grade_volume,
    measure,
    meets_listing,
    share_pct,
    spread_bps,
    worst,
)

BIDS = [(D("99.9"), D("1")), (D("99.5"), D("2")), (D("99"), D("3")), (D("97"), D("10"))]
ASKS = [(D("100.1"), D("1")), (D("100.5"), D("2")), (D("101"), D("3")), (D("103"), D("10"))]


def test_the_spread_is_in_bps_of_the_mid():
    assert spread_bps(BIDS, ASKS) == D("0.2") / D("100") * 10000


def test_a_one_sided_book_has_no_spread():
    assert spread_bps(BIDS, []) is None
    assert spread_bps([], ASKS) is None


def test_depth_counts_quote_currency_within_the_band_edge_included():
    # Mid 100: within 0.5% is down to 99.5 (bids) and up to 100.5 (asks), both edges included.
    assert depth_within(BIDS, D("100"), D("0.5"), "buy") == D("99.9") + D("199")
    assert depth_within(ASKS, D("100"), D("0.5"), "sell") == D("100.1") + D("201")
    assert depth_within(BIDS, D("100"), D("1"), "buy") == D("99.9") + D("199") + D("297")
    assert depth_within(ASKS, D("100"), D("2"), "sell") == D("100.1") + D("201") + D("303")


def test_measure_reports_every_band_of_both_sides():
    health = measure(BIDS, ASKS)
    assert health.mid == D("100")
    assert health.two_sided
    assert health.depth[("buy", D("2"))] == D("99.9") + D("199") + D("297")
    assert health.depth[("sell", D("0.5"))] == D("301.1")
    assert len(health.depth) == 6


def test_an_empty_side_is_not_two_sided_and_holds_no_depth():
    health = measure(BIDS, [])
    assert not health.two_sided
    assert health.mid is None
    assert set(health.depth.values()) == {D(0)}


@pytest.mark.parametrize(
    ("value", "expected"),
    [(D("5"), GREEN), (D("10"), GREEN), (D("10.01"), AMBER), (D("25"), AMBER), (D("25.01"), RED), (None, RED)],
)
def test_a_figure_where_lower_is_better_is_graded_against_target_and_red_line(value, expected):
    assert grade(value, Band(D("10"), D("25"), higher_is_better=False)) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(D("60000"), GREEN), (D("50000"), GREEN), (D("49999"), AMBER), (D("25000"), AMBER), (D("24999"), RED)],
)
def test_a_figure_where_higher_is_better_is_graded_the_other_way(value, expected):
    assert grade(value, Band(D("50000"), D("25000"), higher_is_better=True)) == expected


def test_flagship_pairs_get_the_playbooks_tighter_defaults():
    btc, doge = default_targets("BTC/USDT"), default_targets("DOGE/USDT")
    assert (btc.spread.target, btc.depth[D("0.5")].target) == (D(10), D(50_000))
    assert (doge.spread.target, doge.spread.alarm, doge.depth[D("0.5")].target) == (D(30), D(50), D(10_000))
    assert default_targets("ETH/USDT") == btc
    assert btc.uptime_pct.target == D(99)
    for targets in (btc, doge):
        wider = [targets.depth[p].target for p in (D("0.5"), D("1"), D("2"))]
        assert wider == sorted(wider)


def test_a_listing_rule_missed_is_red_even_inside_the_band():
    targets = default_targets("DOGE/USDT")  # spread red past 50 bps; listing rule 100 bps
    wide = [(D("99.8"), D("1000"))], [(D("100.2"), D("1000"))]  # 40 bps: amber in the band
    assert grade_book(measure(*wide), targets)["spread"] == AMBER
    strict = Targets(targets.spread, targets.depth, targets.uptime_pct, ListingRules(D(20), D(0), D(2), D(0)))
    assert grade_book(measure(*wide), strict)["spread"] == RED


def test_depth_under_the_listing_minimum_is_red_at_the_listing_band_only():
    targets = default_targets("DOGE/USDT")
    rules = ListingRules(D(100), D(1_000_000), D("1"), D(0))
    strict = Targets(targets.spread, targets.depth, targets.uptime_pct, rules)
    book = [(D("99.9"), D("1000"))], [(D("100.1"), D("1000"))]  # ~100k a side, all within 0.5%
    grades = grade_book(measure(*book), strict)
    assert grades["depth_bid_0.5"] == GREEN and grades["depth_bid_2"] == GREEN
    assert grades["depth_bid_1"] == RED and grades["depth_ask_1"] == RED


def test_listing_rules_need_every_figure_and_the_volume():
    listing = default_targets("DOGE/USDT").listing
    book = measure([(D("99.9"), D("1000"))], [(D("100.1"), D("1000"))])
    assert meets_listing(book, listing, D(50_000))
    assert not meets_listing(book, listing, D(49_999))
    assert not meets_listing(book, listing, None)
    assert not meets_listing(measure([(D("99.9"), D("1000"))], []), listing, D(10**9))
    assert grade_volume(D(50_000), listing) == GREEN and grade_volume(D(1), listing) == RED


def test_a_market_watched_for_part_of_a_day_is_held_to_that_share_of_the_daily_volume():
    listing = default_targets("DOGE/USDT").listing  # 50,000 a day
    book = measure([(D("99.9"), D("1000"))], [(D("100.1"), D("1000"))])
    hour = day_share(D(3600))
    assert hour == D(1) / D(24) and day_share(D(86400 * 3)) == D(1) and day_share(D(-5)) == D(0)
    assert daily_volume_due(listing, hour).quantize(D("0.01")) == D("2083.33")
    assert grade_volume(D(2_100), listing, hour) == GREEN  # on pace for 50,400
    assert grade_volume(D(2_000), listing, hour) == RED
    assert meets_listing(book, listing, D(2_100), hour) and not meets_listing(book, listing, D(2_100))


def test_the_worst_grade_wins():
    assert worst([GREEN, AMBER, GREEN]) == AMBER
    assert worst([AMBER, RED]) == RED
    assert worst([]) == GREEN


def test_breaches_open_for_new_reds_and_close_for_figures_no_longer_red():
    changes = breach_changes({"spread", "depth_bid_0.5"}, {"spread": RED, "depth_bid_0.5": AMBER, "volume": RED})
    assert changes.opened == {"volume"}
    assert changes.closed == {"depth_bid_0.5"}


def test_shares_are_percent_with_one_decimal_and_none_without_data():
    assert share_pct(1, 3) == D("33.3")
    assert share_pct(5, 5) == D("100.0")
    assert share_pct(0, 0) is None


levels = st.lists(
    st.tuples(st.decimals("0.01", "200", places=2), st.decimals("0.001", "50", places=3)), max_size=30
)


@given(bids=levels, asks=levels)
def test_depth_grows_with_the_band_and_never_exceeds_the_side(bids, asks):
    bids = sorted(bids, reverse=True)
    asks = sorted(asks)
    health = measure(bids, asks)
    for side, book in (("buy", bids), ("sell", asks)):
        figures = [health.depth[(side, pct)] for pct in (D("0.5"), D("1"), D("2"))]
        assert figures == sorted(figures)
        assert figures[-1] <= sum((p * a for p, a in book), D(0))
    if health.spread_bps is not None and bids[0][0] <= asks[0][0]:
        assert health.spread_bps >= 0


@given(value=st.decimals("0", "1000", places=2), target=st.decimals("0", "500", places=2),
       extra=st.decimals("0", "500", places=2))
def test_grades_never_improve_as_a_figure_worsens(value, target, extra):
    lower_better = Band(target, target + extra, higher_is_better=False)
    severity = {GREEN: 0, AMBER: 1, RED: 2}
    assert severity[grade(value, lower_better)] <= severity[grade(value + 1, lower_better)]
    higher_better = Band(target + extra, target, higher_is_better=True)
    assert severity[grade(value + 1, higher_better)] <= severity[grade(value, higher_better)]
