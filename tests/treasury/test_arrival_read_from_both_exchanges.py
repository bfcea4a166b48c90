"""A transfer withdrawn through the API is followed on both exchanges, through the real ccxt:
the source's withdrawal history (binance stub) gives the transaction's hash, which finds the
deposit on the destination (HollaEx stub) even when its amount is not the one expected; a
withdrawal the source reports canceled or failed ends the transfer as failed; matching by
amount stays the fallback."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from bots.models import AuditEntry, TransferProposal
from bots.simulation.stub_exchanges.binance import BinanceStub
from bots.simulation.stub_exchanges.hollaex import HollaExStub
from bots.treasury import withdrawals
from bots.treasury.transfer_watch import watch_transfers
from bots.venues.clients import forget_clients
from tests.support.ccxt_accounts import hollaex_account, stub_account
from tests.support.treasury import approved_transfer

pytestmark = pytest.mark.django_db
P = TransferProposal
OURS = "bc1qballastownexchangemmdeposit000"


@pytest.fixture
def stubs():
    forget_clients()
    with BinanceStub(balances={"BTC": "1"}) as source, HollaExStub() as destination:
        destination.deposit_addresses[("btc", "btc")] = (OURS, "")
        yield source, destination
    forget_clients()


@pytest.fixture
def sent(stubs):
    source, destination = stubs
    account = stub_account(source)
    account.set_withdrawal_credentials(source.WITHDRAW_API_KEY, source.WITHDRAW_SECRET)
    account.save()
    p = approved_transfer(account, hollaex_account(destination), OURS, amount="0.1")
    withdrawals.execute(p.pk)
    p.refresh_from_db()
    assert (p.state, p.txid) == (P.SENT, "")  # binance gives the hash once the network has it
    return p


def test_the_sources_hash_finds_the_deposit_on_the_destination(stubs, sent):
    source, destination = stubs
    # The destination credited less than expected (its own deposit fee): only the hash links it.
    destination.deposit("BTC", "0.09", "0xfeed")
    assert watch_transfers()["arrived"] == 0  # the source has not said the hash yet

    source.complete_withdrawal(txid="0xfeed")
    assert watch_transfers()["arrived"] == 1

    sent.refresh_from_db()
    assert (sent.state, sent.txid, sent.arrival_ref) == (P.COMPLETED, "0xfeed", "0xfeed")
    assert "matched by tx id" in sent.state_note
    assert AuditEntry.objects.get(action="transfer tx id").details["txid"] == "0xfeed"


def test_without_the_hash_a_deposit_of_the_amount_is_the_fallback(stubs, sent):
    _, destination = stubs
    destination.deposit("BTC", str(D("0.1") - D("0.0002")), "0xunrelated")

    assert watch_transfers()["arrived"] == 1
    sent.refresh_from_db()
    assert sent.state == P.COMPLETED and "matched by amount" in sent.state_note


@pytest.mark.parametrize(("status", "said"), [(1, "canceled"), (3, "failed"), (5, "failed")])
def test_a_withdrawal_the_source_ended_fails_the_transfer(stubs, sent, status, said):
    source, destination = stubs
    source.end_withdrawal(status)
    destination.deposit("BTC", str(D("0.1") - D("0.0002")), "0xsomeoneelse")  # not ours

    assert watch_transfers()["failed"] == 1

    sent.refresh_from_db()
    assert sent.state == P.FAILED
    assert f"reports the withdrawal {source.withdrawals[0]['id']} {said}" in sent.state_note
    assert AuditEntry.objects.get(action="transfer failed").actor == "transfer watch"


def test_an_unreadable_source_leaves_the_transfer_on_its_way(stubs, sent):
    source, _ = stubs
    source.fail_next(200, "[{\"id\": 7, \"status\": \"nonsense\"}]",
                     only="GET /sapi/v1/capital/withdraw/history")

    assert watch_transfers() == {"settled": 0, "arrived": 0, "overdue": 0, "failed": 0}
    sent.refresh_from_db()
    assert (sent.state, sent.txid) == (P.SENT, "")
