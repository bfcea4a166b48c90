"""An account's keys in Chromium against Daphne, two admins with their codes: the trading key
replaced at once (and never shown), a withdrawal key proposed by one admin and shown as waiting,
the other told of it (nav count, alerts page), confirming it on the Changes page, then removing
it; each step in the audit log."""

from __future__ import annotations

import pytest

from bots.models import Account, AuditEntry, ChangeRequest, Venue
from tests.support.browser import log_in
from tests.support.users import make_user

pytestmark = [pytest.mark.browser, pytest.mark.processes, pytest.mark.django_db(transaction=True)]


def fill_keys(page, card, which, key, secret):
    page.click(f"{card} summary:has-text('{which}')")
    form = f"{card} form[action$='/keys/{which.split()[-2]}']"
    page.fill(f"{form} [name=api_key]", key)
    page.fill(f"{form} [name=secret]", secret)
    page.click(f"{form} button[type=submit]")
    page.wait_for_selector(".messages")


def test_keys_are_replaced_proposed_confirmed_and_removed(browser, live_url, artifacts):
    venue = Venue.objects.create(name="bin", label="Binance", kind=Venue.CCXT,
                                 exchange_id="binance")
    account = Account.objects.create(venue=venue, name="Hedging", role=Account.HEDGING)
    account.set_credentials("old-key", "old-secret")
    account.save()
    ada, bea = make_user("ada", "admin"), make_user("bea", "admin")
    card = f"#account-{account.pk}"

    first = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = first.new_page()
    log_in(page, live_url, ada)
    page.goto(f"{live_url}/onboarding/accounts/")
    fill_keys(page, card, "Replace the trading key", "new-trade-key", "new-trade-secret")
    assert "trading key saved" in page.inner_text(".messages")
    fill_keys(page, card, "Add a withdrawal key", "withdraw-key-4321", "withdraw-secret")
    assert "another admin confirms it" in page.inner_text(".messages")
    assert "a new one waits for a second admin" in page.inner_text(card)
    assert "withdraw-key" not in page.content() and "new-trade" not in page.content()
    page.screenshot(path=artifacts / "onboarding-key-waiting.png", full_page=True)
    first.close()
    account.refresh_from_db()
    assert account.credentials()["apiKey"] == "new-trade-key" and not account.has_withdrawal_key

    second = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = second.new_page()
    log_in(page, live_url, bea)
    change = ChangeRequest.objects.get()
    # bea hears of it on the desk: the nav counts what waits for her, and the alerts page says it.
    page.goto(f"{live_url}/alerts/")
    assert page.inner_text("#changes-count") == "1"
    assert "ada proposes: Set the withdrawal key of Hedging @ Binance" in page.inner_text("main")
    page.screenshot(path=artifacts / "change-waiting-alert.png", full_page=True)
    page.click("nav.desk >> text=Changes")
    assert "…4321" in page.inner_text(f"#change-{change.pk}")
    page.click(f"#change-{change.pk} >> text=Confirm")
    page.wait_for_selector(f"#change-{change.pk}.change-applied")
    page.goto(f"{live_url}/onboarding/accounts/")
    assert "Withdrawal key: set" in page.inner_text(card)
    page.click(f"{card} summary:has-text('Replace a withdrawal key')")
    page.click(f"{card} >> text=Remove the withdrawal key")
    page.wait_for_selector(".messages")
    assert "Withdrawal key: none" in page.inner_text(card)
    second.close()

    account.refresh_from_db()
    assert not account.has_withdrawal_key and account.has_keys
    actions = AuditEntry.objects.order_by("id").values_list("action", "user__username")
    assert [a for a in actions if a[0].startswith(("key", "change"))] == [
        ("key replaced", "ada"), ("change proposed", "ada"), ("change applied", "bea"),
        ("key removed", "bea"),
    ]
