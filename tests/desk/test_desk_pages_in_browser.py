"""The desk's pages in a real Chromium against a real Daphne: the overview updating live, an
alert acknowledged in place, targets edited with validation, the morning check run, the audit
log filtered, and the theme toggle. Each page is saved as a screenshot, light and dark."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from bots.desk import health
from bots.desk.alerts import raise_alert
from bots.desk.audit import record
from bots.models import Alert, MarketTargets
from bots.treasury.balances import refresh_balances
from dashboard.live.overview_push import publish_overview
from tests.support.browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.processes, pytest.mark.django_db(transaction=True)]


CURRENT_THEME = (
    "document.documentElement.dataset.theme || "
    "(matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light')"
)


def shoot(page, artifacts, name: str) -> None:
    """The page in both themes at 1280 px, switched with the page's own toggle."""
    for theme in ("light", "dark"):
        if page.evaluate(CURRENT_THEME) != theme:
            page.click("[data-theme-toggle]")
        page.screenshot(path=artifacts / f"{name}-{theme}.png", full_page=True)


def test_the_overview_updates_a_markets_row_in_place(page, live_url, running_market, viewer, artifacts):
    for account in (running_market.mm_account, running_market.hedge_account):
        refresh_balances(account, ["BTC", "USDT"])
    # No fills yet, so no 24 h volume: without this listing rule the row starts green or amber.
    MarketTargets.for_market(running_market)
    MarketTargets.objects.filter(market=running_market).update(listing_min_daily_volume=0)
    health.sample_market(running_market)
    log_in(page, live_url, viewer)
    page.wait_for_url(f"{live_url}/markets/btc-usdt/")
    page.click("nav.desk >> text=Overview")
    page.wait_for_selector("#live.on")
    row = "#overview-table tr[data-market='btc-usdt']"
    # The market page's name for the base across the accounts minus the target: not "unhedged",
    # which there means hedges not yet closed.
    assert page.inner_text("#overview-table th:has-text('exposure')").split() == ["Net", "exposure"]
    before = page.get_attribute(row, "data-status")
    assert before in ("green", "amber")
    page.evaluate("window.__samePage = true")

    # Tighter targets than the book can meet: the next round turns the row red, with its "since".
    MarketTargets.objects.filter(market=running_market).update(spread_target_bps=0, spread_alarm_bps=Decimal("0.1"))
    health.sample_market(running_market)
    # Playwright's loop runs in this thread; the engine's publish is sync code of its own.
    with ThreadPoolExecutor(1) as engine:
        engine.submit(publish_overview).result()

    page.wait_for_selector(f"{row}[data-status='red']", timeout=10_000)
    assert "since" in page.inner_text(f"{row} td.status")
    assert "st-red" in page.get_attribute(f"{row} td:nth-child(4)", "class")  # the spread cell
    assert page.evaluate("window.__samePage") is True
    assert int(page.get_attribute("#overview", "data-updates")) >= 1
    shoot(page, artifacts, "overview")


def test_an_operator_acknowledges_an_alert_where_it_is_shown(page, live_url, demo_market, operator, artifacts):
    alert = raise_alert(Alert.SPREAD_OUT_OF_BAND, demo_market, "Spread 62.0 bps: red past 50 bps (listing rule 50 bps).",
                        "/markets/btc-usdt/")
    raise_alert(Alert.WORKER_SILENT, None, "No Celery worker has run a task for 75 s.", "/morning-check/")
    log_in(page, live_url, operator)
    page.wait_for_url(f"{live_url}/markets/btc-usdt/")
    assert page.inner_text("nav.desk .count") == "2"
    page.click("nav.desk >> text=Alerts")

    item = f"#alert-{alert.pk}"
    assert page.get_attribute(f"{item} a.button", "href") == "/markets/btc-usdt/"
    page.evaluate("window.__samePage = true")
    page.click(f"{item} >> text=Acknowledge")

    page.wait_for_selector(f"{item}.alert-acknowledged")
    assert "acknowledged by olivia" in page.inner_text(item)
    assert page.evaluate("window.__samePage") is True
    alert.refresh_from_db()
    assert alert.acknowledged_by == operator
    shoot(page, artifacts, "alerts")


