"""Keys typed once on the accounts page: encrypted at rest, never shown again (not even in a
form sent back with errors), and every set, replacement and removal audited without the key."""

from __future__ import annotations

import pytest

from bots.desk import four_eyes
from bots.models import Account, AuditEntry, ChangeRequest, Venue
from tests.support.users import make_user

pytestmark = pytest.mark.django_db
KEY, SECRET = "AKIA-typed-once-1234", "s3cret-typed-once-5678"


@pytest.fixture
def venue(db):
    return Venue.objects.create(name="bin", label="Binance", kind=Venue.CCXT, exchange_id="binance")


def add_account(client, venue, **extra):
    data = {"venue": venue.pk, "name": "Hedging bot", "role": Account.HEDGING,
            "api_key": KEY, "secret": SECRET, **extra}
    return client.post("/onboarding/accounts/add", data)


def test_keys_are_stored_encrypted_and_never_shown(admin_client, venue):
    assert add_account(admin_client, venue).status_code == 302
    account = Account.objects.get()
    assert account.credentials() == {"apiKey": KEY, "secret": SECRET}
    assert KEY not in account.api_key_enc and SECRET not in account.secret_enc
    page = admin_client.get("/onboarding/accounts/").content.decode()
    assert "Trading key: set" in page
    assert KEY not in page and SECRET not in page


def test_a_refused_form_does_not_carry_the_keys_back(admin_client, venue):
    add_account(admin_client, venue)
    response = add_account(admin_client, venue)  # the same name again: refused
    assert response.status_code == 422
    page = response.content.decode()
    assert "already has an account named" in page
    assert KEY not in page and SECRET not in page


def test_replacing_and_removing_keys_are_audited_without_the_key(admin_client, admin_user, venue):
    add_account(admin_client, venue)
    account = Account.objects.get()
    Account.objects.filter(pk=account.pk).update(check_passed=True)
    admin_client.post(f"/onboarding/accounts/{account.pk}/keys/trading",
                      {"api_key": "new-key", "secret": "new-secret"})
    account.refresh_from_db()
    assert account.credentials()["apiKey"] == "new-key"
    assert not account.check_passed  # new keys need a new test
    # A withdrawal key moves money: proposed by one admin, set when another confirms.
    Account.objects.filter(pk=account.pk).update(check_passed=True)
    admin_client.post(f"/onboarding/accounts/{account.pk}/keys/withdrawal",
                      {"api_key": "w-key-9876", "secret": "w-secret"})
    account.refresh_from_db()
    assert not account.has_withdrawal_key
    change = ChangeRequest.objects.get(kind=ChangeRequest.KEY)
    with pytest.raises(four_eyes.ChangeRefused):
        four_eyes.confirm(admin_user, change.pk)
    four_eyes.confirm(make_user("bea", "admin"), change.pk)
    account.refresh_from_db()
    assert account.withdrawal_credentials() == {"apiKey": "w-key-9876", "secret": "w-secret"}
    assert not account.check_passed
    admin_client.post(f"/onboarding/accounts/{account.pk}/keys/withdrawal/remove")
    account.refresh_from_db()
    assert not account.has_withdrawal_key and account.has_keys
    entries = [(e.action, e.details.get("key")) for e in AuditEntry.objects.order_by("id")
               if e.action.startswith("key")]
    assert entries == [("key set", "trading"), ("key replaced", "trading"),
                       ("key removed", "withdrawal")]
    logged = str(list(AuditEntry.objects.values_list("details", flat=True)))
    assert "9876" in logged  # the withdrawal key's change, with its last four characters
    assert "new-key" not in logged and "w-secret" not in logged and "w-key" not in logged
    assert KEY not in logged


def test_an_unknown_key_kind_is_not_found(admin_client, venue):
    add_account(admin_client, venue)
    account = Account.objects.get()
    response = admin_client.post(f"/onboarding/accounts/{account.pk}/keys/master",
                                 {"api_key": "x", "secret": "y"})
    assert response.status_code == 404


def test_operators_cannot_set_keys(client, operator, venue):
    client.force_login(operator)
    assert add_account(client, venue).status_code == 403
    assert not Account.objects.exists()


def test_an_added_account_is_audited_with_what_it_holds_but_not_its_key(admin_client, venue):
    add_account(admin_client, venue)

    account = Account.objects.get()
    added = AuditEntry.objects.get(action="account added")
    assert added.subject == f"account {account.pk}" and added.user.is_authenticated
    assert added.details["before"] is None
    assert added.details["after"] == {"venue": "bin", "name": "Hedging bot", "role": "hedge"}
    assert KEY not in str(added.details) and SECRET not in str(added.details)
    assert AuditEntry.objects.filter(action="key set", subject=f"account {account.pk}").exists()
