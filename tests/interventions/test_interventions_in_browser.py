"""In real browsers: one operator proposes a buyback on the interventions page, the other sees it
appear without a reload and approves it; a slice fills and both pages show the progress live;
the first pauses it from the page."""

from __future__ import annotations

import pytest

from bots.interventions import execution
from bots.models import Intervention
from tests.support.browser import log_in, off_the_browser_thread
from tests.support.interventions import advance, read_balances, user_fills

pytestmark = [pytest.mark.browser, pytest.mark.processes, pytest.mark.django_db(transaction=True)]
I = Intervention  # noqa: E741


def open_page(browser, live_url, user, market):
    context = browser.new_context(viewport={"width": 1360, "height": 1000})
    page = context.new_page()
    log_in(page, live_url, user)
    page.wait_for_url(f"{live_url}/**")
    page.goto(f"{live_url}/markets/{market.slug}/interventions/")
    page.wait_for_selector("#live.on")
    return context, page


def test_a_buyback_proposed_approved_and_sliced_shows_live_on_both_pages(
    browser, live_url, running_market, operator, second_operator, artifacts
):
    market = running_market
    read_balances(market)
    user_fills(market, "sell", ["1"])  # the users' recent volume: 0.2 BTC a slice at 20%
    olivia_context, olivia = open_page(browser, live_url, operator, market)
    oscar_context, oscar = open_page(browser, live_url, second_operator, market)
    try:
        oscar.evaluate("window.__samePage = true")
        olivia.select_option("#propose select[name=kind]", "buyback")
        olivia.select_option("#propose select[name=where]", "hedge")
        olivia.fill("#propose input[name=amount]", "0.3")
        olivia.fill("#propose input[name=minutes]", "2")
        olivia.fill("#propose input[name=reason]", "users selling into a thin book")
        olivia.click("#propose button[type=submit]")
        olivia.wait_for_selector("article.intervention[data-state='proposed']")
        assert "You proposed it" in olivia.inner_text("#current-intervention")
        iv = I.objects.get()

        # Oscar did nothing: the market's push brought the proposal to his page.
        oscar.wait_for_selector("article.intervention[data-state='proposed'] button.approve",
                                timeout=15_000)
        assert "users selling into a thin book" in oscar.inner_text("#current-intervention")
        oscar.fill(f"#intervention-comment-{iv.pk}", "agreed")
        oscar.click("article.intervention button.approve")
        oscar.wait_for_selector("article.intervention[data-state='running']")
        olivia.wait_for_selector("article.intervention[data-state='running']", timeout=15_000)

        # A slice comes due and fills (here, not in a worker): both pages show it.
        off_the_browser_thread(lambda: execution.run_due(advance(I.objects.get(pk=iv.pk), 119).pk))
        filled = str(I.objects.get(pk=iv.pk).filled.normalize())
        assert filled == "0.2"  # the participation cap holds back the rest
        for page in (olivia, oscar):
            page.wait_for_selector(f"progress[data-filled='{filled}']", timeout=15_000)
        assert f"{filled} of 0.3 BTC" in oscar.inner_text("#current-intervention")
        olivia.screenshot(path=artifacts / "intervention-running.png", full_page=True)

        olivia.fill(f"#intervention-comment-{iv.pk}", "news at the hour")
        olivia.click("article.intervention button.pause")
        olivia.wait_for_selector("article.intervention[data-state='paused']")
        oscar.wait_for_selector("article.intervention[data-state='paused'] button.resume",
                                timeout=15_000)
        assert oscar.evaluate("window.__samePage") is True
    finally:
        olivia_context.close()
        oscar_context.close()
    assert I.objects.get(pk=iv.pk).state == I.PAUSED
