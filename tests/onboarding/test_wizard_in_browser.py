"""From nothing to a quoting market on the local stubs, in Chromium against Daphne, the desk's
pages alone: two venues (a mistyped one refused), their accounts and keys, each connection
tested, the market chosen from the venues' common symbols (spreads under the hedge floor
refused), its settings saved, enabled; then its first tick quotes on the HollaEx stub and a
user's fill there is hedged on the binance stub, through the real ccxt."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from bots.hedging.capture import capture_fills
from bots.market_making import quoter
from bots.models import Hedge, HedgeOrder, Market
from bots.venues import venue_for
from tests.onboarding.conftest import stub_options
from tests.support.browser import log_in, off_the_browser_thread
from tests.support.hedging_world import run_until_done

pytestmark = [pytest.mark.browser, pytest.mark.processes, pytest.mark.django_db(transaction=True)]


def add_venue(page, url, name, exchange_id, options):
    page.goto(f"{url}/onboarding/venues/")
    page.fill("#id_name", name)
    page.fill("#id_label", name.title())
    page.fill("#id_exchange_id", exchange_id)
    page.fill("#id_options_json", json.dumps(options))
    page.click("#venue-form button[type=submit]")


def add_account(page, url, venue_label, name, role, key, secret):
    page.goto(f"{url}/onboarding/accounts/")
    form = "#account-form"
    page.select_option(f"{form} [name=venue]", label=venue_label)
    page.fill(f"{form} [name=name]", name)
    page.select_option(f"{form} [name=role]", label=role)
    page.fill(f"{form} [name=api_key]", key)
    page.fill(f"{form} [name=secret]", secret)
    page.click(f"{form} button[type=submit]")
    page.wait_for_url(f"{url}/onboarding/accounts/")


def test_an_admin_connects_the_stubs_and_the_first_fill_is_hedged(
    page, live_url, admin_user, binance_stub, hollaex_stub, artifacts
):
    log_in(page, live_url, admin_user)
    page.wait_for_url(f"{live_url}/**")

    add_venue(page, live_url, "binance", "binanse", stub_options(binance_stub))
    assert "is not an exchange ccxt" in page.inner_text("#venue-form")
    add_venue(page, live_url, "binance", "binance", stub_options(binance_stub))
    page.wait_for_url(f"{live_url}/onboarding/accounts/")
    add_venue(page, live_url, "hollaex", "hollaex", stub_options(hollaex_stub))

    add_account(page, live_url, "Hollaex", "Market making", "market-making bot",
                hollaex_stub.API_KEY, hollaex_stub.SECRET)
    add_account(page, live_url, "Binance", "Hedging", "hedging bot",
                binance_stub.API_KEY, binance_stub.SECRET)
    assert hollaex_stub.SECRET not in page.content()
    for card in page.query_selector_all("article.account"):
        card.query_selector("button.test").click()
    page.locator("[data-passed=yes]").nth(1).wait_for()  # both reports swapped in by htmx
    assert "trading key: trade yes, withdraw no: good" in page.inner_text("main")
    page.screenshot(path=artifacts / "onboarding-accounts.png", full_page=True)

    page.goto(f"{live_url}/onboarding/markets/")
    page.select_option("#accounts-choice [name=mm_account]", label="Market making @ Hollaex")
    page.select_option("#accounts-choice [name=hedge_account]", label="Hedging @ Binance")
    page.click("#accounts-choice button[type=submit]")
    page.select_option("#market-form [name=symbol]", "BTC/USDT")
    page.wait_for_selector("#hedge-floor")
    assert "Hedge floor: 22 bps" in page.inner_text("#hedge-floor")
    page.fill("#market-form [name=slug]", "btc-usdt")
    page.fill("#market-form [name=bid_spread_bps]", "15")
    page.fill("#market-form [name=ask_spread_bps]", "25")
    page.click("#market-form button[type=submit]")
    assert "below the hedge floor of 22 bps" in page.inner_text("#market-form")
    page.fill("#market-form [name=bid_spread_bps]", "25")
    page.click("#market-form button[type=submit]")
    page.wait_for_url(f"{live_url}/markets/btc-usdt/settings/")
    page.screenshot(path=artifacts / "onboarding-market-settings.png", full_page=True)

    page.fill("#id_levels", "2")
    page.fill("#id_reason", "two levels to start")
    page.click("#settings button[type=submit]")
    page.wait_for_selector("text=Saved as version 2")

    page.goto(f"{live_url}/onboarding/markets/")
    page.click("tr[data-market=btc-usdt] button.enable")
    page.wait_for_selector("text=BTC/USDT enabled")

    def first_fill_hedged():
        market = Market.objects.get(slug="btc-usdt")
        assert market.enabled and market.quote_settings.levels == 2
        assert quoter.run_tick(market.pk, on_hedge=lambda hedge_id: None) == Market.RUNNING
        asks = [o for o in hollaex_stub.book.open_orders("bot") if o.side == "sell"]
        assert len(asks) == 2  # the two levels, quoted on the HollaEx stub
        hollaex_stub.take("buy", "0.001")
        market = Market.objects.get_for_work(market.pk)
        [fill] = capture_fills(market, venue_for(market.mm_account), lambda hedge_id: None)
        return run_until_done(fill.hedge.pk), fill.hedge.pk

    states, hedge_id = off_the_browser_thread(first_fill_hedged)
    assert states == [Hedge.FILLED]
    order = HedgeOrder.objects.get(hedge_id=hedge_id, state=HedgeOrder.DONE)
    assert (order.side, order.filled) == ("buy", Decimal("0.001"))
    assert order.account.venue.exchange_id == "binance"
    assert any(p == "/api/v3/order" for m, p, _ in binance_stub.requests if m == "POST")
