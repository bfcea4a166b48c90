"""In a real browser: log in, see the depth chart, send a user trade, watch balances move live."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bots.models import Fill
from bots.treasury.balances import refresh_balances
from tests.support.browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.processes, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page_in_tokyo(browser):
    """A browser whose zone and locale are not the desk's: its times must still read as UTC."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id="Asia/Tokyo",
                                  locale="en-US")
    yield context.new_page()
    context.close()


def test_an_operator_sees_a_user_trade_move_the_balances_live(
    page_in_tokyo, live_url, worker, running_market, operator, artifacts
):
    page = page_in_tokyo
    for account in (running_market.mm_account, running_market.hedge_account):
        refresh_balances(account, ["BTC", "USDT"])
    log_in(page, live_url, operator)
    page.wait_for_url(f"{live_url}/markets/btc-usdt/")

    # The depth chart is drawn with both sides of the own book, the MM bot's quote markers, and
    # both sides of the hedge venue's book.
    page.wait_for_selector("#depth-chart .main-svg")
    assert page.evaluate("document.getElementById('depth-chart').data.length") == 6
    assert page.evaluate("document.getElementById('depth-chart').data[3].x.length") > 0
    page.wait_for_selector("#live.on")

    mm_btc_total = "#balances tr[data-key='market-making bot:BTC'] td:nth-child(5)"
    mm_btc = page.locator(mm_btc_total)
    before = mm_btc.inner_text()
    page.evaluate("window.__samePage = true")

    page.select_option("select[name=side]", "buy")
    page.fill("input[name=amount]", "0.02")
    page.click("form.trade button[type=submit]")
    page.wait_for_selector("#trade-result .ok")

    page.wait_for_function(
        "([selector, before]) => document.querySelector(selector).textContent !== before",
        arg=[mm_btc_total, before],
        timeout=20_000,
    )
    assert float(mm_btc.inner_text().replace(",", "")) == pytest.approx(float(before.replace(",", "")) - 0.02)
    assert page.evaluate("window.__samePage") is True  # updated in place, never reloaded
    page.wait_for_selector("#tape tbody tr .hedge-filled", timeout=20_000)
    # The trade's time as the charts and the rest of the desk give it: UTC, 24-hour.
    fill = Fill.objects.filter(market=running_market).latest("timestamp")
    utc = datetime.fromtimestamp(fill.timestamp / 1000, UTC).strftime("%H:%M:%S")
    assert page.inner_text("#tape tbody tr:first-child td:first-child") == utc
    assert "UTC" in page.inner_text("#tape thead th:first-child")
    page.screenshot(path=artifacts / "market.png", full_page=True)


def test_a_wrong_password_shows_the_forms_message(page, live_url, operator, artifacts):
    log_in(page, live_url, operator, password="not it")
    message = page.wait_for_selector("p.error[role=alert]")
    assert "correct username and password" in message.inner_text()
    assert page.url == f"{live_url}/login/"
    page.screenshot(path=artifacts / "login-failed.png")
