"""A network an exchange reports closed blocks the transfers over it: withdrawals closed on the
source or deposits closed on the destination, found by the withdrawal terms refresh, keep a
proposed or approved transfer unsent with the reason on its card and an alert, refuse its
withdrawal, and keep the planner off that route; the exchange opening it again frees them.
Binance stub as the source, HollaEx stub as the destination, through the real ccxt."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from bots.models import Alert, AuditEntry, NetworkClosure, TransferProposal
from bots.simulation.stub_exchanges.binance import BinanceStub
from bots.treasury import network_facts, rebalancing, withdrawals
from bots.treasury.rebalancing import TransferError
from tests.support.treasury import (
    OWN_DEPOSIT_ADDRESS,
    approved_stub_transfer,
    drain,
    hedge_venue_on_stub,
    withdrawal_stubs,
)

pytestmark = pytest.mark.django_db
P = TransferProposal
OURS = OWN_DEPOSIT_ADDRESS


@pytest.fixture
def stubs():
    with withdrawal_stubs() as pair:
        yield pair


@pytest.fixture
def transfer(stubs):
    return approved_stub_transfer(*stubs)


def test_withdrawals_closed_on_the_source_block_the_transfer_until_they_open(
    stubs, transfer, client, viewer
):
    source, _ = stubs
    source.set_network("BTC", "BTC", withdraw=False)

    network_facts.refresh()

    transfer.refresh_from_db()
    assert transfer.state == P.APPROVED
    assert transfer.state_note.startswith(
        "blocked: Binance (binance-stub) reports withdrawals of BTC over BTC closed (since "
    )
    alert = Alert.objects.get(kind=Alert.NETWORK_CLOSED)
    assert (alert.state, alert.action_url) == (Alert.OPEN, f"/rebalance/#transfer-{transfer.pk}")
    assert "withdrawals of BTC over BTC closed" in alert.message
    assert AuditEntry.objects.filter(action="network closed").count() == 1
    assert AuditEntry.objects.filter(action="transfer network closed").count() == 1
    client.force_login(viewer)
    assert "reports withdrawals of BTC over BTC closed" in client.get("/rebalance/").content.decode()
    settings_page = client.get("/rebalance/settings/").content.decode()
    assert "Closed on the exchanges now" in settings_page
    assert "withdrawals of BTC over BTC on Binance (binance-stub) (since" in settings_page

    with pytest.raises(TransferError, match="not withdrawn, blocked: .* withdrawals of BTC"):
        withdrawals.execute(transfer.pk)
    assert source.withdrawals == [] and P.objects.get(pk=transfer.pk).state == P.APPROVED

    network_facts.refresh()  # read again, still closed: nothing new in the log
    assert AuditEntry.objects.filter(action="transfer network closed").count() == 1
    assert Alert.objects.filter(kind=Alert.NETWORK_CLOSED).count() == 1

    source.set_network("BTC", "BTC", withdraw=True)
    network_facts.refresh()

    transfer.refresh_from_db()
    assert transfer.state_note == "" and not NetworkClosure.objects.exists()
    assert "Closed on the exchanges now" not in client.get("/rebalance/settings/").content.decode()
    assert Alert.objects.get(kind=Alert.NETWORK_CLOSED).state == Alert.RESOLVED
    assert AuditEntry.objects.filter(action="network reopened").count() == 1
    withdrawals.execute(transfer.pk)
    assert P.objects.get(pk=transfer.pk).state == P.SENT
    assert [w["address"] for w in source.withdrawals] == [OURS]


def test_deposits_closed_on_the_destination_block_a_proposed_transfer_too(stubs, transfer):
    _, destination = stubs
    P.objects.filter(pk=transfer.pk).update(state=P.PROPOSED)
    destination.set_coin("btc", deposit=False)

    network_facts.refresh()

    transfer.refresh_from_db()
    assert transfer.state == P.PROPOSED
    assert "HollaEx (hollaex-stub) reports deposits of BTC over BTC closed" in transfer.state_note
    [closure] = NetworkClosure.objects.all()
    assert (closure.venue.name, closure.side) == ("hollaex-stub", NetworkClosure.DEPOSIT)
    assert Alert.objects.get(kind=Alert.NETWORK_CLOSED).state == Alert.OPEN

    destination.set_coin("btc", deposit=True)
    network_facts.refresh()

    assert P.objects.get(pk=transfer.pk).state_note == ""
    assert Alert.objects.get(kind=Alert.NETWORK_CLOSED).state == Alert.RESOLVED


def test_an_unreadable_exchange_keeps_what_the_last_reading_found(stubs, transfer):
    source, _ = stubs
    source.set_network("BTC", "BTC", withdraw=False)
    network_facts.refresh()
    source.set_network("BTC", "BTC", withdraw=True)
    source.fail_next(503, count=5, only="GET /sapi/v1/capital/config/getall")

    network_facts.refresh()

    assert NetworkClosure.objects.count() == 1
    assert P.objects.get(pk=transfer.pk).state_note.startswith("blocked: ")


def test_the_planner_proposes_nothing_over_a_closed_network(rebalance_market):
    with BinanceStub(balances={"BTC": "3.5", "USDT": "130000"}) as stub:
        hedge_venue_on_stub(rebalance_market, stub)
        stub.set_network("BTC", "BTC", withdraw=False)
        network_facts.refresh()
        drain(rebalance_market, D("1.5"))

        assert not [p for p in rebalancing.plan_transfers() if p.asset == "BTC"]

        stub.set_network("BTC", "BTC", withdraw=True)
        network_facts.refresh()
        assert [p.asset for p in rebalancing.plan_transfers()] == ["BTC"]
