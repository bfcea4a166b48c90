"""The market page and the user-trade action: who may see and do what, and bad input.

What a user trade answers is tests/market_making/test_user_trade_says_what_filled.py."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from bots.models import Market, PaperTrade

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_are_sent_to_log_in(client, demo_market):
    response = client.get(reverse("market", args=["btc-usdt"]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_home_leads_to_the_only_market_or_to_the_overview_of_several(client, operator, demo_market):
    client.force_login(operator)
    assert client.get("/")["Location"] == reverse("market", args=["btc-usdt"])

    Market.objects.create(
        slug="eth-usdt", symbol="ETH/USDT", mm_account=demo_market.mm_account,
        hedge_account=demo_market.hedge_account,
    )
    assert client.get("/")["Location"] == reverse("overview")


def test_an_unknown_market_is_404(client, operator, demo_market):
    client.force_login(operator)
    assert client.get("/markets/doge-usdt/").status_code == 404


def test_the_page_carries_the_markets_snapshot(client, operator, running_market):
    client.force_login(operator)
    page = client.get(reverse("market", args=["btc-usdt"]))
    assert page.status_code == 200
    snapshot = json.loads(page.context["snapshot"] and json.dumps(page.context["snapshot"], default=str))
    assert snapshot["symbol"] == "BTC/USDT"
    assert {q["side"] for q in snapshot["quotes"]} == {"buy", "sell"}
    assert b'id="depth-chart"' in page.content


def test_a_viewer_sees_the_page_without_the_trade_form(client, viewer, demo_market):
    client.force_login(viewer)
    page = client.get(reverse("market", args=["btc-usdt"]))
    assert page.status_code == 200
    assert b"Simulate a user trade" not in page.content


def test_a_viewer_cannot_send_a_user_trade(client, viewer, running_market):
    client.force_login(viewer)
    response = client.post(reverse("user-trade", args=["btc-usdt"]), {"side": "buy", "amount": "0.1"})
    assert response.status_code == 403
    assert not PaperTrade.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"side": "buy", "amount": "-1"}, "amount: Ensure this value is greater than or equal to 0.00001."),
        ({"side": "buy", "amount": "lots"}, "amount: Enter a number."),
        ({"side": "hold", "amount": "1"}, "side: Select a valid choice."),
        ({"side": "sell", "amount": "1000"}, "amount: Ensure this value is less than or equal to 100."),
    ],
)
def test_bad_trade_input_gets_a_message_and_sends_nothing(client, operator, running_market, data, message):
    client.force_login(operator)
    response = client.post(reverse("user-trade", args=["btc-usdt"]), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not PaperTrade.objects.exists()


def test_the_market_of_an_unknown_slug_cannot_be_traded(client, operator, demo_market):
    client.force_login(operator)
    response = client.post("/markets/nope/user-trade", {"side": "buy", "amount": "0.1"})
    assert response.status_code == 404
    assert Market.objects.count() == 1
