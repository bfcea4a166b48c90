"""Transfers on their way: arrival read from the destination's deposits (or its balance when the
venue lists none), lateness flagged once, and runway alerts naming the proposal that answers."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D
from unittest import mock

import ccxt
import pytest
from django.utils import timezone

from bots.models import (
    Alert,
    AuditEntry,
    BalanceSnapshot,
    PaperBalance,
    PaperTransfer,
    TransferProposal,
)
from bots.treasury import rebalancing, withdrawals
from bots.treasury.balances import refresh_balances
from bots.treasury.inventory import read_inventory
from bots.treasury.transfer_watch import runway_alerts, watch_transfers
from bots.venues.paper import PaperVenue

pytestmark = pytest.mark.django_db
P = TransferProposal


def set_btc(market, mm: str, hedge: str) -> None:
    PaperBalance.objects.filter(account=market.mm_account, asset="BTC").update(free=D(mm))
    PaperBalance.objects.filter(account=market.hedge_account, asset="BTC").update(free=D(hedge))
    for account in (market.mm_account, market.hedge_account):
        refresh_balances(account, ["BTC"])


@pytest.fixture
def sent(rebalance_market, operator):
    set_btc(rebalance_market, "0.6", "3.4")
    [p] = rebalancing.plan_transfers()
    rebalancing.approve(p.pk, operator)
    withdrawals.execute(p.pk, operator)
    p.refresh_from_db()
    return p


def arrive_now() -> None:
    PaperTransfer.objects.update(arrives_at=timezone.now() - timedelta(seconds=1))


def test_a_transfer_completes_when_its_deposit_arrives(sent, rebalance_market):
    assert watch_transfers()["arrived"] == 0  # still on its way
    arrive_now()

    assert watch_transfers()["arrived"] == 1

    sent.refresh_from_db()
    assert (sent.state, sent.completed_by, sent.arrival_ref) == (P.COMPLETED, None, sent.txid)
    assert "matched by tx id" in sent.state_note
    position = read_inventory().of(rebalance_market.mm_account.pk, "BTC")
    assert (position.total, position.incoming) == (D("0.6") + sent.amount - sent.fee, 0)
    assert AuditEntry.objects.filter(
        action="transfer completed", actor="transfer watch"
    ).exists()


def test_a_deposit_recorded_by_hand_is_matched_by_amount(rebalance_market, operator):
    set_btc(rebalance_market, "0.6", "3.4")
    [p] = rebalancing.plan_transfers()
    rebalancing.approve(p.pk, operator)
    address = PaperVenue(p.destination).fetch_deposit_address("BTC")["address"]
    PaperVenue(p.source).withdraw("BTC", p.amount, address)
    # The operator typed the exchange's withdrawal id, not the hash: the amount still matches.
    rebalancing.record_sent(p.pk, operator, p.amount, p.fee, "W-1234")
    arrive_now()

    watch_transfers()

    p.refresh_from_db()
    assert (p.state, "matched by amount" in p.state_note) == (P.COMPLETED, True)


def test_one_deposit_completes_one_transfer_only(sent, rebalance_market, operator):
    arrive_now()
    watch_transfers()
    # A second transfer of the same amount, recorded but never really sent.
    P.objects.create(
        asset="BTC",
        network="BTC",
        source=sent.source,
        destination=sent.destination,
        amount=sent.amount,
        fee=sent.fee,
        origin=P.MANUAL,
        reason="test",
        state=P.SENT,
        sent_at=timezone.now(),
        sent_amount=sent.amount,
        sent_fee=sent.fee,
        txid="0xother",
    )

    assert watch_transfers()["arrived"] == 0


def test_a_venue_that_lists_no_deposits_is_read_by_its_balance(sent, rebalance_market):
    arrive_now()
    with mock.patch.object(
        PaperVenue, "fetch_deposits", autospec=True, side_effect=ccxt.NotSupported("no")
    ):
        assert watch_transfers()["arrived"] == 0  # the balance has not risen: nothing credited it
    PaperVenue(rebalance_market.mm_account).fetch_deposits("BTC")  # the venue credits it
    with mock.patch.object(
        PaperVenue, "fetch_deposits", autospec=True, side_effect=ccxt.NotSupported("no")
    ):
        assert watch_transfers()["arrived"] == 1

    sent.refresh_from_db()
    assert sent.state == P.COMPLETED and sent.state_note.startswith("the balance rose by")


def test_a_late_transfer_is_flagged_once(sent):
    P.objects.filter(pk=sent.pk).update(sent_at=timezone.now() - timedelta(minutes=30))

    assert watch_transfers()["overdue"] == 1
    assert watch_transfers()["overdue"] == 0
    entry = AuditEntry.objects.get(action="transfer overdue")
    assert "expected within 1 min" in entry.reason and "confirm or mark it failed" in entry.reason
    alert = Alert.objects.get(kind=Alert.TRANSFER_OVERDUE)
    assert (alert.state, alert.action_url) == (Alert.OPEN, "/rebalance/")
    assert f"Transfer {sent.pk} overdue" in alert.message


def test_the_overdue_alert_ends_when_the_transfer_is_settled(sent):
    P.objects.filter(pk=sent.pk).update(sent_at=timezone.now() - timedelta(minutes=30))
    watch_transfers()
    P.objects.filter(pk=sent.pk).update(state=P.FAILED)  # as mark_failed leaves it
    watch_transfers()
    assert Alert.objects.get(kind=Alert.TRANSFER_OVERDUE).state == Alert.RESOLVED


def test_an_unreachable_destination_leaves_the_transfer_on_its_way(sent, rebalance_market):
    arrive_now()
    venue = rebalance_market.mm_account.venue
    venue.fault = "RequestTimeout"
    venue.save()

    assert watch_transfers()["arrived"] == 0
    assert P.objects.get(pk=sent.pk).state == P.SENT


# --- runway -------------------------------------------------------------------------------------


def drained_over_the_last_hour(market, totals=("1.7", "1.45", "1.2")) -> None:
    """The MM account held totals[0] BTC an hour ago, totals[1] half an hour ago and holds
    totals[2] now: by default it lost 0.5 BTC an hour to users buying, now holding 1.2."""
    now = timezone.now()
    BalanceSnapshot.objects.filter(account=market.mm_account, asset="BTC").update(
        taken_at=now - timedelta(hours=2)
    )
    for minutes, total in zip((60, 30, 0), totals, strict=True):
        row = BalanceSnapshot.objects.create(
            account=market.mm_account, asset="BTC", free=D(total), used=0, total=D(total)
        )
        BalanceSnapshot.objects.filter(pk=row.pk).update(
            taken_at=now - timedelta(minutes=minutes, seconds=1)
        )
    PaperBalance.objects.filter(account=market.mm_account, asset="BTC").update(free=D(totals[-1]))


def test_runway_is_the_holding_over_the_recent_drain(rebalance_market):
    drained_over_the_last_hour(rebalance_market)

    position = read_inventory().of(rebalance_market.mm_account.pk, "BTC")

    assert position.flow_per_hour == pytest.approx(D("-0.5"), abs=D("0.001"))
    assert position.runway == pytest.approx(D("2.4"), abs=D("0.01"))
    assert position.runway_short  # under the 6 h alert


def test_a_short_runway_is_planned_towards_target_and_raises_an_alert_naming_the_proposal(
    rebalance_market,
):
    drained_over_the_last_hour(rebalance_market)  # inside its band (1.2 >= 1), but short of runway

    [p] = rebalancing.plan_transfers()
    assert runway_alerts(read_inventory()) == 1

    assert (p.origin, p.destination) == (P.RUNWAY, rebalance_market.mm_account)
    assert (
        "MM bot @ Own exchange holds 1.20000 BTC, inside its band; it runs out in 2.4 h at the "
        "recent flow, under the 6 h alert: planned to its target 2.00000" in p.reason
    )
    alert = Alert.objects.get(kind=Alert.RUNWAY_LOW)
    assert (
        alert.message == f"MM bot @ Own exchange runs out of BTC in 2.4 h: review proposal #{p.pk}"
    )
    assert alert.action_url == f"/rebalance/#transfer-{p.pk}"


def test_a_runway_under_an_hour_reads_in_minutes_on_the_page_the_alert_and_the_reason(
    rebalance_market, client, viewer
):
    # 1.2 BTC an hour out of 0.41 left: about 20.5 minutes.
    drained_over_the_last_hour(rebalance_market, totals=("1.61", "1.01", "0.41"))

    [p] = rebalancing.plan_transfers()
    runway_alerts(read_inventory())

    assert "it runs out in 20 min at the recent flow" in p.reason
    assert Alert.objects.get(kind=Alert.RUNWAY_LOW).message.startswith(
        "MM bot @ Own exchange runs out of BTC in 20 min: "
    )
    client.force_login(viewer)
    page = client.get("/rebalance/").content.decode()
    assert '<strong class="error">20 min</strong>' in page
    assert "0.3 h" not in page


def test_the_runway_alert_resolves_when_the_runway_recovers(rebalance_market):
    drained_over_the_last_hour(rebalance_market)
    runway_alerts(read_inventory())
    BalanceSnapshot.objects.filter(account=rebalance_market.mm_account, asset="BTC").delete()
    refresh_balances(rebalance_market.mm_account, ["BTC"])

    runway_alerts(read_inventory())

    assert Alert.objects.get(kind=Alert.RUNWAY_LOW).state == Alert.RESOLVED


def test_the_market_pages_exposure_counts_a_transfer_in_flight_where_it_is_going(
    sent, rebalance_market
):
    from dashboard.live.publisher import market_snapshot

    # 0.6 + 3.4 BTC with 4 the target; the transfer left the hedge account and has not arrived:
    # only its fee is gone.
    assert market_snapshot(rebalance_market)["exposure"] == -sent.fee


def test_the_beat_task_watches_under_its_lock(sent):
    from bots.treasury import tasks as treasury_tasks

    arrive_now()
    assert treasury_tasks.watch_transfers() == {
        "settled": 0, "arrived": 1, "overdue": 0, "failed": 0
    }
    assert P.objects.get(pk=sent.pk).state == P.COMPLETED
