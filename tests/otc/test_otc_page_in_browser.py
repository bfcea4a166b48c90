"""In a real browser: an admin makes an API token on the OTC page (shown once), the front end
asks for and accepts a quote with it over HTTP, the page counts the quote and its hedge, the
admin widens the spread and revokes the token, and the API then refuses it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from bots.hedging import hedger
from bots.models import ApiClient, AuditEntry, BrokerSettings, Hedge, HedgeOrder
from bots.otc import clients
from tests.support.browser import log_in
from tests.support.otc import SLUG, make_broker_market
from tests.support.processes import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.processes, pytest.mark.django_db(transaction=True)]


def api(live_url: str, method: str, path: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{live_url}/api/otc/v1{path}", method=method,
        data=json.dumps(body).encode() if body is not None else b"",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (the test's own server)
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


def test_an_admin_runs_the_broker_market_from_its_page(page, live_url, demo_market, admin_user, artifacts):
    market = make_broker_market(demo_market)
    log_in(page, live_url, admin_user)
    page.goto(f"{live_url}/otc/")
    page.wait_for_url(f"{live_url}/otc/{SLUG}/")
    assert page.inner_text("[data-figure=asked]") == "0"

    # A token for the front end, shown once.
    page.fill("#otc-clients input[name=name]", "web front end")
    page.fill("#otc-clients input[name=requests_per_minute]", "30")
    page.click("#otc-clients button:has-text('Make a token')")
    token = page.inner_text("#new-token")
    assert token.startswith("otc_")
    assert clients.authenticate(token) == ApiClient.objects.get(name="web front end")

    # The front end asks and accepts; the hedge runs as its task would.
    status, quote = api(live_url, "POST", "/quotes", token, {"market": SLUG, "side": "buy", "amount": "0.1", "user": "u-1"})
    assert status == 201, quote
    status, accepted = api(live_url, "POST", f"/quotes/{quote['id']}/accept", token)
    assert (status, accepted["state"]) == (200, "accepted")
    hedge = Hedge.objects.get(fill__market=market)
    # As its task would: here, or by a worker an earlier test of the run left going, which may
    # have claimed it first (then this call finds it taken); either way it ends filled, once.
    hedger.execute_hedge(hedge.pk)
    wait_for(lambda: Hedge.objects.get(pk=hedge.pk).state == Hedge.FILLED, "the hedge filled", 30)
    assert HedgeOrder.objects.filter(hedge=hedge).count() == 1
    # The quotes section refreshes itself every 5 s.
    expect(page.locator("[data-figure=hedged]")).to_have_text("1", timeout=20_000)
    assert page.inner_text("[data-figure=accepted]") == "1"
    assert Decimal(page.inner_text("[data-figure=pnl]").replace(",", "")) > 0
    assert page.locator("#otc-recent .otc-quote[data-state=accepted]").count() == 1
    page.screenshot(path=artifacts / "otc-page.png", full_page=True)

    # Wider spread, in place.
    page.fill("#otc-settings input[name=spread_bps]", "50")
    page.click("#otc-settings button:has-text('Save')")
    page.wait_for_selector("#otc-settings .action-note.ok")
    assert BrokerSettings.objects.get(market=market).spread_bps == Decimal("50")
    assert AuditEntry.objects.filter(action="otc_settings_changed", user=admin_user).exists()

    # Revoked: the API refuses the token at once.
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#otc-clients button:has-text('Revoke')")
    expect(page.locator("#otc-clients .action-note.ok")).to_contain_text("token is revoked")
    assert page.locator("#new-token").count() == 0  # the token is gone from the page too
    status, refused = api(live_url, "GET", "/markets", token)
    assert (status, refused["error"]["code"]) == (401, "bad_token")


def test_a_viewer_sees_the_quotes_but_no_token_or_settings_form(page, live_url, demo_market, viewer):
    make_broker_market(demo_market)
    log_in(page, live_url, viewer)
    page.goto(f"{live_url}/otc/{SLUG}/")
    page.wait_for_selector("#otc-today")
    assert page.locator("#otc-clients").count() == 0
    assert page.locator("#otc-settings form").count() == 0
    assert "Spread" in page.inner_text("#otc-settings")


def test_an_operator_tries_a_quote_on_a_paper_desk_and_accepts_it(page, live_url, demo_market, operator, artifacts):
    market = make_broker_market(demo_market)
    log_in(page, live_url, operator)
    page.goto(f"{live_url}/otc/{SLUG}/")
    # A tenth of the largest quote (1 BTC), the user buying.
    assert page.input_value("#otc-try input[name=amount]") == "0.1"
    page.click("#otc-try button:has-text('Ask for a quote')")
    page.wait_for_selector("#otc-offered")
    assert "The user buys 0.1 BTC at" in page.inner_text("#otc-offered")
    page.click("#otc-offered button:has-text('Accept')")
    expect(page.locator("#otc-try .action-note.ok")).to_contain_text("Accepted: the desk sold 0.1 BTC at")
    assert page.locator("#otc-offered").count() == 0
    hedge = Hedge.objects.get(fill__market=market)
    # As in the test above: here, or by a worker an earlier test left going; filled once.
    hedger.execute_hedge(hedge.pk)
    wait_for(lambda: Hedge.objects.get(pk=hedge.pk).state == Hedge.FILLED, "the hedge filled", 30)
    expect(page.locator("[data-figure=hedged]")).to_have_text("1", timeout=20_000)
    assert page.locator("#otc-recent .otc-quote[data-state=accepted]").count() == 1
    assert "olivia" in page.inner_text("#otc-recent")
    page.screenshot(path=artifacts / "otc-try.png", full_page=True)
