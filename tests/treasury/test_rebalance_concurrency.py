"""Concurrent clicks on one transfer have exactly one winner, on PostgreSQL's row locks (CI runs
this suite there) as on SQLite's serialized writes: the loser gets a clear message, the state and
the audit log stay right, money moves once."""

from __future__ import annotations

import threading
from decimal import Decimal as D

import pytest
from django.db import connection, connections

from bots.models import AuditEntry, PaperBalance, PaperTransfer, TransferApproval, TransferProposal
from bots.treasury import rebalancing, withdrawals
from bots.treasury.balances import refresh_balances
from bots.treasury.rebalancing import TransferConflict
from bots.venues.paper import PaperVenue

pytestmark = pytest.mark.django_db(transaction=True)
P = TransferProposal


def at_once(*calls) -> list:
    """Run the calls in threads released together; each result, or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            results[i] = call()
        except Exception as exc:  # the outcome under test
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


@pytest.fixture
def proposal(rebalance_market):
    PaperBalance.objects.filter(account=rebalance_market.mm_account, asset="BTC").update(
        free=D("0.6")
    )
    PaperBalance.objects.filter(account=rebalance_market.hedge_account, asset="BTC").update(
        free=D("3.4")
    )
    for account in (rebalance_market.mm_account, rebalance_market.hedge_account):
        refresh_balances(account, ["BTC"])
    [p] = rebalancing.plan_transfers()
    return p


def outcome(results) -> tuple[list, list]:
    won = [r for r in results if isinstance(r, rebalancing.Done)]
    lost = [r for r in results if isinstance(r, Exception)]
    return won, lost


def test_the_database_is_the_one_ci_names():
    # Not a skip: on PostgreSQL these tests exercise row locks, on SQLite serialized writers.
    assert connection.vendor in ("postgresql", "sqlite")


def test_two_operators_approving_at_once_give_one_approval(proposal, operator, second_operator):
    results = at_once(
        lambda: rebalancing.approve(proposal.pk, operator, "a"),
        lambda: rebalancing.approve(proposal.pk, second_operator, "b"),
    )

    won, lost = outcome(results)
    assert (len(won), len(lost)) == (1, 1)
    assert isinstance(lost[0], TransferConflict) and "already approved by" in str(lost[0])
    assert TransferApproval.objects.count() == 1
    assert P.objects.get(pk=proposal.pk).state == P.APPROVED
    assert AuditEntry.objects.filter(action="transfer approved").count() == 1


def test_a_double_click_counts_once_towards_a_two_approver_quorum(proposal, operator):
    P.objects.filter(pk=proposal.pk).update(approvals_required=2)

    results = at_once(*[lambda: rebalancing.approve(proposal.pk, operator)] * 3)

    won, lost = outcome(results)
    assert (len(won), len(lost)) == (1, 2)
    assert all("already approved" in str(e) for e in lost)
    assert TransferApproval.objects.count() == 1
    assert P.objects.get(pk=proposal.pk).state == P.PROPOSED


def test_two_different_operators_at_once_meet_a_two_approver_quorum(
    proposal, operator, second_operator
):
    P.objects.filter(pk=proposal.pk).update(approvals_required=2)

    results = at_once(
        lambda: rebalancing.approve(proposal.pk, operator),
        lambda: rebalancing.approve(proposal.pk, second_operator),
    )

    assert all(isinstance(r, rebalancing.Done) for r in results)
    assert sorted(r.message.split(":")[0] for r in results) == [
        f"Approval 1 of 2 recorded for transfer #{proposal.pk}",
        f"Approved transfer #{proposal.pk}",
    ]
    assert P.objects.get(pk=proposal.pk).state == P.APPROVED


def test_approve_and_reject_at_once_end_rejected_either_way(proposal, operator, second_operator):
    results = at_once(
        lambda: rebalancing.approve(proposal.pk, operator),
        lambda: rebalancing.reject(proposal.pk, second_operator, "not now"),
    )

    # A rejection ends a proposal whether or not it was approved a moment before (it was not
    # sent); an approval arriving after the rejection is refused and leaves no trace.
    assert P.objects.get(pk=proposal.pk).state == P.REJECTED
    approve, reject = results
    assert isinstance(reject, rebalancing.Done)
    actions = list(
        AuditEntry.objects.filter(action__startswith="transfer")
        .order_by("id")
        .values_list("action", flat=True)
    )
    if isinstance(approve, rebalancing.Done):
        assert actions[-2:] == ["transfer approved", "transfer rejected"]
        assert TransferApproval.objects.count() == 1
    else:
        assert isinstance(approve, TransferConflict) and "already rejected: not now" in str(approve)
        assert actions[-1] == "transfer rejected" and TransferApproval.objects.count() == 0


def test_recording_a_transfer_sent_twice_at_once_keeps_one_record(
    proposal, operator, second_operator
):
    rebalancing.approve(proposal.pk, operator)

    results = at_once(
        lambda: rebalancing.record_sent(
            proposal.pk, operator, proposal.amount, proposal.fee, "0xaaa"
        ),
        lambda: rebalancing.record_sent(
            proposal.pk, second_operator, proposal.amount, proposal.fee, "0xbbb"
        ),
    )

    won, lost = outcome(results)
    assert (len(won), len(lost)) == (1, 1) and "already sent" in str(lost[0])
    assert P.objects.get(pk=proposal.pk).txid in ("0xaaa", "0xbbb")
    assert AuditEntry.objects.filter(action="transfer sent").count() == 1


def test_two_clicks_on_withdraw_withdraw_once(
    proposal, rebalance_market, operator, second_operator
):
    rebalancing.approve(proposal.pk, operator)

    results = at_once(
        lambda: withdrawals.execute(proposal.pk, operator),
        lambda: withdrawals.execute(proposal.pk, second_operator),
    )

    won, lost = outcome(results)
    assert (len(won), len(lost)) == (1, 1) and isinstance(lost[0], TransferConflict)
    assert PaperTransfer.objects.count() == 1
    assert (
        PaperBalance.objects.get(account=rebalance_market.hedge_account, asset="BTC").free
        == D("3.4") - proposal.amount
    )


def test_trades_and_withdrawals_at_once_lose_no_balance(rebalance_market):
    """The matching engine writes balances back whole; withdrawals take its lock, so neither
    overwrites the other."""
    hedge = rebalance_market.hedge_account
    address = PaperVenue(rebalance_market.mm_account).fetch_deposit_address("BTC")["address"]

    def trade():
        venue = PaperVenue(hedge)
        for _ in range(5):
            order = venue.create_order("BTC/USDT", "limit", "sell", D("0.01"), D("99000"))
            venue.cancel_order(order["id"], "BTC/USDT")

    def withdraw():
        venue = PaperVenue(hedge)
        for _ in range(5):
            venue.withdraw("BTC", D("0.1"), address)

    results = at_once(trade, withdraw)

    assert results == [None, None]
    balance = PaperBalance.objects.get(account=hedge, asset="BTC")
    assert (balance.free, balance.used) == (D("1.5"), D("0"))
