"""In a real browser: the market page's hedging card links to the failed-hedges panel, where an
operator writes a failed hedge off; the panel updates in place."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bots.hedging import hedger
from bots.models import Hedge, HedgeSettings, PaperMarket
from bots.platform import events
from bots.treasury.balances import refresh_balances
from bots.venues import faults
from tests.support.browser import log_in
from tests.support.hedging_world import one_fill, run_until_done, set_faults

pytestmark = [pytest.mark.browser, pytest.mark.processes, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk(hedging_market, monkeypatch):
    """Some hedged fills, two failed hedges and a small fill pending."""
    # The fills are captured and hedged here, step by step: no push to the suite's worker.
    monkeypatch.setattr(events.trades_made, "receivers", [])
    faults.reset()
    for side in ("buy", "sell", "buy", "sell"):
        run_until_done(one_fill(hedging_market, side, "0.02").pk)
    HedgeSettings.objects.create(market=hedging_market, ladder_steps=0)
    set_faults("external", {"partial": 1.0}, seed=9)
    failed = [one_fill(hedging_market, "buy", amount) for amount in ("0.05", "0.04")]
    for hedge in failed:
        assert hedger.execute_hedge(hedge.pk).state == Hedge.FAILED
    set_faults("external", None)
    PaperMarket.objects.filter(venue=hedging_market.hedge_account.venue).update(min_cost=Decimal("10"))
    small = one_fill(hedging_market, "sell", "0.0001")
    assert hedger.execute_hedge(small.pk).state == Hedge.WAITING
    for account in (hedging_market.mm_account, hedging_market.hedge_account):
        refresh_balances(account, ["BTC", "USDT"])
    return failed


def test_an_operator_writes_off_a_failed_hedge_from_the_panel(page, live_url, operator, desk, artifacts):
    log_in(page, live_url, operator)
    page.wait_for_url(f"{live_url}/markets/btc-usdt/")
    page.wait_for_selector("#tape tbody tr .hedge-filled")
    assert page.inner_text("#failed-count") == "2"
    assert "below the venue's minimum order" in page.inner_text("#pending tbody")
    page.screenshot(path=artifacts / "market-hedging.png", full_page=True)

    page.click("#hedges-link")
    page.wait_for_url(f"{live_url}/markets/btc-usdt/hedges/")
    assert page.locator("#failed-hedges .hedge-item").count() == 2
    assert page.locator("#waiting-hedges .hedge-item").count() == 1
    first = page.locator(f"#hedge-{desk[0].pk}")
    assert "ladder exhausted" in first.inner_text()
    page.evaluate("window.__samePage = true")

    first.locator("form.write-off input[name=reason]").fill("market moved 2% away; desk decision")
    first.locator("form.write-off button").click()

    page.wait_for_selector(".action-note.ok")
    assert "written off" in page.inner_text(".action-note")
    assert page.locator("#failed-hedges .hedge-item").count() == 1
    assert page.evaluate("window.__samePage") is True  # htmx swapped the panel, no reload
    assert "write off" in page.inner_text("#hedges-panel .actions")
    page.screenshot(path=artifacts / "hedges-panel.png", full_page=True)
    assert Hedge.objects.get(pk=desk[0].pk).state == Hedge.WRITTEN_OFF
