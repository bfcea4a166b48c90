"""Figures as every page, note and proposal shows them: the asset's decimals, minutes under an hour."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from bots.engine import figures
from bots.engine.figures import duration, in_asset, plain
from bots.engine.treasury.planner import Band, Holding, review, why


@pytest.mark.parametrize(
    ("hours", "text"),
    [
        (D("2.4"), "2.4 h"),
        (D("1"), "1.0 h"),
        (D("0.99"), "59 min"),  # rounded down: a runway never reads longer than it is
        (D("0.0833"), "4 min"),
        (D("0.04"), "2 min"),
        (D("0.01"), "under 1 min"),
        (D("0"), "under 1 min"),
        (D("1234.56"), "1,234.6 h"),
    ],
)
def test_a_duration_under_an_hour_reads_in_minutes(hours, text):
    assert duration(hours) == text


def test_amounts_take_their_assets_decimals():
    assert in_asset(D("3.31251987"), "BTC") == "3.31252"
    assert in_asset(D("44694.5792341958"), "USDT") == "44,694.58"
    assert in_asset(D("1.5"), "DOGE") == "1.500000"  # an asset without its own places
    assert plain(D("10.000000000000000000")) == "10"


def test_a_figure_that_rounds_to_zero_has_no_sign():
    # A loss of a tenth of a cent is "0.00" at USDT's places, not "-0.00".
    assert in_asset(D("-0.001"), "USDT") == "0.00"
    assert in_asset(D("-0.006"), "USDT") == "-0.01"
    assert figures.fixed(D("-0.0000001"), 5) == "0.00000"


def holding(account: str, asset: str, total: str, incoming: str = "0") -> Holding:
    band = Band(D("1"), D("2"), D("3")) if asset == "BTC" else Band(D("60000"), D("130000"), D("200000"))
    return Holding(account, account.upper(), asset, D(total), D(total), band, incoming=D(incoming))


def test_a_proposals_reason_shows_the_assets_decimals_not_raw_figures():
    assert why(holding("mm", "BTC", "3.31251987", incoming="0.000123456")) == (
        "MM holds 3.31264 BTC, above its maximum 3.00000 (counting 0.00012 in flight)"
    )
    assert why(holding("hedge", "USDT", "44694.5792341958")) == (
        "HEDGE holds 44,694.58 USDT, below its minimum 60,000.00"
    )


def test_a_moot_proposals_reason_shows_the_assets_decimals():
    state = {"mm": holding("mm", "BTC", "2.123456789"), "hedge": holding("hedge", "BTC", "1.5")}
    assert review("mm", "hedge", D("1.2"), D("0.0001"), state) == (
        "MM would end at 0.92346 BTC, below its minimum 1.00000"
    )


def test_a_price_keeps_five_significant_digits_and_its_quote_places_at_least():
    assert figures.in_price(D("65043.321"), "USDT") == "65,043.32"
    assert figures.in_price(D("3499.8"), "USDT") == "3,499.80"
    # A quarter-dollar token: at USDT's two places every level of its book would read 0.25.
    assert figures.in_price(D("0.2483"), "USDT") == "0.24830"
    assert figures.in_price(D("0.000012346"), "USDT") == "0.00001235"  # eight places at most
    assert figures.in_price(D("0"), "USDT") == "0.00"
    assert figures.in_price(None, "USDT") == figures.DASH
