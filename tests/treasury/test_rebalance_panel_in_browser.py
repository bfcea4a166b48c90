"""In real browsers: two operators have the rebalance panel open; one approves a proposal and the
other's panel shows it approved without a reload."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.utils import timezone

from bots.models import BalanceSnapshot, PaperBalance, TransferProposal
from bots.treasury import rebalancing
from tests.support.browser import off_the_browser_thread, open_panel

pytestmark = [pytest.mark.browser, pytest.mark.processes, pytest.mark.django_db(transaction=True)]


def test_an_approval_by_one_operator_shows_live_on_the_others_panel(
    browser, live_url, rebalance_market, operator, second_operator, artifacts
):
    # Users bought 1 BTC an hour for the last hour and a half, each fill hedged: the MM account
    # drained from 2.1 to 0.6 BTC while the hedge account filled up.
    now = timezone.now()
    BalanceSnapshot.objects.filter(asset="BTC").update(taken_at=now - timedelta(hours=3))
    for account, start, step in [
        (rebalance_market.mm_account, D("2.1"), D("-0.5")),
        (rebalance_market.hedge_account, D("1.9"), D("0.5")),
    ]:
        for i in range(4):
            total = start + step * i
            row = BalanceSnapshot.objects.create(
                account=account, asset="BTC", free=total, used=0, total=total
            )
            taken = now - timedelta(minutes=90 - 30 * i, seconds=1)
            BalanceSnapshot.objects.filter(pk=row.pk).update(taken_at=taken)
        PaperBalance.objects.filter(account=account, asset="BTC").update(free=start + step * 3)
    [p] = off_the_browser_thread(rebalancing.plan_transfers)
    card = f"#transfer-{p.pk}"

    olivia_context, olivia = open_panel(browser, live_url, operator)
    oscar_context, oscar = open_panel(browser, live_url, second_operator)
    try:
        for page in (olivia, oscar):
            page.wait_for_selector(f"{card}[data-state='proposed'] button.approve")
        # The short runway is an alert pointing at the proposal that answers it.
        alert = olivia.inner_text(".rebalance-alerts")
        # 0.6 h, in minutes: 35 or 36 as the snapshots' second of slack rounds it.
        assert re.search(r"MM bot @ Own exchange runs out of BTC in 3[56] min", alert)
        assert f"review proposal #{p.pk}" in alert
        oscar.evaluate("window.__samePage = true")
        olivia.screenshot(path=artifacts / "rebalance-proposal.png", full_page=True)

        olivia.fill(f"#comment-{p.pk}", "hedge account is over its band")
        olivia.click(f"{card} button.approve")
        olivia.wait_for_selector("#panel-note.ok")
        assert f"Approved transfer #{p.pk}" in olivia.inner_text("#panel-note")

        # Oscar did nothing: the websocket nudged his panel, which fetched itself again.
        oscar.wait_for_selector(f"{card}[data-state='approved']", timeout=15_000)
        assert oscar.evaluate("window.__samePage") is True
        assert oscar.locator(f"{card} button.approve").count() == 0
        assert "olivia" in oscar.inner_text(f"{card} .approvals")
        assert oscar.locator(f"{card} form.sent button").inner_text() == "Record sent"
        oscar.screenshot(path=artifacts / "rebalance-approved.png", full_page=True)
    finally:
        olivia_context.close()
        oscar_context.close()
    assert TransferProposal.objects.get(pk=p.pk).state == TransferProposal.APPROVED
