"""GLFT chosen on the quote settings page quotes at the next tick on the demo's paper venues: at
the model's depths where they clear the hedge floor, never inside it, and with the bid off once
a fill would take the inventory past the limit Q. Bad GLFT values are refused by name."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from bots.engine.market_making.glft import GlftParams, glft_quote
from bots.models import QuoteSettings, QuoteSettingsVersion
from tests.market_making.test_market_settings_page import save
from tests.support.quoting import market_row, outside_mid, resting, tick

pytestmark = pytest.mark.django_db
BPS = Decimal("10000")
# Wide enough to clear the demo's floor (13 bps from the outside mid): c1 = ln(1.4)/0.02 = 16.8 bps.
GLFT = {"mode": "glft", "glft_a": "1", "glft_k": "0.05", "glft_gamma": "0.02", "glft_xi": "0",
        "glft_delta": "1", "glft_q_limit": "10",
        # Replace every resting order that is off target at once, so the book is the model's.
        "refresh_tolerance_bps": "0", "order_refresh_seconds": "0"}


def test_an_admin_chooses_glft_and_the_next_tick_quotes_its_depths(client, admin_user, running_market):
    client.force_login(admin_user)

    response = save(client, running_market, reason="try GLFT", **GLFT)

    assert response.status_code == 200
    assert QuoteSettingsVersion.objects.get().changes["mode"] == {"old": "spread", "new": "glft"}
    assert QuoteSettings.objects.get(market=running_market).config().mode == "glft"

    assert tick(running_market) == "running"

    summary = market_row(running_market).quote_summary
    assert summary["mode"] == "glft" and summary["settings_version"] == 1
    assert summary["reservation_bps"] == "0"  # flat: shown on the market page as for A-S
    levels = summary["levels"]
    assert len(levels) == len(resting(running_market)) == 10
    assert all(Decimal(lv["edge_bps"]) >= 2 for lv in levels)
    # The demo holds 2 BTC, half the account: q = 0, a symmetric quote. The first level on each
    # side sits at the model's depth from the reference (the first tick, so sigma is 0),
    # rounded away from the market to the venue's 0.01 tick.
    reference = Decimal(summary["reference"])
    assert reference == outside_mid(running_market)
    model = glft_quote(Decimal(0), Decimal(summary["sigma_bps"]),
                       GlftParams(Decimal(1), Decimal("0.05"), Decimal("0.02"), Decimal(1)))
    ask = min(Decimal(lv["price"]) for lv in levels if lv["side"] == "sell")
    bid = max(Decimal(lv["price"]) for lv in levels if lv["side"] == "buy")
    exact_ask = reference * (1 + model.ask_depth / BPS)
    exact_bid = reference * (1 - model.bid_depth / BPS)
    assert exact_ask <= ask < exact_ask + Decimal("0.01")
    assert exact_bid - Decimal("0.01") < bid <= exact_bid


def test_past_the_inventory_limit_the_bid_stops_and_the_ask_still_quotes(client, admin_user, running_market):
    client.force_login(admin_user)
    # The target is 40% of the account in BTC: about 1.6 of the 2 held, 0.4 long, that is about
    # 8 level sizes of 0.05, beyond Q = 5 less the one-level fill.
    save(client, running_market, target_base_pct="40", **{**GLFT, "glft_q_limit": "5"})

    assert tick(running_market) == "running"

    sides = {o["side"] for o in resting(running_market)}
    assert sides == {"sell"}
    assert Decimal(market_row(running_market).quote_summary["reservation_bps"]) <= 0  # long
    reason = market_row(running_market).state_reason
    assert "buy side off: a fill would take the inventory beyond the GLFT limit Q (5 level sizes)" in reason
    asks = [lv for lv in market_row(running_market).quote_summary["levels"] if lv["side"] == "sell"]
    assert len(asks) == 5 and all(Decimal(lv["edge_bps"]) >= 2 for lv in asks)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"glft_k": "0"}, "Arrival decay k must be at least 0.0001"),
        ({"glft_a": "200000"}, "Arrival rate A must be at most 100000"),
        ({"glft_gamma": "x"}, "Risk aversion γ (GLFT) must be a number"),
        ({"glft_xi": "-1"}, "Penalty ξ must be at least 0"),
        ({"glft_delta": "2", "glft_q_limit": "1"}, "The inventory limit Q (1) is below the fill size Δ (2)"),
    ],
)
def test_bad_glft_values_are_refused_by_name_and_change_nothing(
    client, admin_user, demo_market, changes, message
):
    client.force_login(admin_user)

    response = save(client, demo_market, **{**GLFT, **changes})

    assert response.status_code == 422
    assert message in response.content.decode()
    assert QuoteSettings.objects.get(market=demo_market).mode == "spread"
    assert not QuoteSettingsVersion.objects.exists()


def test_the_settings_page_offers_glft(client, admin_user, demo_market):
    client.force_login(admin_user)

    html = client.get(reverse("market-settings", args=[demo_market.slug])).content.decode()

    assert '<option value="glft">glft</option>' in html
    assert "Inventory limit Q" in html and "The side a fill of Δ would take" in html
