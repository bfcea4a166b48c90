"""In a real browser: an operator enters a flow by hand (the demo market has no fills), starts a
sizing run, watches its progress bar move, and reads the answer and its two plots."""

from __future__ import annotations

import re

import pytest

from bots.models import SizingRun
from tests.support.browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.processes, pytest.mark.django_db(transaction=True)]


def test_an_operator_runs_a_sizing_and_sees_the_bar_move_then_the_answer(
    page, live_url, worker, rebalance_market, operator, artifacts
):
    log_in(page, live_url, operator)
    page.wait_for_url(f"{live_url}/**")
    page.goto(f"{live_url}/sizing/")
    page.wait_for_selector("#live.on")
    card = "#sizing-btc-usdt"
    assert "Not enough fills: 0 user orders" in page.inner_text(f"{card} .flow-note")
    page.screenshot(path=artifacts / "sizing-form.png", full_page=True)

    page.fill("#btc-usdt-trades_per_minute", "1")
    page.fill("#btc-usdt-mean_size", "0.01")
    page.fill("#btc-usdt-buy_share", "0.53")
    page.fill("#btc-usdt-price", "65000")
    page.fill("#btc-usdt-daily_volatility_pct", "3")
    page.fill("#btc-usdt-horizon_days", "1")
    page.fill("#btc-usdt-paths", "2000")  # several seconds: the bar has time to move
    page.fill("#btc-usdt-seed", "3")
    page.evaluate("window.__samePage = true")
    page.click(f"{card} button.run")

    page.wait_for_selector(f"{card} .sizing-progress")
    assert "queued: 2,000 paths of 1 days in 1 s steps" in page.inner_text(f"{card} .sizing-note")
    # The bar moved at least once before the end, pushed over the websocket.
    page.wait_for_function(
        "() => { const p = document.querySelector('#sizing-btc-usdt .sizing-progress progress');"
        " return p && p.value > 0 && p.value < 1; }",
        timeout=60_000,
    )
    page.screenshot(path=artifacts / "sizing-progress.png", full_page=True)

    page.wait_for_selector(f"{card} .sizing-sentence", timeout=120_000)
    page.wait_for_selector(f"{card} #days-{SizingRun.objects.get().pk} .main-svg")
    run = SizingRun.objects.get()
    assert run.state == SizingRun.DONE
    sentence = page.inner_text(f"{card} .sizing-sentence")
    assert re.search(
        r"To rebalance at most once every 1 day with 95% confidence, the MM account needs [\d.,]+ BTC "
        r"and [\d.,]+ USDT and the hedge account [\d.,]+ BTC and [\d.,]+ USDT; they hold 2 BTC and "
        r"130,000 USDT \(MM\) and 2 BTC and 130,000 USDT \(hedge\) now\.",
        sentence,
    ), sentence
    assert page.evaluate(f"document.getElementById('days-{run.pk}').data.length") == 2
    assert page.evaluate(f"document.getElementById('edge-{run.pk}').data[0].y.length") == 50
    assert page.locator(f"{card} .sizing-progress").count() == 0
    assert page.evaluate("window.__samePage") is True  # the card refreshed in place
    page.screenshot(path=artifacts / "sizing-answer.png", full_page=True)

    # Dark theme: the page and its plots follow it.
    page.click("[data-theme-toggle]")
    if page.evaluate("document.documentElement.dataset.theme") != "dark":
        page.click("[data-theme-toggle]")
    page.reload()
    page.wait_for_selector(f"{card} #edge-{run.pk} .main-svg")
    page.screenshot(path=artifacts / "sizing-answer-dark.png", full_page=True)
