"""A transfer from a HollaEx account is withdrawn through ccxt's hollaex class (POST
/v2/user/withdrawal) and watched to arrival through its withdrawals listing: the kit names a new
withdrawal only by its reference, which the listing turns into its id; the network's hash, once
the source lists it, finds the deposit on the destination (binance stub). A withdrawal the kit
rejects ends the transfer as failed, and one retried after a lost answer is found, not sent
twice, though the kit keeps no client id."""

from __future__ import annotations

from decimal import Decimal as D
from unittest import mock

import ccxt
import pytest

from bots.models import TransferProposal
from bots.simulation.stub_exchanges.binance import BinanceStub
from bots.simulation.stub_exchanges.hollaex import HollaExStub
from bots.treasury import withdrawals
from bots.treasury.transfer_watch import watch_transfers
from bots.venues.ccxt_venue import CcxtVenue
from bots.venues.clients import forget_clients
from tests.support.ccxt_accounts import hollaex_account, stub_account
from tests.support.treasury import approved_transfer

pytestmark = pytest.mark.django_db
P = TransferProposal
OURS = "bc1qstubbinancebotdeposit0000000000"  # the binance stub's BTC deposit address


@pytest.fixture
def stubs():
    forget_clients()
    with HollaExStub(balances={"BTC": "1"}) as source, BinanceStub() as destination:
        yield source, destination
    forget_clients()


@pytest.fixture
def transfer(stubs):
    source, destination = stubs
    return approved_transfer(hollaex_account(source), stub_account(destination), OURS,
                             amount="0.1")


def test_a_transfer_from_hollaex_is_withdrawn_and_watched_to_arrival(stubs, transfer):
    source, destination = stubs

    withdrawals.execute(transfer.pk)

    transfer.refresh_from_db()
    [row] = source.withdrawals
    assert (row["address"], row["amount"], row["currency"]) == (OURS, 0.1, "btc")
    assert (transfer.state, transfer.withdrawal_id, transfer.txid) == (P.SENT, "1", "")
    assert source.balance("BTC")[0] == D("0.9")

    # Less than expected (the destination took its own fee): only the hash links it.
    destination.deposit("BTC", "0.09", "0xbeef")
    assert watch_transfers()["arrived"] == 0

    source.complete_withdrawal(txid="0xbeef")
    assert watch_transfers()["arrived"] == 1

    transfer.refresh_from_db()
    assert (transfer.state, transfer.txid, transfer.arrival_ref) == (P.COMPLETED, "0xbeef", "0xbeef")


def test_a_withdrawal_the_kit_rejects_ends_the_transfer_as_failed(stubs, transfer):
    source, _ = stubs
    withdrawals.execute(transfer.pk)

    source.end_withdrawal("rejected")
    assert watch_transfers()["failed"] == 1

    transfer.refresh_from_db()
    assert transfer.state == P.FAILED and "failed" in transfer.state_note
    assert source.balance("BTC")[0] == D("1")


def test_a_withdrawal_over_a_closed_coin_is_refused_by_the_kit(stubs, transfer):
    source, _ = stubs
    source.set_coin("btc", withdraw=False)

    withdrawals.execute(transfer.pk)

    transfer.refresh_from_db()
    assert transfer.state == P.FAILED and "Withdrawal is disabled for btc" in transfer.state_note
    assert source.withdrawals == []


def test_a_lost_answer_finds_the_withdrawal_instead_of_sending_it_again(stubs, transfer):
    source, _ = stubs
    real = CcxtVenue.withdraw

    def sent_then_lost(self, *args, **kwargs):
        real(self, *args, **kwargs)
        raise ccxt.RequestTimeout("hollaex POST https://stub/v2/user/withdrawal timed out")

    with mock.patch.object(CcxtVenue, "withdraw", autospec=True, side_effect=sent_then_lost):
        withdrawals.execute(transfer.pk)

    transfer.refresh_from_db()
    assert (transfer.state, transfer.withdrawal_id) == (P.SENT, "1")
    assert len(source.withdrawals) == 1
