"""The market page's user trade is sent by the view itself, which then says what filled."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from bots.models import PaperTrade
from bots.simulation.paper_flow import users_account
from bots.venues.paper import PaperVenue

pytestmark = pytest.mark.django_db


def send(client, data, **headers):
    return client.post(reverse("user-trade", args=["btc-usdt"]), data, **headers)


def asks_depth(market) -> Decimal:
    book = PaperVenue(market.mm_account).fetch_order_book(market.symbol)
    return sum((amount for _, amount in book["asks"]), Decimal(0))


def test_a_trade_the_book_covers_says_it_filled_and_works_without_javascript(
    client, operator, running_market
):
    client.force_login(operator)
    response = send(client, {"side": "sell", "amount": "0.1"})
    assert response.status_code == 302
    assert response["Location"] == reverse("market", args=["btc-usdt"])
    trades = PaperTrade.objects.filter(account=users_account(running_market))
    assert sum(t.amount for t in trades) == Decimal("0.1")
    average = sum(t.cost for t in trades) / Decimal("0.1")
    page = client.get(response["Location"]).content.decode()
    assert f"A user sold 0.1 BTC at {average:,.2f} USDT on average." in page


def test_a_trade_deeper_than_the_book_says_what_filled_and_what_did_not(
    client, operator, running_market
):
    client.force_login(operator)
    depth = asks_depth(running_market)
    asked = depth + Decimal("0.05")
    response = send(client, {"side": "buy", "amount": f"{asked.normalize():f}"}, HTTP_HX_REQUEST="true")
    note = response.content.decode()
    assert response.status_code == 200, note
    filled = sum(
        t.amount for t in PaperTrade.objects.filter(account=users_account(running_market))
    )
    assert filled == depth
    assert f"A user bought {depth.normalize():f} BTC of {asked.normalize():f} at " in note
    assert "0.05 BTC did not fill (the book was not deep enough)." in note
    assert f"buys {asked}" not in note


def test_a_trade_the_venue_refuses_says_why_and_nothing_trades(client, operator, demo_market):
    client.force_login(operator)  # no tick yet: the MM bot has not quoted, the book is empty
    response = send(client, {"side": "buy", "amount": "0.1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert "Not sent: InvalidOrder: market order on an empty book" in response.content.decode()
    assert not PaperTrade.objects.exists()


def test_the_form_offers_a_typical_simulated_users_trade_of_that_market(client, operator, running_market):
    # A cheap token's users trade thousands: a fixed 0.1 would be under its minimum.
    running_market.sim_mean_amount = Decimal("2000")
    running_market.save(update_fields=["sim_mean_amount"])
    client.force_login(operator)
    page = client.get(reverse("market", args=["btc-usdt"])).content.decode()
    assert '<input name="amount" value="2000" inputmode="decimal"' in page
