"""In a real browser: the market page's history charts (inventory, exposure, P&L attribution)
drawn from the records, and a user trade appended to them in place, without a reload or a
redraw; the depth chart with the hedge venue's book, drawn again only when a book moved."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from bots.hedging import hedger
from bots.hedging.capture import capture_fills
from bots.models import HealthSample
from bots.simulation.paper_flow import user_trade
from bots.treasury.balances import refresh_balances
from bots.venues import venue_for
from dashboard.live.publisher import publish_market
from dashboard.market_making.market_history import BUCKET_MS, POINTS
from tests.support.browser import log_in, off_the_browser_thread

pytestmark = [pytest.mark.browser, pytest.mark.processes, pytest.mark.django_db(transaction=True)]

CHART = "document.getElementById('{}')"


def data(page, chart: str, expression: str):
    return page.evaluate(f"{CHART.format(chart)}.data{expression}")


@pytest.fixture
def traded_market(running_market):
    """The demo market with one user sell already hedged, a reference sample and balances read."""
    running_market.refresh_from_db()
    HealthSample.objects.create(
        market=running_market, reference_mid=running_market.reference_price, status="green"
    )
    user_trade(running_market, "sell", Decimal("0.03"))
    for fill in capture_fills(
        running_market, venue_for(running_market.mm_account), lambda hedge_id: None
    ):
        hedger.execute_hedge(fill.hedge.pk)
    for account in (running_market.mm_account, running_market.hedge_account):
        refresh_balances(account, ["BTC", "USDT"])
    return running_market


def test_a_user_trade_is_appended_to_the_history_charts_in_place(
    page, live_url, worker, traded_market, operator, artifacts
):
    log_in(page, live_url, operator)
    page.wait_for_url(f"{live_url}/markets/btc-usdt/")
    page.wait_for_selector("#pnl-chart .main-svg")
    page.wait_for_selector("#live.on")

    # The first load draws the window: one point per bucket, the last one now.
    names = data(page, "inventory-chart", ".map(t => t.name)")
    assert names == [
        "MM bot @ Own exchange",
        "Hedging bot @ External exchange",
        "in flight",
        "all accounts",
    ]
    assert data(page, "exposure-chart", ".map(t => t.name)") == ["net exposure", "unhedged"]
    assert data(page, "pnl-chart", ".map(t => t.name)") == [
        "Spread captured",
        "Hedge P&L",
        "Interventions",
        "Fees paid",
        "Inventory mark-to-market",
        "Total",
    ]
    # One point per bucket, the quiet lead-in of the window left out (10 points kept before
    # the first change), the last point now.
    drawn = data(page, "pnl-chart", "[0].x.length")
    assert 2 <= drawn <= POINTS
    first_x = data(page, "pnl-chart", "[0].x[0]")
    last_x = data(page, "pnl-chart", "[0].x.at(-1)")
    assert last_x - first_x <= (drawn - 1) * BUCKET_MS
    assert data(page, "inventory-chart", "[0].y.at(-1)") == pytest.approx(
        2.03
    )  # the MM bot bought 0.03
    spread_before = data(page, "pnl-chart", "[0].y.at(-1)")
    assert spread_before > 0
    shown = page.locator("#pnl-table tr[data-part=spread] td.num").inner_text()
    # 2 decimals for USDT: at most half a cent off (and a float's width, at exactly half).
    assert float(shown.replace(",", "")) == pytest.approx(spread_before, abs=0.005 + 1e-9)
    align = page.evaluate("getComputedStyle(document.querySelector('#pnl-table td.num')).textAlign")
    assert align == "right"
    # The depth chart: the own book, the MM quotes with their edge, the hedge venue's book.
    depth = data(page, "depth-chart", ".map(t => t.name)")
    assert depth[4:] == ["External exchange bids", "External exchange asks"]
    assert (
        data(page, "depth-chart", "[4].x.length") > 0
        and data(page, "depth-chart", "[5].x.length") > 0
    )
    assert all(float(label) >= 2 for label in data(page, "depth-chart", "[3].text"))

    # Mark the drawn traces: extendTraces keeps these objects, a redraw (react) would replace them.
    page.evaluate(
        "['inventory-chart', 'exposure-chart', 'pnl-chart'].forEach(id => "
        "document.getElementById(id).data.forEach(t => { t.probe = 'drawn once'; }));"
        "window.__samePage = true"
    )
    length = data(page, "pnl-chart", "[0].x.length")

    page.select_option("select[name=side]", "buy")
    page.fill("input[name=amount]", "0.02")
    page.click("form.trade button[type=submit]")
    page.wait_for_selector("#trade-result .ok")

    # The MM bot sold 0.02 above the reference: more spread captured, 0.02 less BTC held.
    page.wait_for_function(
        "([length, before]) => { const t = document.getElementById('pnl-chart').data[0];"
        " return t.x.length > length && t.y.at(-1) > before; }",
        arg=[length, spread_before],
        timeout=30_000,
    )
    page.wait_for_function(
        "() => document.getElementById('inventory-chart').data[0].y.at(-1) < 2.02", timeout=30_000
    )
    assert data(page, "inventory-chart", "[0].y.at(-1)") == pytest.approx(2.01)
    assert page.evaluate("window.__samePage") is True
    for chart in ("inventory-chart", "exposure-chart", "pnl-chart"):
        assert data(page, chart, ".every(t => t.probe === 'drawn once')") is True, chart
        lengths = data(page, chart, ".map(t => t.x.length)")
        assert len(set(lengths)) == 1 and lengths[0] > drawn, chart
    # The parts still add up to the total at the point appended.
    parts = data(page, "pnl-chart", ".map(t => t.y.at(-1))")
    assert sum(parts[:-1]) == pytest.approx(parts[-1], abs=1e-6)
    page.locator("#pnl-panel").scroll_into_view_if_needed()
    page.screenshot(path=artifacts / "market-charts.png", full_page=True)

    # The dark theme: the charts' text follows it.
    page.click("[data-theme-toggle]")
    page.wait_for_function("() => document.documentElement.dataset.theme === 'dark'")
    page.screenshot(path=artifacts / "market-charts-dark.png", full_page=True)


def pushed(market) -> bool:
    """The market's snapshot sent to its pages now, as a worker sends it."""
    return off_the_browser_thread(lambda: publish_market(market.pk, force=True))


