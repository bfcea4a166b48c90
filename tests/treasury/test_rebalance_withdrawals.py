"""Withdrawing an approved transfer through the venue: only to a cooled whitelisted address,
sent once even across a crash or a timeout, automatic only when the asset's policy says so."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import ccxt
import pytest
from django.test import override_settings
from django.utils import timezone

from bots.models import (
    AuditEntry,
    PaperBalance,
    PaperTransfer,
    RebalancePolicy,
    TransferProposal,
    WhitelistAddress,
)
from bots.treasury import rebalancing, withdrawals
from bots.treasury import tasks as treasury_tasks
from bots.treasury.balances import refresh_balances
from bots.treasury.rebalancing import TransferConflict, TransferError
from bots.treasury.withdrawals import WithdrawalRetry
from bots.venues.paper import PaperVenue
from tests.support.users import make_user

pytestmark = pytest.mark.django_db
P = TransferProposal


@pytest.fixture
def approved(rebalance_market, operator):
    PaperBalance.objects.filter(account=rebalance_market.mm_account, asset="BTC").update(
        free=D("0.6")
    )
    PaperBalance.objects.filter(account=rebalance_market.hedge_account, asset="BTC").update(
        free=D("3.4")
    )
    for account in (rebalance_market.mm_account, rebalance_market.hedge_account):
        refresh_balances(account, ["BTC"])
    [p] = rebalancing.plan_transfers()
    rebalancing.approve(p.pk, operator)
    p.refresh_from_db()
    return p


def hedge_btc(market) -> D:
    return PaperBalance.objects.get(account=market.hedge_account, asset="BTC").free


def test_an_operator_withdraws_through_the_venue_to_the_whitelisted_address(
    approved, rebalance_market, operator
):
    done = withdrawals.execute(approved.pk, operator)

    approved.refresh_from_db()
    [sent] = PaperTransfer.objects.all()
    assert "withdrawn through External exchange" in done.message
    assert (approved.state, approved.withdrawal_id, approved.txid) == (
        P.SENT,
        sent.withdrawal_id,
        sent.txid,
    )
    assert (approved.sent_amount, approved.sent_fee, approved.sent_by) == (
        approved.amount,
        D("0.0002"),
        operator,
    )
    assert sent.client_id == f"ballast-{approved.pk}"
    assert (
        sent.address
        == WhitelistAddress.objects.get(account=rebalance_market.mm_account, asset="BTC").address
    )
    assert hedge_btc(rebalance_market) == D("3.4") - approved.amount
    assert [
        e.action
        for e in AuditEntry.objects.filter(subject=f"transfer {approved.pk}").order_by("id")
    ][-2:] == ["transfer sending", "transfer sent"]
    with pytest.raises(TransferConflict, match="already sent"):
        withdrawals.execute(approved.pk, operator)
    assert PaperTransfer.objects.count() == 1


def test_an_address_still_cooling_is_not_used(approved, rebalance_market, operator):
    WhitelistAddress.objects.update(usable_from=timezone.now() + timedelta(hours=3))

    with pytest.raises(TransferError, match="usable before"):
        withdrawals.execute(approved.pk, operator)
    assert P.objects.get(pk=approved.pk).state == P.APPROVED
    assert PaperTransfer.objects.count() == 0


def test_a_removed_address_is_not_used(approved, operator, admin_user):
    entry = WhitelistAddress.objects.get(account=approved.destination, asset="BTC")
    withdrawals.remove_address(admin_user, entry.pk)

    with pytest.raises(TransferError, match="on file"):
        withdrawals.execute(approved.pk, operator)


def test_an_unreachable_venue_leaves_the_transfer_approved_for_a_retry(
    approved, rebalance_market, operator
):
    venue = rebalance_market.hedge_account.venue
    venue.fault = "ExchangeNotAvailable"
    venue.save()

    with pytest.raises(WithdrawalRetry):
        withdrawals.execute(approved.pk, operator)
    approved.refresh_from_db()
    assert (approved.state, approved.state_note.startswith("withdrawal not made")) == (
        P.APPROVED,
        True,
    )
    assert PaperTransfer.objects.count() == 0


def test_a_refused_withdrawal_fails_the_transfer(approved, rebalance_market, operator):
    PaperBalance.objects.filter(account=rebalance_market.hedge_account, asset="BTC").update(
        free=D("0.1")
    )

    done = withdrawals.execute(approved.pk, operator)

    approved.refresh_from_db()
    assert approved.state == P.FAILED
    assert "InsufficientFunds" in approved.state_note and "failed" in done.message


def test_a_withdrawal_whose_answer_was_lost_is_found_not_sent_again(
    approved, rebalance_market, operator, monkeypatch
):
    real = PaperVenue.withdraw

    def accepted_then_lost(self, *args, **kwargs):
        real(self, *args, **kwargs)
        raise ccxt.RequestTimeout("the answer never came")

    monkeypatch.setattr(PaperVenue, "withdraw", accepted_then_lost)
    withdrawals.execute(approved.pk, operator)

    approved.refresh_from_db()
    [sent] = PaperTransfer.objects.all()
    assert (approved.state, approved.withdrawal_id) == (P.SENT, sent.withdrawal_id)


def test_a_worker_that_died_mid_withdrawal_is_settled_by_asking_the_venue(
    approved, rebalance_market
):
    # The dead run had marked it sending and the venue had taken the withdrawal.
    P.objects.filter(pk=approved.pk).update(
        state=P.SENDING,
        address=WhitelistAddress.objects.get(account=approved.destination, asset="BTC").address,
        updated_at=timezone.now() - timedelta(minutes=5),
    )
    address = P.objects.get(pk=approved.pk).address
    PaperVenue(approved.source).withdraw(
        "BTC", approved.amount, address, params={"withdrawOrderId": approved.client_id}
    )
    assert withdrawals.settle_sending() == 1
    assert P.objects.get(pk=approved.pk).state == P.SENT
    assert PaperTransfer.objects.count() == 1


def test_a_sending_transfer_the_venue_never_saw_is_approved_again(approved):
    P.objects.filter(pk=approved.pk).update(
        state=P.SENDING, updated_at=timezone.now() - timedelta(minutes=5)
    )

    withdrawals.settle_sending()

    assert P.objects.get(pk=approved.pk).state == P.APPROVED


@pytest.fixture
def queued_withdrawals(monkeypatch):
    """execute_transfer.delay, run here and now instead of through the broker; the ids queued."""
    ids = []

    def run_now(proposal_id):
        ids.append(proposal_id)
        return treasury_tasks.execute_transfer.apply((proposal_id,))

    monkeypatch.setattr(treasury_tasks.execute_transfer, "delay", run_now)
    return ids


def proposed(market):
    PaperBalance.objects.filter(account=market.mm_account, asset="BTC").update(free=D("0.6"))
    PaperBalance.objects.filter(account=market.hedge_account, asset="BTC").update(free=D("3.4"))
    for account in (market.mm_account, market.hedge_account):
        refresh_balances(account, ["BTC"])
    [p] = rebalancing.plan_transfers()
    return p


def test_automatic_execution_is_off_by_default(
    rebalance_market, operator, queued_withdrawals, django_capture_on_commit_callbacks
):
    p = proposed(rebalance_market)

    with django_capture_on_commit_callbacks(execute=True):
        done = rebalancing.approve(p.pk, operator)

    assert "Automatic" not in done.message
    assert queued_withdrawals == []
    assert (P.objects.get(pk=p.pk).state, PaperTransfer.objects.count()) == (P.APPROVED, 0)


def test_when_opted_in_an_approved_transfer_is_withdrawn_automatically(
    rebalance_market, operator, queued_withdrawals, django_capture_on_commit_callbacks
):
    RebalancePolicy.objects.filter(asset="BTC").update(auto_execute=True)
    p = proposed(rebalance_market)

    with django_capture_on_commit_callbacks(execute=True):
        done = rebalancing.approve(p.pk, operator)

    assert "Ballast withdraws it now" in done.message
    assert queued_withdrawals == [p.pk]
    p.refresh_from_db()
    assert (p.state, p.sent_by) == (P.SENT, None)
    sent = AuditEntry.objects.get(action="transfer sent")
    assert (sent.user, sent.actor) == (None, "automatic execution")
    assert PaperTransfer.objects.get().client_id == p.client_id


def test_automatic_execution_without_a_usable_address_leaves_it_for_a_person(
    rebalance_market, operator, queued_withdrawals, django_capture_on_commit_callbacks
):
    RebalancePolicy.objects.filter(asset="BTC").update(auto_execute=True)
    WhitelistAddress.objects.update(usable_from=timezone.now() + timedelta(hours=1))
    p = proposed(rebalance_market)

    with django_capture_on_commit_callbacks(execute=True):
        rebalancing.approve(p.pk, operator)

    assert P.objects.get(pk=p.pk).state == P.APPROVED
    note = AuditEntry.objects.get(action="transfer not withdrawn")
    assert (note.actor, "usable before" in note.reason) == ("automatic execution", True)


# --- the whitelist --------------------------------------------------------------------------


@override_settings(WHITELIST_COOLING_HOURS=24)
def test_an_address_needs_a_second_admin_then_waits_out_its_cooling_period(
    rebalance_market, admin_user
):
    entry = withdrawals.add_address(
        admin_user, rebalance_market.mm_account.pk, "eth", "erc20", "0xabc", label="cold"
    )

    assert (entry.asset, entry.network, entry.added_by) == ("ETH", "ERC20", admin_user)
    assert entry.awaiting_second_admin
    audit = AuditEntry.objects.get(action="whitelist added")
    assert (audit.user, audit.details["address"]) == (admin_user, "0xabc")
    with pytest.raises(TransferError, match="a second admin must confirm it"):
        withdrawals.confirm_address(admin_user, entry.pk)
    entry.refresh_from_db()
    assert entry.awaiting_second_admin and entry.confirmed_by is None

    second = make_user("grace", "admin")
    confirmed = withdrawals.confirm_address(second, entry.pk)

    assert (confirmed.awaiting_second_admin, confirmed.confirmed_by) == (False, second)
    assert (
        timedelta(hours=23, minutes=59) < confirmed.usable_from - timezone.now() <= timedelta(hours=24)
    )
    audit = AuditEntry.objects.get(action="whitelist confirmed")
    assert (audit.user, audit.details["address"]) == (second, "0xabc")
    with pytest.raises(TransferConflict, match="confirmed already"):
        withdrawals.confirm_address(second, entry.pk)


def test_an_unconfirmed_address_is_never_withdrawn_to(approved, operator):
    # The destination's address as a single admin would leave it: added, cooled, unconfirmed.
    WhitelistAddress.objects.filter(account=approved.destination, asset="BTC").update(
        awaiting_second_admin=True, usable_from=timezone.now() - timedelta(hours=1)
    )

    with pytest.raises(TransferError, match="awaits a second admin's confirmation"):
        withdrawals.execute(approved.pk, operator)
    assert P.objects.get(pk=approved.pk).state == P.APPROVED
    assert PaperTransfer.objects.count() == 0


def test_operators_cannot_change_the_whitelist(rebalance_market, operator):
    entry = WhitelistAddress.objects.first()
    with pytest.raises(TransferError, match="admin role"):
        withdrawals.add_address(operator, rebalance_market.mm_account.pk, "ETH", "ERC20", "0xabc")
    with pytest.raises(TransferError, match="admin role"):
        withdrawals.remove_address(operator, entry.pk)
    assert WhitelistAddress.objects.filter(removed_at__isnull=True).count() == 4


@pytest.mark.parametrize(
    ("address", "network", "message"),
    [
        ("", "BTC", "1 to 200 characters"),
        ("has space", "BTC", "without spaces"),
        ("0xabc", "", "Name the asset and the network"),
    ],
)
def test_bad_whitelist_input_changes_nothing(
    rebalance_market, admin_user, address, network, message
):
    with pytest.raises(TransferError, match=message):
        withdrawals.add_address(admin_user, rebalance_market.mm_account.pk, "ETH", network, address)
    assert not WhitelistAddress.objects.filter(asset="ETH").exists()


def test_one_live_address_per_account_asset_and_network(rebalance_market, admin_user):
    with pytest.raises(TransferError, match="remove it first"):
        withdrawals.add_address(
            admin_user, rebalance_market.mm_account.pk, "BTC", "BTC", "bc1qnewaddress"
        )


def test_removing_an_address_is_recorded_and_happens_once(rebalance_market, admin_user):
    entry = WhitelistAddress.objects.first()
    withdrawals.remove_address(admin_user, entry.pk)

    entry.refresh_from_db()
    assert (entry.removed_by, entry.removed_at is not None) == (admin_user, True)
    assert AuditEntry.objects.filter(action="whitelist removed").count() == 1
    with pytest.raises(TransferConflict, match="not on the whitelist"):
        withdrawals.remove_address(admin_user, entry.pk)
