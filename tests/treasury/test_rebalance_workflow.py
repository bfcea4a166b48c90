"""The transfer workflow: every transition, the policy's two-approver rule, who may do what,
and a proposal that moved balances made moot expiring instead of being approved stale."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from bots.models import AuditEntry, RebalancePolicy, TransferProposal
from bots.treasury import rebalancing
from bots.treasury.balances import refresh_balances
from bots.treasury.rebalancing import TransferConflict, TransferError
from bots.venues.paper import PaperVenue
from tests.support.treasury import drain

pytestmark = pytest.mark.django_db
P = TransferProposal


def withdraw_by_hand(p: TransferProposal) -> dict:
    """What the operator does on the exchange before recording it: a withdrawal of the amount."""
    address = PaperVenue(p.destination).fetch_deposit_address(p.asset)["address"]
    sent = PaperVenue(p.source).withdraw(p.asset, p.amount, address, params={"network": p.network})
    refresh_balances(p.source, [p.asset])
    return sent


@pytest.fixture
def proposal(rebalance_market):
    drain(rebalance_market, D("1.4"))
    [p] = rebalancing.plan_transfers()
    return p


def test_the_planner_proposes_refilling_the_drained_account_with_its_reasons(
    proposal, rebalance_market
):
    assert (proposal.source, proposal.destination) == (
        rebalance_market.hedge_account,
        rebalance_market.mm_account,
    )
    assert (proposal.asset, proposal.network, proposal.state, proposal.origin) == (
        "BTC",
        "BTC",
        P.PROPOSED,
        P.PLANNER,
    )
    assert proposal.fee == D("0.0002")
    assert "MM bot @ Own exchange holds 0.60000 BTC, below its minimum 1.00000" in proposal.reason
    before, after = (
        D(proposal.balances["destination"]["before"]),
        D(proposal.balances["destination"]["after"]),
    )
    assert (before, abs(after - 2) <= D("0.0001")) == (D("0.6"), True)
    assert proposal.approvals_required == 1  # 1.4 BTC is under the demo's 2 BTC threshold
    entry = AuditEntry.objects.get(action="transfer proposed")
    assert (entry.actor, entry.subject) == ("rebalance planner", f"transfer {proposal.pk}")
    assert entry.details["balances_now"]["MM bot @ Own exchange"]["total"] == "0.600000000000000000"


def test_planning_again_does_not_propose_the_same_transfer_twice(proposal):
    assert rebalancing.plan_transfers() == []
    assert P.objects.count() == 1


def test_an_operator_approves_and_the_approval_is_audited(proposal, operator):
    done = rebalancing.approve(proposal.pk, operator, "looks right")

    assert done.message == f"Approved transfer #{proposal.pk}: it may be sent."
    proposal.refresh_from_db()
    assert proposal.state == P.APPROVED
    assert [(a.user, a.comment) for a in proposal.approvals.all()] == [(operator, "looks right")]
    entry = AuditEntry.objects.get(action="transfer approved")
    assert (entry.user, entry.reason, entry.details["state"]) == (
        operator,
        "looks right",
        "approved",
    )


def test_above_the_threshold_two_different_operators_must_approve(
    proposal, operator, second_operator
):
    RebalancePolicy.objects.filter(asset="BTC").update(two_approvers_above=D("1"))
    P.objects.filter(pk=proposal.pk).update(approvals_required=2)

    first = rebalancing.approve(proposal.pk, operator)
    assert "Approval 1 of 2" in first.message
    with pytest.raises(TransferConflict, match="already approved"):
        rebalancing.approve(proposal.pk, operator)
    assert P.objects.get(pk=proposal.pk).state == P.PROPOSED

    rebalancing.approve(proposal.pk, second_operator)
    assert P.objects.get(pk=proposal.pk).state == P.APPROVED


def test_the_threshold_is_fixed_when_proposed_from_the_policy(rebalance_market):
    RebalancePolicy.objects.filter(asset="BTC").update(two_approvers_above=D("1"))
    drain(rebalance_market, D("1.4"))

    [p] = rebalancing.plan_transfers()

    assert (p.amount > 1, p.approvals_required) == (True, 2)


def test_nobody_approves_their_own_proposal(rebalance_market, operator):
    drain(rebalance_market, D("1.4"))
    done = rebalancing.propose(
        operator,
        rebalance_market.hedge_account.pk,
        rebalance_market.mm_account.pk,
        "BTC",
        "BTC",
        "1.3",
        "refill",
    )

    with pytest.raises(TransferError, match="You proposed transfer"):
        rebalancing.approve(done.proposal.pk, operator)
    assert P.objects.get(pk=done.proposal.pk).approvals.count() == 0


def test_a_viewer_can_do_nothing(proposal, viewer):
    for command, args in [
        (rebalancing.approve, (proposal.pk, viewer)),
        (rebalancing.reject, (proposal.pk, viewer, "no")),
        (rebalancing.record_sent, (proposal.pk, viewer, "1", "0", "0xabc")),
    ]:
        with pytest.raises(TransferError, match="needs the operator role"):
            command(*args)
    assert P.objects.get(pk=proposal.pk).state == P.PROPOSED


def test_a_rejection_needs_a_reason_and_ends_the_proposal(proposal, operator):
    with pytest.raises(TransferError, match="Say why"):
        rebalancing.reject(proposal.pk, operator, "  ")
    rebalancing.reject(proposal.pk, operator, "the exchange is in maintenance")

    proposal.refresh_from_db()
    assert (proposal.state, proposal.state_note) == (P.REJECTED, "the exchange is in maintenance")
    with pytest.raises(TransferConflict, match="already rejected: the exchange is in maintenance"):
        rebalancing.approve(proposal.pk, operator)


def test_only_the_proposer_or_an_admin_cancels(
    rebalance_market, operator, second_operator, admin_user
):
    drain(rebalance_market, D("1.4"))
    p = rebalancing.propose(
        operator,
        rebalance_market.hedge_account.pk,
        rebalance_market.mm_account.pk,
        "BTC",
        "BTC",
        "1.3",
    ).proposal

    with pytest.raises(TransferError, match="Only whoever proposed it"):
        rebalancing.cancel(p.pk, second_operator)
    rebalancing.cancel(p.pk, admin_user, "duplicate")
    assert P.objects.get(pk=p.pk).state == P.CANCELLED


def test_a_sent_transfer_is_recorded_then_confirmed(proposal, operator):
    rebalancing.approve(proposal.pk, operator)

    with pytest.raises(TransferError, match="at most the"):
        rebalancing.record_sent(proposal.pk, operator, proposal.amount + 1, "0.0002", "0xabc")
    with pytest.raises(TransferError, match="transaction id"):
        rebalancing.record_sent(proposal.pk, operator, proposal.amount, "0.0002", "   ")
    with pytest.raises(TransferError, match="fee must be"):
        rebalancing.record_sent(proposal.pk, operator, proposal.amount, proposal.amount, "0xabc")
    assert P.objects.get(pk=proposal.pk).state == P.APPROVED

    rebalancing.record_sent(proposal.pk, operator, proposal.amount, "0.0002", "0xabc")
    proposal.refresh_from_db()
    assert (proposal.state, proposal.txid, proposal.sent_by) == (P.SENT, "0xabc", operator)
    assert proposal.destination_baseline == D("0.6")

    rebalancing.confirm_arrival(proposal.pk, operator, "seen on the exchange")
    proposal.refresh_from_db()
    assert (proposal.state, proposal.completed_by, proposal.state_note) == (
        P.COMPLETED,
        operator,
        "seen on the exchange",
    )
    assert [e.action for e in AuditEntry.objects.order_by("id")] == [
        "transfer proposed",
        "transfer approved",
        "transfer sent",
        "transfer completed",
    ]


def test_only_an_approved_transfer_is_recorded_as_sent(proposal, operator):
    with pytest.raises(TransferConflict, match="Only an approved transfer"):
        rebalancing.record_sent(proposal.pk, operator, "1", "0", "0xabc")


def test_a_failed_withdrawal_is_marked_with_its_reason(proposal, operator):
    rebalancing.approve(proposal.pk, operator)
    rebalancing.record_sent(proposal.pk, operator, proposal.amount, "0.0002", "0xabc")

    with pytest.raises(TransferError, match="Say what went wrong"):
        rebalancing.mark_failed(proposal.pk, operator, "")
    rebalancing.mark_failed(proposal.pk, operator, "the exchange reversed it")
    assert P.objects.get(pk=proposal.pk).state == P.FAILED


def test_a_proposal_made_moot_by_trading_expires_when_someone_tries_to_approve_it(
    proposal, rebalance_market, operator
):
    drain(rebalance_market, D("-0.1"))  # users sold: the MM account holds 2.1 BTC again

    with pytest.raises(TransferConflict, match="expired instead: .*above its maximum 3"):
        rebalancing.approve(proposal.pk, operator)
    proposal.refresh_from_db()
    assert (proposal.state, proposal.approvals.count()) == (P.EXPIRED, 0)
    assert AuditEntry.objects.filter(action="transfer expired").exists()


def test_the_planner_expires_a_moot_proposal_and_proposes_afresh(proposal, rebalance_market):
    drain(rebalance_market, D("-1.4"))  # now the hedge account is the drained one

    [fresh] = rebalancing.plan_transfers()

    assert P.objects.get(pk=proposal.pk).state == P.EXPIRED
    assert (fresh.source, fresh.destination) == (
        rebalance_market.mm_account,
        rebalance_market.hedge_account,
    )


def test_a_proposal_not_sent_in_time_expires(proposal):
    P.objects.filter(pk=proposal.pk).update(
        created_at=proposal.created_at - __import__("datetime").timedelta(hours=5)
    )

    rebalancing.plan_transfers()

    proposal.refresh_from_db()
    assert (proposal.state, proposal.state_note) == (P.EXPIRED, "not sent within 240 minutes")


def test_a_transfer_in_flight_counts_at_its_destination(proposal, rebalance_market, operator):
    rebalancing.approve(proposal.pk, operator)
    withdraw_by_hand(proposal)
    rebalancing.record_sent(proposal.pk, operator, proposal.amount, "0.0002", "0xabc")

    # Not arrived yet, but the planner does not propose a second refill.
    assert rebalancing.plan_transfers() == []


@pytest.mark.parametrize(
    ("amount", "network", "message"),
    [
        ("0", "BTC", "more than zero"),
        ("lots", "BTC", "is not an amount"),
        ("0.0005", "BTC", "minimum BTC withdrawal over BTC is 0.001"),
        ("0.01", "BTC", r"would be more than 1% of 0.01"),
        ("0.123456789", "BTC", "steps of"),
        ("1", "LIGHTNING", "no BTC withdrawals over 'LIGHTNING'"),
        ("2", "BTC", "can send at most 3.3 BTC"),
    ],
)
def test_bad_input_to_a_proposal_by_hand_is_refused_and_changes_nothing(
    rebalance_market, operator, amount, network, message
):
    drain(rebalance_market, D("1.4") if amount != "2" else D("1.4"))
    if amount == "2":
        amount = "3.4"
    with pytest.raises(TransferError, match=message):
        rebalancing.propose(
            operator,
            rebalance_market.hedge_account.pk,
            rebalance_market.mm_account.pk,
            "BTC",
            network,
            amount,
        )
    assert P.objects.count() == 0
    assert not AuditEntry.objects.filter(action__startswith="transfer").exists()


def test_a_second_proposal_for_an_open_route_is_refused(proposal, rebalance_market, operator):
    with pytest.raises(TransferConflict, match="already open or on its way"):
        rebalancing.propose(
            operator,
            rebalance_market.hedge_account.pk,
            rebalance_market.mm_account.pk,
            "BTC",
            "BTC",
            "0.5",
        )
