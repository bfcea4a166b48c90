"""Editing a venue in Chromium against Daphne: a refused option is shown beside its field and
changes nothing; then a new label and the testnet switch are saved and the list says so."""

from __future__ import annotations

import pytest

from bots.models import AuditEntry, Venue
from tests.support.browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.processes, pytest.mark.django_db(transaction=True)]


def test_an_admin_edits_a_venue(page, live_url, admin_user, artifacts):
    venue = Venue.objects.create(name="bin", label="Binance", kind=Venue.CCXT,
                                 exchange_id="binance")
    log_in(page, live_url, admin_user)
    page.goto(f"{live_url}/onboarding/venues/")
    page.click("#venues tr[data-venue=bin] a.edit")
    page.wait_for_selector("#venue-edit-form")

    page.fill("#id_label", "Binance main")
    page.fill("#id_options_json", '{"verbose": true}')
    page.click("#venue-edit-form button[type=submit]")
    assert "is not accepted" in page.inner_text("#venue-edit-form")
    page.screenshot(path=artifacts / "onboarding-venue-edit-refused.png", full_page=True)
    venue.refresh_from_db()
    assert venue.label == "Binance"

    page.fill("#id_label", "Binance main")
    page.fill("#id_options_json", "")
    page.check("#id_sandbox")
    page.click("#venue-edit-form button[type=submit]")
    page.wait_for_url(f"{live_url}/onboarding/venues/")
    row = page.inner_text("#venues tr[data-venue=bin]")
    assert "Binance main (testnet)" in row and "testnet" in row
    page.screenshot(path=artifacts / "onboarding-venue-edited.png", full_page=True)
    entry = AuditEntry.objects.get(action="venue changed")
    assert entry.details["after"]["sandbox"] is True
