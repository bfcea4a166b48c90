"""The demo desk's overview in a real Chromium: its three markets, the flagships green on spread
and depth, the long-tail market red on both (what a breach looks like)."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

from bots.desk import health
from bots.market_making import quoter
from bots.models import Market
from bots.simulation import paper_flow
from tests.support.browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.processes, pytest.mark.django_db(transaction=True)]

MID, SPREAD, DEPTH_05_BID, DEPTH_05_ASK = 3, 4, 6, 7  # the row's cells, its market's name the first


def cell_class(page, slug: str, column: int) -> str:
    return page.get_attribute(f"#overview-table tr[data-market='{slug}'] > :nth-child({column})", "class")


def test_the_overview_shows_two_flagships_meeting_targets_and_a_long_tail_breach(
    page, live_url, viewer, artifacts
):
    call_command("seed_demo", "--trades-per-minute", "0", "--username", "demo-operator", stdout=io.StringIO())
    paper_flow.move_outside_markets(1)
    for market in Market.objects.all():
        quoter.run_tick(market.pk, on_hedge=lambda hedge_id: None)
        health.sample_market(Market.objects.get(pk=market.pk))

    log_in(page, live_url, viewer)
    page.wait_for_url(lambda url: "/login/" not in url)
    page.click("nav.desk >> text=Overview")
    page.wait_for_selector("#overview-table tr[data-market='xht-usdt']")

    rows = page.eval_on_selector_all("#overview-table tbody tr", "rows => rows.map(r => r.dataset.market)")
    assert sorted(rows) == ["btc-usdt", "eth-usdt", "xht-usdt"]
    for slug in ("btc-usdt", "eth-usdt"):
        for column in (SPREAD, DEPTH_05_BID, DEPTH_05_ASK):
            assert "st-green" in cell_class(page, slug, column), (slug, column)
    for column in (SPREAD, DEPTH_05_BID, DEPTH_05_ASK):
        assert "st-red" in cell_class(page, "xht-usdt", column), column
    assert page.get_attribute("#overview-table tr[data-market='xht-usdt']", "data-status") == "red"
    assert "XHT/USDT" in page.inner_text("#overview-table tr[data-market='xht-usdt'] th")
    page.screenshot(path=artifacts / "demo-desk-overview.png", full_page=True)

    # Prices keep five significant digits: XHT at a quarter of a dollar does not read 0.25 on
    # every level, and BTC keeps USDT's two places.
    def mid(slug):
        return page.inner_text(f"#overview-table tr[data-market='{slug}'] > :nth-child({MID})")

    assert re.fullmatch(r"0\.\d{5}", mid("xht-usdt")), mid("xht-usdt")
    assert re.fullmatch(r"\d{2},\d{3}\.\d{2}", mid("btc-usdt")), mid("btc-usdt")
    page.goto(f"{live_url}/markets/xht-usdt/")
    page.wait_for_selector("#levels tbody tr.ask")
    prices = page.eval_on_selector_all("#levels tbody tr.ask, #levels tbody tr.bid", "rows => rows.map(r => r.cells[1].textContent)")
    assert prices and all(re.fullmatch(r"0\.\d{5}", p) for p in prices), prices
    assert len(set(prices)) == len(prices), prices  # each level its own price
