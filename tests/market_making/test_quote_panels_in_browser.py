"""In a real browser: the quotes with their edge, pausing and resuming the bot with a reason
each (a command carried out empties the reason box), and an admin changing the quote settings
(a refused value shown in place, then a saved one)."""

from __future__ import annotations

import pytest

from tests.support.browser import log_in
from tests.support.users import PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.processes, pytest.mark.django_db(transaction=True)]


def test_an_operator_sees_each_levels_edge_and_pauses_and_resumes_the_bot(
    page, live_url, running_market, operator, artifacts
):
    log_in(page, live_url, operator)
    page.wait_for_url(f"{live_url}/markets/btc-usdt/")

    page.wait_for_selector("#levels tbody tr.ask")
    assert page.locator("#levels tbody tr.ask").count() == 5
    assert page.locator("#levels tbody tr.bid").count() == 5
    edges = [float(t) for t in page.locator("#levels tbody tr td:nth-child(4)").all_inner_texts()]
    assert len(edges) == 10 and all(edge >= 2 for edge in edges)
    assert "spread" in page.locator("#quotes-head").inner_text()
    page.wait_for_selector("#live.on")

    page.fill("#bot-panel form.controls input[name=reason] >> nth=0", "exchange maintenance")
    page.click("#bot-panel button[data-command=pause]")
    page.wait_for_selector("#control-result .ok")
    # Carried out, the command empties the reason box: the next one needs its own reason.
    assert page.locator("#bot-panel form.controls input[name=reason] >> nth=0").input_value() == ""
    page.wait_for_function("() => document.getElementById('state').textContent === 'paused'")
    page.wait_for_selector("#actions li:has-text('exchange maintenance')")
    assert page.locator("#bot-panel button[data-command=pause]").is_disabled()
    assert page.locator("#bot-panel button[data-command=resume]").is_enabled()
    page.screenshot(path=artifacts / "market-paused.png", full_page=True)

    page.click("#bot-panel button[data-command=resume]")  # no reason: refused, asked for one
    assert page.locator("#bot-panel form.controls input[name=reason] >> nth=0").evaluate(
        "input => input.validity.valueMissing"
    )
    # htmx sends the button's request without the browser's check; the desk refuses it. Wait for
    # that answer, so it cannot land after the next command's.
    page.wait_for_selector("#control-result:has-text('Say why')")
    page.fill("#bot-panel form.controls input[name=reason] >> nth=0", "maintenance over")
    page.click("#bot-panel button[data-command=resume]")
    page.wait_for_function("() => document.getElementById('state').textContent === 'running'")
    assert page.locator("#actions li").first.inner_text().endswith("resume: maintenance over")


def test_an_admin_changes_the_quote_settings_in_place(page, live_url, running_market, artifacts):
    admin = make_user("amelie", "admin")
    log_in(page, live_url, admin, PASSWORD)
    page.wait_for_url(f"{live_url}/markets/btc-usdt/")
    page.goto(f"{live_url}/markets/btc-usdt/settings/")

    page.fill("input[name=ask_spread_bps]", "5")
    page.click("form.settings button[type=submit]")
    error = page.wait_for_selector(".setting.invalid .field-error")
    assert "below the hedge floor of 12 bps" in error.inner_text()
    page.screenshot(path=artifacts / "settings-refused.png", full_page=True)

    page.fill("input[name=ask_spread_bps]", "18")
    page.fill("input[name=levels]", "4")
    page.fill("input[name=reason]", "wider asks while BTC trends up")
    page.click("form.settings button[type=submit]")
    note = page.wait_for_selector("form.settings .ok")
    assert "Saved as version 1: 2 change(s)" in note.inner_text()
    history = page.locator("#settings-history tbody tr").first.inner_text()
    assert "ask_spread_bps 15 → 18" in history and "wider asks while BTC trends up" in history
    assert page.input_value("input[name=levels]") == "4"
    page.screenshot(path=artifacts / "settings.png", full_page=True)
