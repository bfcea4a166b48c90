"""The OTC page: everyone logged in sees the day's quotes and their hedges; admins change the
pricing, limits and inventory account (audited, bad values change nothing), add broker markets,
and make and revoke API tokens (shown once, kept hashed)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from bots.models import Account, ApiClient, AuditEntry, BrokerQuote, BrokerSettings, Market, Venue
from bots.otc import clients, quotes
from tests.support.otc import SLUG

pytestmark = pytest.mark.django_db
D = Decimal


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_page_shows_the_days_quotes(broker_market, api_client, viewer):
    accepted = quotes.ask(broker_market, api_client, "user-1", "buy", D("0.1"))
    quotes.accept(api_client, str(accepted.ref), on_hedge=lambda hedge_id: None)
    quotes.ask(broker_market, api_client, "user-2", "sell", D("0.2"))
    # Asked half a minute ago: its 10 s are up, though nobody accepted it to close it.
    quotes.ask(broker_market, api_client, "user-3", "sell", D("0.2"), now=timezone.now() - timedelta(seconds=30))
    page = as_user(viewer).get("/otc/", follow=True)
    assert page.redirect_chain == [(f"/otc/{SLUG}/", 302)]
    html = page.content.decode()
    assert 'data-figure="asked">3<' in html and 'data-figure="accepted">1<' in html
    assert 'data-figure="open">1<' in html and 'data-figure="expired">1<' in html and "user-2" in html
    # Figures as the rest of the desk shows them: 65,012.34 USDT, 0.10000 BTC.
    price = f"{accepted.price.quantize(D('0.01')):,}"
    assert f'<td class="num">0.10000</td><td class="num">{price}</td>' in html
    assert f'data-figure="volume">{accepted.price * D("0.1"):,.2f}<' in html
    # A viewer sees the settings, and no form to change them nor any token.
    assert 'id="otc-settings"' in html and "otc-clients" not in html
    assert 'action="/otc/btc-usdt-otc/settings"' not in html


def test_an_admin_changes_the_pricing_and_the_inventory_account(broker_market, admin_user):
    other = Account.objects.create(venue=broker_market.mm_account.venue, name="OTC inventory 2", role=Account.MARKET_MAKING)
    form = {"spread_bps": "45", "quote_seconds": "20", "max_amount": "2", "daily_limit": "50000",
            "tolerance_bps": "5", "inventory_account": str(other.pk)}
    answer = as_user(admin_user).post(f"/otc/{SLUG}/settings", form, HTTP_HX_REQUEST="true")
    assert answer.status_code == 200 and "Saved" in answer.content.decode()
    terms = BrokerSettings.objects.get(market=broker_market)
    assert (terms.spread_bps, terms.quote_seconds, terms.tolerance_bps) == (D("45"), 20, D("5"))
    assert Market.objects.get(pk=broker_market.pk).mm_account == other
    entry = AuditEntry.objects.get(action="otc_settings_changed")
    assert entry.user == admin_user and entry.details["changes"]["spread_bps"] == {"old": "30.000000000000000000", "new": "45"}
    assert "inventory_account" in entry.details["changes"]


def test_refused_settings_change_nothing(broker_market, admin_user):
    form = {"spread_bps": "5000", "quote_seconds": "0", "max_amount": "1", "daily_limit": "1",
            "tolerance_bps": "1", "inventory_account": str(broker_market.mm_account_id)}
    answer = as_user(admin_user).post(f"/otc/{SLUG}/settings", form, HTTP_HX_REQUEST="true")
    assert answer.status_code == 422
    assert "spread_bps" in answer.content.decode() and "quote_seconds" in answer.content.decode()
    assert BrokerSettings.objects.get(market=broker_market).spread_bps == D("30")
    assert not AuditEntry.objects.filter(action="otc_settings_changed").exists()


def test_an_operator_may_not_change_settings_nor_tokens(broker_market, operator):
    client = as_user(operator)
    assert client.post(f"/otc/{SLUG}/settings", {"spread_bps": "1"}).status_code == 403
    assert client.post("/otc/clients/add", {"name": "x", "requests_per_minute": "5"}).status_code == 403
    assert not ApiClient.objects.exists()


def test_a_token_is_shown_once_and_kept_hashed(broker_market, admin_user):
    admin = as_user(admin_user)
    answer = admin.post("/otc/clients/add", {"name": "web", "requests_per_minute": "30", "market": SLUG})
    assert answer.status_code == 200 and answer["Cache-Control"] == "no-store"
    token = re.search(r'id="new-token">(otc_[^<]+)<', answer.content.decode()).group(1)
    client = ApiClient.objects.get(name="web")
    assert client.token_hash == clients.token_hash(token) and clients.authenticate(token) == client
    assert token not in admin.get(f"/otc/{SLUG}/").content.decode()  # never again
    assert AuditEntry.objects.filter(action="otc_client_created", subject="web").exists()
    # A second client of the same name is refused, and nothing is made.
    again = admin.post("/otc/clients/add", {"name": "web", "requests_per_minute": "30"}, HTTP_HX_REQUEST="true")
    assert again.status_code == 422 and ApiClient.objects.count() == 1
    revoked = admin.post(f"/otc/clients/{client.pk}/revoke", {"market": SLUG}, HTTP_HX_REQUEST="true")
    assert revoked.status_code == 200 and "revoked" in revoked.content.decode()
    assert clients.authenticate(token) is None
    assert AuditEntry.objects.filter(action="otc_client_revoked", subject="web").exists()


def test_an_admin_adds_a_broker_market(demo_market, admin_user):
    form = {"slug": "eth-otc", "symbol": "BTC/USDT", "inventory_account": str(demo_market.mm_account_id),
            "hedge_account": str(demo_market.hedge_account_id)}
    answer = as_user(admin_user).post("/otc/markets/add", form)
    assert answer.status_code == 302 and answer["Location"] == "/otc/eth-otc/"
    market = Market.objects.get(slug="eth-otc")
    assert market.kind == Market.BROKER and market.mm_account == demo_market.mm_account
    assert BrokerSettings.objects.filter(market=market).exists()
    assert AuditEntry.objects.filter(action="otc_market_added", subject="eth-otc").exists()
    bad = as_user(admin_user).post("/otc/markets/add", {**form, "symbol": "btc usdt"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 422 and Market.objects.filter(kind=Market.BROKER).count() == 1


def try_quote(client: Client, data: dict):
    return client.post(f"/otc/{SLUG}/try", data, HTTP_HX_REQUEST="true")


def test_an_operator_asks_for_a_quote_by_hand_and_accepts_it(broker_market, operator):
    client = as_user(operator)
    assert 'id="otc-try"' in client.get(f"/otc/{SLUG}/").content.decode()
    asked = try_quote(client, {"side": "buy", "amount": "0.1"})
    assert asked.status_code == 200
    quote = BrokerQuote.objects.get()
    assert (quote.client.name, quote.user_ref, quote.side, quote.amount) == (clients.DESK, "olivia", "buy", D("0.1"))
    assert f'name="ref" value="{quote.ref}"' in asked.content.decode()
    assert AuditEntry.objects.filter(action="otc_quote_asked_by_hand", user=operator, subject=str(quote.ref)).exists()

    accepted = try_quote(client, {"ref": str(quote.ref)})
    assert accepted.status_code == 200
    assert "Accepted: the desk sold 0.1 BTC at" in accepted.content.decode()
    quote.refresh_from_db()
    assert quote.state == BrokerQuote.ACCEPTED and quote.fill.hedge.amount == D("0.1")
    again = try_quote(client, {"ref": str(quote.ref)})
    assert again.status_code == 422 and "Not accepted: the quote was accepted already." in again.content.decode()

    # Revoked on the page as any client is: quotes by hand stop.
    clients.revoke(quote.client, None)
    stopped = try_quote(client, {"side": "buy", "amount": "0.1"})
    assert stopped.status_code == 422 and "quotes by hand are stopped" in stopped.content.decode()
    assert BrokerQuote.objects.count() == 1


def test_a_quote_by_hand_refuses_bad_input_and_changes_nothing(broker_market, operator):
    client = as_user(operator)
    for data, says in [
        ({"side": "buy", "amount": "abc"}, "amount: Enter a number."),
        ({"side": "hold", "amount": "0.1"}, "side: Select a valid choice."),
        ({"side": "buy", "amount": "5"}, "No quote: amount is over this market"),  # 1 BTC a quote
        ({"ref": "not-a-quote"}, "Not accepted: no quote not-a-quote of this client."),
    ]:
        answer = try_quote(client, data)
        assert answer.status_code == 422 and says in answer.content.decode(), data
    assert not BrokerQuote.objects.exists()


def test_quotes_by_hand_are_for_operators_of_a_paper_desk(broker_market, operator, viewer):
    assert as_user(viewer).post(f"/otc/{SLUG}/try", {"side": "buy", "amount": "0.1"}).status_code == 403
    assert 'id="otc-try"' not in as_user(viewer).get(f"/otc/{SLUG}/").content.decode()
    # The inventory on a real exchange: an accepted quote would hedge with the exchange's money.
    Venue.objects.filter(pk=broker_market.mm_account.venue_id).update(kind=Venue.CCXT)
    client = as_user(operator)
    assert 'id="otc-try"' not in client.get(f"/otc/{SLUG}/").content.decode()
    refused = try_quote(client, {"side": "buy", "amount": "0.1"})
    assert refused.status_code == 422 and "Quotes by hand are for a paper desk" in refused.content.decode()
    assert not BrokerQuote.objects.exists()
