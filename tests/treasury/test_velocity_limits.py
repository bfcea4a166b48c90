"""Velocity limits per asset: the amount and count of transfers approved within a rolling
window, across all accounts. Over a limit a transfer needs one more approval; it never goes
through silently, and the window's edge is exact."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.utils import timezone

from bots.models import AuditEntry, RebalancePolicy, TransferProposal
from bots.treasury import rebalancing
from bots.treasury.velocity import over_limit
from tests.support.treasury import drain
from tests.support.users import make_user

pytestmark = pytest.mark.django_db
P = TransferProposal


@pytest.fixture
def proposal(rebalance_market):
    drain(rebalance_market, D("1.4"))
    [p] = rebalancing.plan_transfers()
    assert p.approvals_required == 1
    return p


def earlier_transfer(p: TransferProposal, amount: str, approved_ago: timedelta, state=P.COMPLETED):
    """A transfer of the same asset between other accounts, approved `approved_ago`."""
    from bots.models import Account, Venue

    venue = Venue.objects.create(name=f"v{P.objects.count()}", label="elsewhere", kind="paper")
    a = Account.objects.create(venue=venue, name="a", role="hedge")
    b = Account.objects.create(venue=venue, name="b", role="hedge")
    return P.objects.create(
        asset=p.asset, network=p.network, source=a, destination=b, amount=D(amount),
        origin=P.MANUAL, reason="earlier", state=state,
        approved_at=timezone.now() - approved_ago,
    )


def set_limits(**limits):
    RebalancePolicy.objects.filter(asset="BTC").update(**limits)


def test_under_the_limits_one_approval_still_does(proposal, operator):
    set_limits(velocity_amount=D("10"), velocity_count=5)
    earlier_transfer(proposal, "5", timedelta(hours=1))

    rebalancing.approve(proposal.pk, operator)

    proposal.refresh_from_db()
    assert (proposal.state, proposal.over_velocity, proposal.approved_at is not None) == (
        P.APPROVED, "", True
    )


def test_over_the_amount_a_transfer_needs_one_more_approval(proposal, operator, second_operator):
    set_limits(velocity_amount=D("6"))
    earlier_transfer(proposal, "5", timedelta(hours=23))

    first = rebalancing.approve(proposal.pk, operator)

    proposal.refresh_from_db()
    assert proposal.state == P.PROPOSED and proposal.approvals_required == 2
    assert "over the velocity limit of 6" in first.message
    assert "over the velocity limit" in proposal.over_velocity
    entry = AuditEntry.objects.get(action="transfer approval")
    assert entry.details["over_velocity"] == proposal.over_velocity
    with pytest.raises(rebalancing.TransferConflict, match="already approved"):
        rebalancing.approve(proposal.pk, operator)

    rebalancing.approve(proposal.pk, second_operator)
    assert P.objects.get(pk=proposal.pk).state == P.APPROVED


def test_over_the_count_a_transfer_needs_one_more_approval(proposal, operator):
    set_limits(velocity_count=2)
    earlier_transfer(proposal, "0.1", timedelta(hours=2))
    earlier_transfer(proposal, "0.1", timedelta(hours=3))

    rebalancing.approve(proposal.pk, operator)

    proposal.refresh_from_db()
    assert proposal.state == P.PROPOSED and "3 BTC transfers" in proposal.over_velocity


def test_the_window_edge_a_transfer_just_outside_does_not_count(proposal):
    policy = RebalancePolicy.objects.get(asset="BTC")
    policy.velocity_amount = D("2")
    now = timezone.now()
    earlier = earlier_transfer(proposal, "1", timedelta(minutes=1440))
    P.objects.filter(pk=earlier.pk).update(approved_at=now - timedelta(minutes=1440))

    assert over_limit(proposal, policy, now=now) == ""  # exactly a day ago: out of the window
    assert over_limit(proposal, policy, now=now - timedelta(seconds=1)) != ""  # a second inside


@pytest.mark.parametrize("state", [P.REJECTED, P.CANCELLED, P.EXPIRED])
def test_transfers_that_never_moved_do_not_count(proposal, state):
    policy = RebalancePolicy.objects.get(asset="BTC")
    policy.velocity_count = 1
    earlier_transfer(proposal, "9", timedelta(hours=1), state=state)

    assert over_limit(proposal, policy) == ""


def test_transfers_in_flight_count_across_all_accounts(proposal):
    policy = RebalancePolicy.objects.get(asset="BTC")
    policy.velocity_amount = D("3")
    earlier_transfer(proposal, "1", timedelta(hours=1), state=P.SENT)
    earlier_transfer(proposal, "1", timedelta(hours=1), state=P.APPROVED)

    assert "over the velocity limit of 3" in over_limit(proposal, policy)


def test_automatic_execution_waits_for_the_extra_approval(
    proposal, operator, second_operator, django_capture_on_commit_callbacks
):
    """With automatic withdrawal on, a transfer over the limit is not withdrawn on the first
    approval: nothing is due until the second."""
    from bots.platform import events

    due = []

    def receiver(**kw):
        due.append(kw["proposal_id"])

    events.withdrawal_due.connect(receiver, weak=False)
    try:
        set_limits(velocity_amount=D("1"), auto_execute=True)
        with django_capture_on_commit_callbacks(execute=True):
            rebalancing.approve(proposal.pk, operator)
        assert due == [] and P.objects.get(pk=proposal.pk).state == P.PROPOSED
        with django_capture_on_commit_callbacks(execute=True):
            rebalancing.approve(proposal.pk, second_operator)
        assert due == [proposal.pk]
    finally:
        events.withdrawal_due.disconnect(receiver)


def test_a_proposal_past_its_lifetime_expires_and_never_executes(proposal, operator):
    """Approvals block: running out of time ends a proposal, it never approves or sends it."""
    P.objects.filter(pk=proposal.pk).update(approvals_required=2)
    rebalancing.approve(proposal.pk, operator)
    ttl = RebalancePolicy.objects.get(asset="BTC").proposal_ttl_minutes
    P.objects.filter(pk=proposal.pk).update(
        created_at=timezone.now() - timedelta(minutes=ttl + 1)
    )

    rebalancing.plan_transfers()

    proposal.refresh_from_db()
    assert proposal.state == P.EXPIRED and proposal.approved_at is None
    with pytest.raises(rebalancing.TransferConflict):
        rebalancing.approve(proposal.pk, make_user("otto", "operator"))
