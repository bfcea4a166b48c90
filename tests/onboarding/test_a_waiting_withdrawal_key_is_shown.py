"""A withdrawal key proposed on the accounts page waits for a second admin: the account's card
says so with a link to the change, offers no second proposal, and a second one sent anyway is
refused with a message and creates nothing."""

from __future__ import annotations

import pytest

from bots.desk import four_eyes
from bots.models import Account, ChangeRequest, Venue
from tests.support.users import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(db):
    venue = Venue.objects.create(name="bin", label="Binance", kind=Venue.CCXT,
                                 exchange_id="binance")
    account = Account.objects.create(venue=venue, name="Hedging", role=Account.HEDGING)
    account.set_credentials("trade-key", "trade-secret")
    account.save()
    return account


def propose(client, account, key="w-key-1111"):
    return client.post(f"/onboarding/accounts/{account.pk}/keys/withdrawal",
                       {"api_key": key, "secret": "w-secret"}, follow=True)


def card(page: str, account) -> str:
    start = page.index(f'id="account-{account.pk}"')
    return page[start:page.index("</article>", start)]


def test_the_card_shows_the_waiting_key_and_offers_no_second(admin_client, account):
    before = card(admin_client.get("/onboarding/accounts/").content.decode(), account)
    assert "Propose withdrawal key" in before and "waits for a second admin" not in before

    page = propose(admin_client, account).content.decode()
    change = ChangeRequest.objects.get()
    shown = card(page, account)
    assert "a new one waits for a second admin" in shown
    assert f"/changes/#change-{change.pk}" in shown
    assert "Propose withdrawal key" not in shown
    assert "w-key" not in page and "w-secret" not in page


def test_a_second_proposal_is_refused_and_creates_nothing(admin_client, account):
    propose(admin_client, account)
    page = propose(admin_client, account, key="w-key-2222").content.decode()
    assert "is already waiting" in page
    assert ChangeRequest.objects.count() == 1


def test_once_confirmed_the_key_is_set_and_nothing_waits(admin_client, account):
    propose(admin_client, account)
    four_eyes.confirm(make_user("bea", "admin"), ChangeRequest.objects.get().pk)
    shown = card(admin_client.get("/onboarding/accounts/").content.decode(), account)
    assert "Withdrawal key: set" in shown and "waits for a second admin" not in shown
    # A replacement may be proposed again now.
    assert "Propose withdrawal key" in shown
    propose(admin_client, account, key="w-key-3333")
    assert ChangeRequest.objects.filter(state=ChangeRequest.PENDING).count() == 1