def test_an_admin_edits_targets_and_bad_input_changes_nothing(page, live_url, demo_market, admin_user, artifacts):
    MarketTargets.for_market(demo_market)
    log_in(page, live_url, admin_user)
    page.wait_for_url(f"{live_url}/markets/btc-usdt/")
    page.click("nav.desk >> text=Targets")
    card = "#targets-btc-usdt"
    page.click(f"{card} >> text=Edit targets")
    page.wait_for_selector(f"{card} input[name=spread_alarm_bps]")

    page.fill(f"{card} input[name=spread_alarm_bps]", "5")  # below the 10 bps target
    page.click(f"{card} >> text=Save targets")
    page.wait_for_selector(f"{card} .field-error")
    assert "The red line must be at or above the spread target." in page.inner_text(card)
    assert MarketTargets.objects.get().spread_alarm_bps == Decimal("50")
    shoot(page, artifacts, "targets-invalid")

    page.fill(f"{card} input[name=spread_alarm_bps]", "40")
    page.click(f"{card} >> text=Save targets")
    page.wait_for_selector(f"{card} .ok")
    assert "Saved as version 2." in page.inner_text(card)
    assert MarketTargets.objects.get().spread_alarm_bps == Decimal("40")
    page.click(f"{card} details.history summary")
    assert "spread red line (bps): 50 → 40" in page.inner_text(f"{card} details.history")
    shoot(page, artifacts, "targets")


def test_an_operator_runs_the_morning_check(page, live_url, running_market, operator, artifacts):
    health.sample_market(running_market)
    log_in(page, live_url, operator)
    page.wait_for_url(f"{live_url}/markets/btc-usdt/")
    page.click("nav.desk >> text=Morning check")
    assert "Nobody has run the check yet." in page.inner_text("#morning-check-run")

    page.click("text=Run the check now")

    page.wait_for_selector("ol.checklist li[data-key='workers']")
    assert page.locator("ol.checklist li").count() == 6
    assert "Run by olivia" in page.inner_text("#morning-check-run")
    assert "fail" in page.inner_text("li[data-key='workers']")  # no worker runs in this test
    shoot(page, artifacts, "morning-check")


def test_a_viewer_filters_the_audit_log(page, live_url, demo_market, viewer, operator, artifacts):
    record("pause", user=operator, market=demo_market, subject="market btc-usdt", reason="exchange maintenance")
    record("breaker", actor="price breaker", market=demo_market, reason="reference moved 3.1% in one tick",
           move_pct=Decimal("3.1"))
    log_in(page, live_url, viewer)
    page.wait_for_url(f"{live_url}/markets/btc-usdt/")
    page.click("nav.desk >> text=Audit")
    assert page.locator("table.audit tbody tr").count() == 2

    page.select_option("select[name=action]", "pause")
    page.click("form.filters >> text=Filter")

    page.wait_for_url("**/audit/?*action=pause*")
    assert page.locator("table.audit tbody tr").count() == 1
    assert "exchange maintenance" in page.inner_text("table.audit")
    shoot(page, artifacts, "audit")


def test_the_theme_follows_the_system_until_toggled_and_the_choice_is_remembered(
    browser, live_url, viewer, running_market, artifacts
):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="dark")
    page = context.new_page()
    try:
        log_in(page, live_url, viewer)
        page.wait_for_url(f"{live_url}/markets/btc-usdt/")
        background = "getComputedStyle(document.body).backgroundColor"
        assert page.evaluate(background) == "rgb(18, 21, 27)"  # the system's dark
        assert page.inner_text("[data-theme-toggle]") == "Light theme"
        page.wait_for_selector("#depth-chart .main-svg")
        page.screenshot(path=artifacts / "market-dark.png", full_page=True)

        page.click("[data-theme-toggle]")
        assert page.evaluate(background) == "rgb(245, 246, 248)"
        page.goto(f"{live_url}/alerts/")

        assert page.evaluate("document.documentElement.dataset.theme") == "light"
        assert page.evaluate(background) == "rgb(245, 246, 248)"
        assert page.inner_text("[data-theme-toggle]") == "Dark theme"
    finally:
        context.close()
