"""The exchanges' withdrawal terms on the rebalance settings page: admins see what differs and
accept or dismiss it (htmx swaps the section; without JavaScript a redirect with a message);
others see it and act on nothing."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.test import Client
from django.urls import reverse

from bots.models import NetworkTermsChange, WithdrawalNetwork

pytestmark = pytest.mark.django_db
C = NetworkTermsChange


@pytest.fixture
def change(rebalance_market):
    """The hedge venue's exchange now charges 0.0005 BTC (its network row says 0.0002)."""
    venue = rebalance_market.hedge_account.venue
    row = WithdrawalNetwork.objects.get(venue=venue, asset="BTC")
    return C.objects.create(
        venue=venue, asset="BTC", network="BTC", fee_before=row.fee, minimum_before=row.minimum,
        enabled_before=True, fee_after=D("0.0005"), minimum_after=row.minimum, enabled_after=True,
    )


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_admin_accepts_a_change_with_htmx(change, admin_user):
    client = client_for(admin_user)
    page = client.get(reverse("rebalance-settings")).content.decode()
    assert f'id="network-change-{change.pk}"' in page and "0.0005" in page

    response = client.post(
        reverse("network-terms-accept", args=[change.pk]), HTTP_HX_REQUEST="true"
    )

    body = response.content.decode()
    assert response.status_code == 200 and 'id="terms-note"' in body
    assert "the planner now uses BTC over BTC" in body
    assert f'id="network-change-{change.pk}"' not in body
    assert WithdrawalNetwork.objects.get(venue=change.venue, asset="BTC").fee == D("0.0005")


def test_a_second_decision_is_refused_with_the_reason(change, admin_user):
    client = client_for(admin_user)
    client.post(reverse("network-terms-dismiss", args=[change.pk]), {"note": "promotion"})

    response = client.post(
        reverse("network-terms-accept", args=[change.pk]), HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 409
    assert f"Network change #{change.pk} is already dismissed." in response.content.decode()
    assert WithdrawalNetwork.objects.get(venue=change.venue, asset="BTC").fee == D("0.0002")


def test_without_javascript_a_decision_redirects_with_a_message(change, admin_user):
    response = client_for(admin_user).post(
        reverse("network-terms-dismiss", args=[change.pk]), {"note": "promotion"}, follow=True
    )

    assert response.redirect_chain[-1][0].endswith(reverse("rebalance-settings") + "#network-changes")
    assert "Dismissed: the planner keeps its figures" in response.content.decode()
    assert C.objects.get().state == C.DISMISSED


def test_a_closing_network_is_shown_first_and_loudly(change, rebalance_market, admin_user):
    usdt = WithdrawalNetwork.objects.get(venue=change.venue, asset="USDT")
    closing = C.objects.create(
        venue=change.venue, asset="USDT", network=usdt.network, fee_before=usdt.fee,
        minimum_before=usdt.minimum, enabled_before=True, fee_after=usdt.fee,
        minimum_after=usdt.minimum, enabled_after=False,
    )

    page = client_for(admin_user).get(reverse("rebalance-settings")).content.decode()

    assert "Withdrawals closed on the exchange: 1 network the planner still sends over." in page
    assert page.index(f"network-change-{closing.pk}") < page.index(f"network-change-{change.pk}")
    assert "closed on the exchange</span>" in page


def test_operators_see_the_changes_but_no_buttons(change, operator):
    page = client_for(operator).get(reverse("rebalance-settings")).content.decode()

    assert f'id="network-change-{change.pk}"' in page
    assert reverse("network-terms-accept", args=[change.pk]) not in page
    assert reverse("network-terms-read") not in page


def test_reading_now_reports_each_venue(rebalance_market, admin_user):
    response = client_for(admin_user).post(reverse("network-terms-read"), HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert response.status_code == 200
    assert "Read: " in body and "as the planner has it" in body
    assert not C.objects.exists()
