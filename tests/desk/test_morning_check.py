"""The morning check: each item passes or fails on the records, says so with a link to act, and
who ran it when is kept; an item Ballast cannot check says so rather than passing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from bots.desk import health
from bots.models import (
    AuditEntry,
    Breach,
    CheckItem,
    Fill,
    Heartbeat,
    Hedge,
    Market,
    MorningCheck,
    PaperBalance,
)
from bots.treasury.balances import refresh_balances
from dashboard.desk.morning_check_views import run_items

pytestmark = pytest.mark.django_db


@pytest.fixture
def healthy_market(running_market):
    """The demo market with balances recorded, a fresh sample and tick, and a live worker."""
    for account in (running_market.mm_account, running_market.hedge_account):
        refresh_balances(account, ["BTC", "USDT"])
    health.sample_market(running_market)
    Market.objects.filter(pk=running_market.pk).update(last_tick_at=timezone.now())
    Heartbeat.objects.create(name="worker", beat_at=timezone.now())
    return running_market


def results(items) -> dict[str, str]:
    return {item.key: item.result for item in items}


def test_a_healthy_desk_passes_everything_it_can_check(healthy_market):
    items = run_items()

    assert [item.key for item in items] == ["balances", "hedges", "bands", "proposals", "feeds", "workers"]
    expected_proposals = CheckItem.PASS
    try:
        apps.get_model("bots", "TransferProposal")
    except LookupError:
        expected_proposals = CheckItem.NOT_CHECKED
    assert results(items) == {
        "balances": CheckItem.PASS, "hedges": CheckItem.PASS, "bands": CheckItem.PASS,
        "proposals": expected_proposals, "feeds": CheckItem.PASS, "workers": CheckItem.PASS,
    }


def test_a_balance_that_moved_without_a_record_fails_the_reconciliation(healthy_market):
    PaperBalance.objects.filter(account=healthy_market.mm_account, asset="BTC").update(free=F("free") + 1)

    item = run_items()[0]

    assert item.result == CheckItem.FAIL
    assert "MM bot @ Own exchange BTC: the venue says 3, the records 2" in item.detail
    assert item.action_url == "/markets/btc-usdt/"


def test_failed_and_old_pending_hedges_fail_the_hedge_item(healthy_market):
    market = healthy_market
    for trade_id, state in (("f1", Hedge.FAILED), ("p1", Hedge.PENDING)):
        fill = Fill.objects.create(
            venue=market.mm_account.venue, account=market.mm_account, market=market, trade_id=trade_id,
            order_id="o", side="sell", price=Decimal("65000"), amount=Decimal("0.1"), cost=Decimal("6500"),
            timestamp=1,
        )
        Hedge.objects.create(fill=fill, account=market.hedge_account, side="buy", amount=Decimal("0.1"),
                             client_order_id=f"bh-{trade_id}", state=state)
    Hedge.objects.filter(state=Hedge.PENDING).update(created_at=timezone.now() - timedelta(minutes=11))

    item = run_items()[1]

    assert item.result == CheckItem.FAIL
    assert "1 failed hedge(s) wait for an operator" in item.detail
    assert "1 hedge(s) still unfinished after 10 minutes" in item.detail
    assert item.action_url == "/markets/btc-usdt/hedges/"


def test_a_breach_overnight_fails_the_bands_item_even_when_it_ended(healthy_market):
    now = timezone.now()
    Breach.objects.create(market=healthy_market, figure="spread", detail="spread 62.0 bps",
                          started_at=now - timedelta(hours=6), ended_at=now - timedelta(hours=5))

    item = run_items()[2]

    assert item.result == CheckItem.FAIL
    assert "BTC/USDT: spread 62.0 bps from" in item.detail
    assert item.action_url == reverse("overview")


def test_a_breach_that_ended_before_the_night_does_not_count(healthy_market):
    now = timezone.now()
    Breach.objects.create(market=healthy_market, figure="spread", started_at=now - timedelta(hours=20),
                          ended_at=now - timedelta(hours=13))

    assert run_items()[2].result == CheckItem.PASS


def test_stale_feeds_and_a_silent_worker_fail(healthy_market, settings):
    Market.objects.filter(pk=healthy_market.pk).update(last_tick_at=timezone.now() - timedelta(minutes=5))
    Heartbeat.objects.filter(name="worker").update(beat_at=timezone.now() - timedelta(minutes=5))

    items = {item.key: item for item in run_items()}

    assert items["feeds"].result == CheckItem.FAIL
    assert "the market-making bot has not ticked in the last 30 s" in items["feeds"].detail
    assert items["workers"].result == CheckItem.FAIL
    assert "celery -A ballast worker" in items["workers"].detail


def test_an_operator_runs_it_and_who_and_when_are_kept(client, operator, healthy_market):
    client.force_login(operator)

    response = client.post(reverse("morning-check-run"))

    assert response.status_code == 302 and response["Location"] == reverse("morning-check")
    run = MorningCheck.objects.get()
    assert run.run_by == operator and run.items.count() == 6
    assert AuditEntry.objects.get(action="morning check").actor == "olivia"
    page = client.get(reverse("morning-check")).content.decode()
    assert "Run by olivia" in page and "Balances reconcile with the records" in page


def test_running_it_over_htmx_returns_the_result_in_place(client, operator, healthy_market):
    client.force_login(operator)

    response = client.post(reverse("morning-check-run"), HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<div id="morning-check-run">')


def test_a_viewer_sees_the_results_but_cannot_run_it(client, viewer, healthy_market):
    client.force_login(viewer)

    assert client.post(reverse("morning-check-run")).status_code == 403
    assert not MorningCheck.objects.exists()
    assert "running it needs the operator role" in client.get(reverse("morning-check")).content.decode()
