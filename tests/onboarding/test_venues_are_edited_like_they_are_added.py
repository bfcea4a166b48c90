"""An admin edits a venue's label, testnet switch and options on the desk, checked as when it
was added: a refused value changes nothing, an unchanged form records nothing, every change is
audited with its before and after, and a new testnet switch or options clear the accounts'
connection tests (the keys now go somewhere else)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from bots.models import Account, AuditEntry, Venue

pytestmark = pytest.mark.django_db


@pytest.fixture
def venue(db):
    return Venue.objects.create(name="bin", label="Binance", kind=Venue.CCXT,
                                exchange_id="binance", options={"timeout": 5000})


@pytest.fixture
def tested(venue):
    return Account.objects.create(venue=venue, name="Hedging", role=Account.HEDGING,
                                  checked_at=timezone.now(), check_passed=True)


def edit(client, venue, label="Binance", sandbox=False, options='{"timeout": 5000}'):
    data = {"label": label, "options_json": options}
    if sandbox:
        data["sandbox"] = "on"
    return client.post(f"/onboarding/venues/{venue.pk}/edit", data)


def changes():
    return list(AuditEntry.objects.filter(action="venue changed").order_by("id"))


def test_the_form_shows_the_venue_as_it_is(admin_client, venue):
    page = admin_client.get(f"/onboarding/venues/{venue.pk}/edit").content.decode()
    assert 'value="Binance"' in page and "{&quot;timeout&quot;: 5000}" in page
    assert 'name="exchange_id"' not in page and 'name="name"' not in page
    listing = admin_client.get("/onboarding/venues/").content.decode()
    assert f"/onboarding/venues/{venue.pk}/edit" in listing


def test_a_new_label_is_saved_and_audited_and_keeps_the_tests(admin_client, admin_user, venue,
                                                              tested):
    assert edit(admin_client, venue, label="Binance main").status_code == 302
    venue.refresh_from_db()
    assert venue.label == "Binance main"
    (entry,) = changes()
    assert entry.user == admin_user and entry.subject == "venue bin"
    assert entry.details["before"]["label"] == "Binance"
    assert entry.details["after"]["label"] == "Binance main"
    assert "tests_cleared" not in entry.details
    tested.refresh_from_db()
    assert tested.check_passed


def test_the_testnet_switch_and_options_clear_the_accounts_tests(admin_client, venue, tested):
    assert edit(admin_client, venue, sandbox=True,
                options='{"timeout": 8000, "enableRateLimit": true}').status_code == 302
    venue.refresh_from_db()
    assert venue.sandbox and venue.options == {"timeout": 8000, "enableRateLimit": True}
    assert str(venue) == "Binance (testnet)"
    (entry,) = changes()
    assert (entry.details["before"]["sandbox"], entry.details["after"]["sandbox"]) == (False, True)
    assert entry.details["tests_cleared"] == 1
    tested.refresh_from_db()
    assert not tested.check_passed and tested.checked_at is None


@pytest.mark.parametrize("options, said", [
    ('{"verbose": true}', "Option &#x27;verbose&#x27; is not accepted"),
    ('{"urls": {"api": "https://evil.example/api"}}', "evil.example"),
    ("{not json", "Not JSON"),
])
def test_refused_options_change_nothing(admin_client, venue, tested, options, said):
    response = edit(admin_client, venue, label="Renamed", options=options)
    assert response.status_code == 422
    assert said in response.content.decode()
    venue.refresh_from_db()
    assert (venue.label, venue.options) == ("Binance", {"timeout": 5000})
    assert not changes()
    tested.refresh_from_db()
    assert tested.check_passed


def test_a_testnet_ccxt_does_not_know_is_refused_on_edit_too(admin_client):
    venue = Venue.objects.create(name="c1", label="Coinone", kind=Venue.CCXT,
                                 exchange_id="coinone")
    response = edit(admin_client, venue, label="Coinone", sandbox=True, options="")
    assert response.status_code == 422
    assert "testnet" in response.content.decode().lower()
    venue.refresh_from_db()
    assert not venue.sandbox and not changes()


def test_an_unchanged_form_records_nothing(admin_client, venue):
    response = edit(admin_client, venue)
    assert response.status_code == 302
    assert not changes()


def test_paper_venues_and_non_admins_cannot_edit(admin_client, client, operator, venue):
    paper = Venue.objects.create(name="own", label="Own exchange", kind=Venue.PAPER)
    assert edit(admin_client, paper, label="x", options="").status_code == 404
    paper.refresh_from_db()
    assert paper.label == "Own exchange"
    client.force_login(operator)
    assert edit(client, venue, label="Mine").status_code == 403
    venue.refresh_from_db()
    assert venue.label == "Binance" and not changes()
