"""A market added on the desk: a symbol both venues list, their facts and the hedge floor shown
and checked before saving, and enabling only on accounts whose keys passed their test."""

from __future__ import annotations

import pytest

from bots.desk.onboarding import check_connection
from bots.models import Account, Market, QuoteSettings, Venue
from tests.onboarding.conftest import stub_options

pytestmark = pytest.mark.django_db


def account_on(stub, exchange_id, role) -> Account:
    venue = Venue.objects.create(name=exchange_id, label=exchange_id.title(), kind=Venue.CCXT,
                                 exchange_id=exchange_id, options=stub_options(stub))
    account = Account(venue=venue, name=role, role=role)
    account.set_credentials(stub.API_KEY, stub.SECRET)
    account.save()
    return account


@pytest.fixture
def accounts(admin_user, binance_stub, hollaex_stub):
    mm = account_on(hollaex_stub, "hollaex", Account.MARKET_MAKING)
    hedge = account_on(binance_stub, "binance", Account.HEDGING)
    return mm, hedge


def test_untested_accounts_are_not_offered(admin_client, admin_user, accounts):
    mm, hedge = accounts
    page = admin_client.get("/onboarding/markets/").content.decode()
    assert f'<option value="{mm.pk}">' not in page and f'<option value="{hedge.pk}">' not in page
    check_connection(mm, user=admin_user)
    page = admin_client.get("/onboarding/markets/").content.decode()
    assert f'<option value="{mm.pk}">mm @ Hollaex</option>' in page


def test_the_facts_and_hedge_floor_are_shown(admin_client, admin_user, accounts):
    mm, hedge = accounts
    for account in accounts:
        check_connection(account, user=admin_user)
    page = admin_client.get(
        f"/onboarding/markets/?mm_account={mm.pk}&hedge_account={hedge.pk}&symbol=BTC/USDT"
    ).content.decode()
    assert '<option value="BTC/USDT" selected>' in page
    # Fees of 0.001 on both stubs and the default 2 bps buffer.
    assert "Hedge floor: <strong>22 bps</strong>" in page
    assert 'name="bid_spread_bps" value="22"' in page


def test_spreads_under_the_hedge_floor_are_refused_before_saving(admin_client, admin_user,
                                                                  accounts):
    mm, hedge = accounts
    for account in accounts:
        check_connection(account, user=admin_user)
    data = {"mm_account": mm.pk, "hedge_account": hedge.pk, "symbol": "BTC/USDT",
            "slug": "btc-usdt", "bid_spread_bps": "15", "ask_spread_bps": "30"}
    response = admin_client.post("/onboarding/markets/add", data)
    assert response.status_code == 422
    assert "below the hedge floor of 22 bps" in response.content.decode()
    assert not Market.objects.exists()
    data["bid_spread_bps"] = "25"
    response = admin_client.post("/onboarding/markets/add", data)
    assert response.status_code == 302 and response["Location"] == "/markets/btc-usdt/settings/"
    market = Market.objects.get()
    assert not market.enabled
    assert QuoteSettings.objects.get(market=market).bid_spread_bps == 25


def test_a_market_is_enabled_only_on_accounts_that_passed(admin_client, admin_user, accounts):
    mm, hedge = accounts
    market = Market.objects.create(slug="btc-usdt", symbol="BTC/USDT", mm_account=mm,
                                   hedge_account=hedge, enabled=False)
    QuoteSettings.objects.create(market=market)
    check_connection(mm, user=admin_user)  # the hedge account is not tested
    response = admin_client.post("/onboarding/markets/btc-usdt/enable", follow=True)
    assert "have not passed a connection test" in response.content.decode()
    assert not Market.objects.get().enabled
    check_connection(hedge, user=admin_user)
    response = admin_client.post("/onboarding/markets/btc-usdt/enable", follow=True)
    assert "BTC/USDT enabled" in response.content.decode()
    market.refresh_from_db()
    assert market.enabled and market.state == Market.RUNNING and market.started_at
