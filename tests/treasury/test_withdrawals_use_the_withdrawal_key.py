"""A withdrawal through the venue is signed with the account's withdrawal key where it has one,
and with its trading key otherwise: against the binance stub, which refuses a withdrawal from a
key that may not withdraw, as binance does."""

from __future__ import annotations

import pytest

from bots.models import Account, TransferProposal
from bots.simulation.stub_exchanges.binance import BinanceStub
from bots.treasury import withdrawals
from bots.venues.clients import forget_clients
from tests.support.ccxt_accounts import stub_account
from tests.support.treasury import approved_transfer

pytestmark = pytest.mark.django_db
P = TransferProposal
ADDRESS = "bc1qballastmmaccountdepositaddress0"


@pytest.fixture
def stub():
    forget_clients()
    with BinanceStub(balances={"BTC": "1", "USDT": "1000"}) as stub:
        yield stub
    forget_clients()


@pytest.fixture
def transfer(stub):
    source = stub_account(stub, "binance-hedge")
    destination = stub_account(stub, "binance-mm", role=Account.MARKET_MAKING)
    stub.deposit_addresses[("BTC", "BTC")] = (ADDRESS, "")  # what the destination reports
    return approved_transfer(source, destination, ADDRESS)


def test_a_withdrawal_is_signed_with_the_withdrawal_key(stub, transfer):
    transfer.source.set_withdrawal_credentials(stub.WITHDRAW_API_KEY, stub.WITHDRAW_SECRET)
    transfer.source.save()

    withdrawals.execute(transfer.pk)

    transfer.refresh_from_db()
    [sent] = stub.withdrawals
    assert (transfer.state, transfer.withdrawal_id) == (P.SENT, sent["id"])
    assert (sent["address"], sent["withdrawOrderId"]) == (ADDRESS, transfer.client_id)


def test_without_a_withdrawal_key_the_trading_key_withdraws(stub, transfer):
    stub.restrictions[stub.API_KEY]["enableWithdrawals"] = True  # one key that does both

    withdrawals.execute(transfer.pk)

    assert P.objects.get(pk=transfer.pk).state == P.SENT
    assert len(stub.withdrawals) == 1


def test_a_trade_only_key_cannot_withdraw(stub, transfer):
    # What withdrawing with the trading key beside a withdrawal key would meet.
    withdrawals.execute(transfer.pk)

    transfer.refresh_from_db()
    assert transfer.state == P.FAILED
    assert "not authorized" in transfer.state_note
    assert stub.withdrawals == []
