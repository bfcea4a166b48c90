"""Before a transfer to one of our own accounts is withdrawn, the destination exchange's own
deposit address is checked against the whitelist: the same address lets it through, another
blocks it (approved and unsent, said on its card, an alert), an exchange without the call lets
the whitelist decide, and an answer that cannot be read changes nothing. Binance stub as the
source, HollaEx stub as the destination, through the real ccxt."""

from __future__ import annotations

import json
from unittest import mock

import ccxt
import pytest
from django.utils.html import escape

from bots.models import Alert, AuditEntry, TransferProposal
from bots.treasury import withdrawals
from bots.treasury.rebalancing import TransferError
from bots.treasury.withdrawals import WithdrawalRetry
from bots.venues.ccxt_venue import CcxtVenue
from tests.support.treasury import (
    OWN_DEPOSIT_ADDRESS,
    approved_stub_transfer,
    withdrawal_stubs,
)

pytestmark = pytest.mark.django_db
P = TransferProposal
OURS = OWN_DEPOSIT_ADDRESS
THEIRS = "bc1qsomebodyelsesaddress0000000000"


@pytest.fixture
def stubs():
    with withdrawal_stubs() as pair:
        yield pair


@pytest.fixture
def transfer(stubs):
    return approved_stub_transfer(*stubs)


def sending_entry(p) -> AuditEntry:
    return AuditEntry.objects.get(action="transfer sending", subject=f"transfer {p.pk}")


def test_the_address_the_exchange_reports_lets_the_transfer_through(stubs, transfer):
    source, _ = stubs

    withdrawals.execute(transfer.pk)

    assert P.objects.get(pk=transfer.pk).state == P.SENT
    assert [w["address"] for w in source.withdrawals] == [OURS]
    assert f"as reported by the venue: {OURS}" in sending_entry(transfer).details["address_check"]


def test_another_address_blocks_the_transfer_with_an_alert_on_its_card(
    stubs, transfer, client, viewer
):
    source, destination = stubs
    destination.deposit_addresses[("btc", "btc")] = (THEIRS, "")

    with pytest.raises(TransferError, match="blocked: the venue reports"):
        withdrawals.execute(transfer.pk)

    transfer.refresh_from_db()
    assert transfer.state == P.APPROVED and source.withdrawals == []
    assert THEIRS in transfer.state_note and OURS in transfer.state_note
    alert = Alert.objects.get(kind=Alert.ADDRESS_MISMATCH)
    assert (alert.state, alert.action_url) == (Alert.OPEN, f"/rebalance/#transfer-{transfer.pk}")
    assert THEIRS in alert.message
    assert AuditEntry.objects.filter(action="transfer address mismatch").count() == 1
    client.force_login(viewer)
    page = client.get("/rebalance/").content.decode()
    assert f"<p class=\"error\" data-state-note>{escape(transfer.state_note)}</p>" in page

    # The exchange reports the whitelisted address again: it goes, and the alert ends.
    destination.deposit_addresses[("btc", "btc")] = (OURS, "")
    withdrawals.execute(transfer.pk)
    assert P.objects.get(pk=transfer.pk).state == P.SENT
    assert Alert.objects.get(kind=Alert.ADDRESS_MISMATCH).state == Alert.RESOLVED


def test_a_tag_the_whitelist_lacks_blocks_it_too(stubs, transfer):
    _, destination = stubs
    destination.deposit_addresses[("btc", "btc")] = (OURS, "123")

    with pytest.raises(TransferError, match=r"tag 123"):
        withdrawals.execute(transfer.pk)
    assert P.objects.get(pk=transfer.pk).state == P.APPROVED


def test_an_exchange_without_the_call_sends_on_the_whitelist_alone(stubs, transfer):
    with mock.patch.object(
        CcxtVenue, "fetch_deposit_address", autospec=True,
        side_effect=ccxt.NotSupported("hollaex fetchDepositAddress() is not supported yet"),
    ):
        withdrawals.execute(transfer.pk)

    assert P.objects.get(pk=transfer.pk).state == P.SENT
    assert "does not report deposit addresses" in sending_entry(transfer).details["address_check"]


@pytest.mark.parametrize(
    ("status", "body", "raised"),
    [
        (503, None, WithdrawalRetry),  # unreachable: the automatic execution retries
        (200, json.dumps({"id": 1, "wallet": []}), TransferError),  # no address at all
        (200, json.dumps({"id": 1, "wallet": [{"currency": "btc", "network": "btc",
                                               "address": None}]}), TransferError),
    ],
)
def test_an_answer_that_cannot_be_read_changes_nothing(stubs, transfer, status, body, raised):
    source, destination = stubs
    destination.fail_next(status, body, only="GET /v2/user")

    with pytest.raises(raised):
        withdrawals.execute(transfer.pk)

    transfer.refresh_from_db()
    assert (transfer.state, transfer.state_note) == (P.APPROVED, "")
    assert source.withdrawals == [] and not Alert.objects.exists()
