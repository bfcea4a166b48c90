"""Withdrawal terms read from the exchange wait for an admin before the planner uses them.

The demo's hedge venue is pointed at the local binance stub (real ccxt, capital/config/getall);
its networks are the demo's (BTC over BTC: fee 0.0002, minimum 0.001; USDT over TRC20: fee 1,
minimum 10), which is what the stub starts with.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.core.management import call_command

from bots.models import AuditEntry, NetworkTermsChange, TransferProposal, WithdrawalNetwork
from bots.simulation.stub_exchanges.binance import BinanceStub
from bots.treasury import network_facts, rebalancing
from bots.treasury.tasks import refresh_network_terms
from tests.support.treasury import drain, hedge_venue_on_stub

pytestmark = pytest.mark.django_db
C = NetworkTermsChange


@pytest.fixture
def stub():
    # The hedge account's holdings once it is read from the stub: 1.5 BTC over its target of 2.
    with BinanceStub(balances={"BTC": "3.5", "USDT": "130000"}) as stub:
        yield stub


@pytest.fixture
def hedge_venue(rebalance_market, stub):
    """The hedge account's venue, now binance through ccxt against the stub."""
    return hedge_venue_on_stub(rebalance_market, stub)


def btc_network(venue) -> WithdrawalNetwork:
    return WithdrawalNetwork.objects.get(venue=venue, asset="BTC", network="BTC")


def planned_btc_fee(market) -> D:
    """The fee of the BTC transfer the planner proposes from the hedge account to the MM one."""
    drain(market, D("1.5"))  # the MM account's paper BTC down to 0.5; the hedge's is the stub's
    [p] = rebalancing.plan_transfers()
    assert (p.source_id, p.asset) == (market.hedge_account_id, "BTC")
    TransferProposal.objects.filter(pk=p.pk).delete()  # so the next plan proposes it afresh
    return p.fee


def test_unchanged_terms_change_nothing(hedge_venue):
    readings = network_facts.refresh()

    assert [r.message for r in readings if r.venue == hedge_venue.name] == [
        f"{hedge_venue.name}: as the planner has it"
    ]
    assert not C.objects.exists()


def test_a_new_fee_waits_for_an_admin_and_the_planner_keeps_the_old_one(
    hedge_venue, stub, rebalance_market, admin_user
):
    stub.networks["BTC"]["BTC"]["withdrawFee"] = "0.0005"

    network_facts.refresh()

    [change] = C.objects.filter(state=C.PENDING)
    assert (change.venue, change.asset, change.network) == (hedge_venue, "BTC", "BTC")
    assert (change.fee_before, change.fee_after) == (D("0.0002"), D("0.0005"))
    assert (change.minimum_before, change.minimum_after) == (D("0.001"), D("0.001"))
    assert btc_network(hedge_venue).fee == D("0.0002")
    assert planned_btc_fee(rebalance_market) == D("0.0002")

    network_facts.refresh()  # read again: still the one change
    assert C.objects.count() == 1

    done = network_facts.accept(change.pk, admin_user)

    assert "fee 0.0002 → 0.0005" in done
    assert btc_network(hedge_venue).fee == D("0.0005")
    assert planned_btc_fee(rebalance_market) == D("0.0005")
    entry = AuditEntry.objects.get(action="network terms accepted")
    assert entry.user == admin_user
    assert (entry.details["before"]["fee"], entry.details["after"]["fee"]) == ("0.0002", "0.0005")


def test_a_network_closed_on_the_exchange_is_a_change_that_closes_it(hedge_venue, stub, admin_user):
    stub.networks["BTC"]["BTC"]["withdrawEnable"] = False

    network_facts.refresh()

    [change] = C.objects.filter(state=C.PENDING)
    assert change.closes and "withdrawals closed" in network_facts.describe_change(change)
    assert btc_network(hedge_venue).enabled  # until an admin accepts

    network_facts.accept(change.pk, admin_user)

    assert not btc_network(hedge_venue).enabled


def test_a_missing_fee_says_so_and_changes_nothing(hedge_venue, stub):
    stub.networks["BTC"]["BTC"]["withdrawMin"] = "0.002"
    del stub.networks["BTC"]["BTC"]["withdrawFee"]

    [reading] = [r for r in network_facts.refresh() if r.venue == hedge_venue.name]

    assert reading.message == (
        f"{hedge_venue.name}: nothing changed: {hedge_venue.name} BTC over BTC: the exchange "
        "gave no withdrawal fee"
    )
    assert not C.objects.exists()  # not even the minimum that did come
    assert hedge_venue.terms_reading.error.endswith("gave no withdrawal fee")
    assert AuditEntry.objects.filter(action="network terms not read").exists()


def test_a_dismissed_change_is_not_raised_again(hedge_venue, stub, admin_user):
    stub.networks["BTC"]["BTC"]["withdrawFee"] = "0.0005"
    network_facts.refresh()
    [change] = C.objects.all()

    network_facts.dismiss(change.pk, admin_user, "a promotion, over tomorrow")
    network_facts.refresh()

    assert not C.objects.filter(state=C.PENDING).exists()
    assert btc_network(hedge_venue).fee == D("0.0002")

    stub.networks["BTC"]["BTC"]["withdrawFee"] = "0.0007"  # a different change is news
    network_facts.refresh()
    assert C.objects.get(state=C.PENDING).fee_after == D("0.0007")


def test_a_change_that_goes_away_on_the_exchange_is_withdrawn(hedge_venue, stub):
    stub.networks["BTC"]["BTC"]["withdrawFee"] = "0.0005"
    network_facts.refresh()
    stub.networks["BTC"]["BTC"]["withdrawFee"] = "0.0002"

    network_facts.refresh()

    assert C.objects.get().state == C.SUPERSEDED


def test_accepting_is_refused_when_the_planner_figures_moved_meanwhile(
    hedge_venue, stub, admin_user
):
    stub.networks["BTC"]["BTC"]["withdrawFee"] = "0.0005"
    network_facts.refresh()
    WithdrawalNetwork.objects.filter(venue=hedge_venue, asset="BTC").update(fee=D("0.0003"))

    with pytest.raises(network_facts.NetworkTermsError, match="changed since"):
        network_facts.accept(C.objects.get().pk, admin_user)

    assert btc_network(hedge_venue).fee == D("0.0003")


def test_only_an_admin_decides(hedge_venue, stub, operator):
    stub.networks["BTC"]["BTC"]["withdrawFee"] = "0.0005"
    network_facts.refresh()

    with pytest.raises(network_facts.NetworkTermsError, match="Only an admin"):
        network_facts.accept(C.objects.get().pk, operator)

    assert btc_network(hedge_venue).fee == D("0.0002")


def test_the_daily_task_and_the_command_read_every_venue(hedge_venue, stub, admin_user, capsys):
    stub.networks["USDT"]["TRX"]["withdrawMin"] = "20"

    assert f"{hedge_venue.name}: 1 change to review" in refresh_network_terms()
    call_command("network_terms", "list")
    assert "USDT over TRC20" in capsys.readouterr().out

    call_command("network_terms", "accept", str(C.objects.get().pk), "--user", admin_user.username)

    assert WithdrawalNetwork.objects.get(venue=hedge_venue, asset="USDT").minimum == D("20")
