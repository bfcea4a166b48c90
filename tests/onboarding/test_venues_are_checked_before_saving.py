"""A venue added on the desk: an exchange id ccxt knows, a testnet switch that says so
wherever the venue is named, and only the options Ballast accepts."""

from __future__ import annotations

import json

import pytest

from bots.models import AuditEntry, Venue
from bots.venues.clients import build_client
from tests.onboarding.conftest import stub_options

pytestmark = pytest.mark.django_db


def add(client, exchange_id="binance", sandbox=False, options=None, name="bin"):
    data = {"name": name, "label": "Binance", "exchange_id": exchange_id,
            "options_json": json.dumps(options or {})}
    if sandbox:
        data["sandbox"] = "on"
    return client.post("/onboarding/venues/add", data)


def test_a_mistyped_exchange_id_is_refused_with_a_message(admin_client):
    response = add(admin_client, "binanse")
    assert response.status_code == 422
    assert "&#x27;binanse&#x27; is not an exchange ccxt" in response.content.decode()
    assert "did you mean binance" in response.content.decode()
    assert not Venue.objects.exists()


def test_a_known_exchange_is_added_and_audited(admin_client):
    response = add(admin_client, "binance")
    assert response.status_code == 302
    venue = Venue.objects.get(name="bin")
    assert (venue.kind, venue.exchange_id, venue.sandbox) == (Venue.CCXT, "binance", False)
    entry = AuditEntry.objects.get(action="venue added")
    assert entry.actor == "ada" and entry.details["after"]["exchange_id"] == "binance"


@pytest.mark.parametrize("options, said", [
    ({"verbose": True}, "Option &#x27;verbose&#x27; is not accepted"),
    ({"headers": {"X": "1"}}, "Option &#x27;headers&#x27; is not accepted"),
    ({"options": {"sandboxMode": True}}, "ccxt option &#x27;sandboxMode&#x27; is not accepted"),
    ({"urls": {"api": {"public": "https://evil.example/api"}}}, "may only point at"),
    ({"urls": {"logo": "http://127.0.0.1/x"}}, "A URL override is"),
    ({"timeout": 0}, "timeout must be"),
])
def test_options_outside_the_known_set_are_refused(admin_client, options, said):
    response = add(admin_client, options=options)
    assert response.status_code == 422
    assert said in response.content.decode()
    assert not Venue.objects.exists()


def test_a_stubs_url_override_is_accepted(admin_client, binance_stub):
    assert add(admin_client, options=stub_options(binance_stub)).status_code == 302
    assert Venue.objects.get().options["urls"]["api"]["public"].startswith("http://127.0.0.1:")


def test_the_testnet_switch_is_sandbox_mode_and_says_so(admin_client):
    assert add(admin_client, sandbox=True).status_code == 302
    venue = Venue.objects.get()
    assert venue.sandbox and str(venue) == "Binance (testnet)"
    page = admin_client.get("/onboarding/venues/").content.decode()
    assert "Binance (testnet)" in page
    client = build_client(venue.name, venue.exchange_id, venue.options, {}, sandbox=True)
    assert "testnet" in client.urls["api"]["public"]


def test_a_stub_override_wins_over_the_testnet_urls(binance_stub):
    options = stub_options(binance_stub)
    client = build_client("b", "binance", options, {}, sandbox=True)
    assert client.urls["api"]["public"] == binance_stub.base_url + "/api/v3"


def test_a_testnet_ccxt_does_not_know_is_refused(admin_client):
    response = add(admin_client, "coinone", sandbox=True)
    assert response.status_code == 422
    assert "ccxt knows no testnet for coinone" in response.content.decode()


def test_only_admins_reach_the_venues_page(client, operator):
    client.force_login(operator)
    assert client.get("/onboarding/venues/").status_code == 403
    assert add(client).status_code == 403


def test_djangos_admin_refuses_a_mistyped_exchange_too(admin_client):
    response = admin_client.post("/admin/bots/venue/add/", {
        "name": "bin", "label": "Binance", "kind": Venue.CCXT, "exchange_id": "binanse",
        "options": "{}", "fault": "",
    })
    assert response.status_code == 200  # the form again, with its error
    assert "is not an exchange ccxt" in response.content.decode()
    assert not Venue.objects.exists()
