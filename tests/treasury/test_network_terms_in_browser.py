"""In a real browser: an admin reads the exchanges' withdrawal terms from the settings page, sees
a new fee and a network closed on the exchange (loudly), and accepts the fee; the planner's
network takes it. The hedge venue is binance through ccxt against the local stub, which the
desk's Daphne reads."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from bots.models import NetworkTermsChange, WithdrawalNetwork
from bots.simulation.stub_exchanges.binance import BinanceStub
from tests.support.browser import log_in
from tests.support.treasury import hedge_venue_on_stub

pytestmark = [pytest.mark.browser, pytest.mark.processes, pytest.mark.django_db(transaction=True)]


def test_an_admin_sees_what_the_exchange_changed_and_accepts_it(
    page, live_url, rebalance_market, admin_user, artifacts
):
    with BinanceStub() as stub:
        venue = hedge_venue_on_stub(rebalance_market, stub)
        stub.networks["BTC"]["BTC"]["withdrawFee"] = "0.0005"
        stub.networks["USDT"]["TRX"]["withdrawEnable"] = False
        log_in(page, live_url, admin_user)
        page.wait_for_url(f"{live_url}/**")
        page.goto(f"{live_url}/rebalance/settings/")

        page.click("#network-changes button.read-now")
        page.wait_for_selector("#terms-note.ok")

    assert f"{venue.name}: 2 changes to review" in page.inner_text("#terms-note")
    assert "Withdrawals closed on the exchange: 1 network" in page.inner_text(".terms-closing")
    fee = NetworkTermsChange.objects.get(asset="BTC")
    closing = NetworkTermsChange.objects.get(asset="USDT")
    row = f"#network-change-{fee.pk}"
    assert page.inner_text(f"{row} .fee-after") == "0.0005"
    assert page.locator(f"#network-change-{closing.pk}.closes .st-red").inner_text() == (
        "closed on the exchange"
    )
    page.screenshot(path=artifacts / "network-terms-changes.png", full_page=True)

    page.click(f"{row} button.accept")
    page.wait_for_selector("#terms-note.ok >> text=Accepted")

    assert page.locator(row).count() == 0
    assert page.locator(f"#network-change-{closing.pk}").count() == 1  # still waiting
    assert WithdrawalNetwork.objects.get(venue=venue, asset="BTC").fee == D("0.0005")
    assert WithdrawalNetwork.objects.get(venue=venue, asset="USDT").enabled  # not accepted
    page.reload()
    assert "0.0005" in page.inner_text("#networks")
