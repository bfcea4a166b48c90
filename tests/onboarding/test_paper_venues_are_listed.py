"""The onboarding lists show the demo's paper venues and accounts too, marked as paper, with
nothing to edit on them: no key forms, no connection test; the real venues keep theirs."""

from __future__ import annotations

import re

import pytest

from bots.models import Account, Venue

pytestmark = pytest.mark.django_db


@pytest.fixture
def real_account(db):
    venue = Venue.objects.create(name="bin", label="Binance", kind=Venue.CCXT,
                                 exchange_id="binance")
    return Account.objects.create(venue=venue, name="Hedging", role=Account.HEDGING)


def row(page: str, attribute: str, value) -> str:
    found = re.search(rf'<tr {attribute}="{value}".*?</tr>', page, re.S)
    assert found, f"no row {attribute}={value}"
    return found.group(0)


def test_the_venues_list_marks_the_paper_venues(admin_client, demo_market, real_account):
    page = admin_client.get("/onboarding/venues/").content.decode()
    paper = row(page, "data-venue", "own")
    assert 'class="chip paper">paper<' in paper and "nothing to set" in paper
    assert 'data-kind="paper"' in paper
    real = row(page, "data-venue", "bin")
    assert "binance" in real and "paper" not in real


def test_the_accounts_list_marks_the_paper_accounts_and_offers_them_no_keys(
    admin_client, demo_market, real_account
):
    page = admin_client.get("/onboarding/accounts/").content.decode()
    mm = demo_market.mm_account
    paper = row(page, "data-account", mm.pk)
    assert "paper" in paper and "no keys, nothing to test" in paper
    # Key forms and the connection test are for the real account alone.
    assert f"/onboarding/accounts/{mm.pk}/" not in page
    assert f'id="account-{real_account.pk}"' in page
    assert f"/onboarding/accounts/{real_account.pk}/keys/trading" in page
    assert f"/onboarding/accounts/{real_account.pk}/test" in page


def test_a_paper_accounts_keys_cannot_be_set_by_hand(admin_client, demo_market):
    mm = demo_market.mm_account
    response = admin_client.post(f"/onboarding/accounts/{mm.pk}/keys/trading",
                                 {"api_key": "k", "secret": "s"})
    assert response.status_code == 404
    mm.refresh_from_db()
    assert not mm.has_keys