def test_a_push_that_leaves_the_books_as_they_were_does_not_draw_the_depth_chart_again(
    page, live_url, traded_market, operator
):
    log_in(page, live_url, operator)
    page.wait_for_url(f"{live_url}/markets/btc-usdt/")
    page.wait_for_selector("#depth-chart .main-svg")
    page.wait_for_selector("#live.on")
    # Plotly.react replaces the chart's traces: a probe on them stays only while it is not called.
    mark = "document.getElementById('depth-chart').data.forEach(t => { t.probe = 'kept'; })"
    kept = "document.getElementById('depth-chart').data.every(t => t.probe === 'kept')"
    updates = "Number(document.getElementById('market').dataset.updates)"

    page.evaluate(mark)
    before = page.evaluate(updates)
    assert pushed(traded_market)  # nothing moved: the same books
    page.wait_for_function(f"() => {updates} > {before}")
    assert page.evaluate(kept) is True

    # A bid below the book's: the own book moves, and no trade leaves work queued for a worker
    # (a hedge's balance refresh) that could outlive the test.
    venue = venue_for(traded_market.mm_account)
    price = venue.price_to_precision("BTC/USDT", traded_market.reference_price * Decimal("0.98"))
    venue.create_order("BTC/USDT", "limit", "buy", Decimal("0.01"), price)
    assert pushed(traded_market)
    page.wait_for_function(f"() => !({kept})")
    assert data(page, "depth-chart", ".length") == 6


HISTORY = '<script id="history" type="application/json">'


def test_a_pnl_part_that_rounds_to_zero_reads_0_00_in_neither_colour(page, live_url, running_market, operator):
    # A reference sample gives the window its P&L (every part 0 without trades). The page then
    # gets that history with two parts' last values changed on the way: a tenth of a cent lost
    # (0.00 at USDT's places) and six tenths (-0.01).
    running_market.refresh_from_db()
    HealthSample.objects.create(
        market=running_market, reference_mid=running_market.reference_price, status="green"
    )

    def with_small_losses(route):
        response = route.fetch()
        html = response.text()
        start = html.index(HISTORY) + len(HISTORY)
        end = html.index("</script>", start)
        history = json.loads(html[start:end])
        history["pnl"]["mtm"][-1] = "-0.001"
        history["pnl"]["fees"][-1] = "-0.006"
        text = json.dumps(history).replace("<", "\\u003C").replace(">", "\\u003E").replace("&", "\\u0026")
        route.fulfill(response=response, body=html[:start] + text + html[end:])

    log_in(page, live_url, operator)
    page.wait_for_url(f"{live_url}/markets/btc-usdt/")
    page.route(f"{live_url}/markets/btc-usdt/", with_small_losses)
    page.goto(f"{live_url}/markets/btc-usdt/")
    page.wait_for_selector("#pnl-chart .main-svg")
    mtm = page.locator("#pnl-table tr[data-part=mtm] td.num")
    fees = page.locator("#pnl-table tr[data-part=fees] td.num")
    assert (mtm.inner_text(), mtm.get_attribute("class")) == ("0.00", "num")
    assert (fees.inner_text(), fees.get_attribute("class")) == ("-0.01", "num loss")
