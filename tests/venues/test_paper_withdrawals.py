"""The paper venue's withdrawals: debited at once, credited to the account owning the address
when the network's arrival time has passed, in ccxt's transaction shape, refused as ccxt does."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import ccxt
import pytest

from bots.models import PaperBalance, PaperTransfer, WithdrawalNetwork
from bots.venues.paper import PaperVenue

pytestmark = pytest.mark.django_db


def free(account, asset="BTC") -> D:
    return PaperBalance.objects.get(account=account, asset=asset).free


@pytest.fixture
def venues(demo_market):
    hedge, mm = PaperVenue(demo_market.hedge_account), PaperVenue(demo_market.mm_account)
    return hedge, mm, mm.fetch_deposit_address("BTC", {"network": "BTC"})["address"]


def test_a_withdrawal_leaves_at_once_and_arrives_after_its_network_time(venues, demo_market):
    hedge, mm, address = venues
    sent = hedge.withdraw(
        "BTC", D("0.5"), address, params={"network": "BTC", "withdrawOrderId": "ballast-7"}
    )

    assert (sent["type"], sent["status"], sent["amount"], sent["currency"]) == (
        "withdrawal",
        "pending",
        D("0.5"),
        "BTC",
    )
    assert sent["fee"] == {"currency": "BTC", "cost": D("0.0002")}
    assert sent["id"] and sent["txid"].startswith("0x") and sent["address"] == address
    assert free(demo_market.hedge_account) == D("1.5")
    assert mm.fetch_deposits("BTC") == [] or mm.fetch_deposits("BTC")[0]["status"] == "pending"
    assert free(demo_market.mm_account) == D("2")  # the demo's networks take a minute

    PaperTransfer.objects.update(arrives_at=PaperTransfer.objects.get().created_at)
    [deposit] = mm.fetch_deposits("BTC")

    assert (deposit["type"], deposit["status"], deposit["amount"], deposit["txid"]) == (
        "deposit",
        "ok",
        D("0.4998"),
        sent["txid"],
    )
    assert free(demo_market.mm_account) == D("2.4998")
    assert mm.fetch_deposits("BTC")[0]["status"] == "ok"
    assert free(demo_market.mm_account) == D("2.4998")  # credited once only
    [withdrawal] = hedge.fetch_withdrawals("BTC", params={"withdrawOrderId": "ballast-7"})
    assert (withdrawal["id"], withdrawal["status"]) == (sent["id"], "ok")


def test_withdrawals_are_found_by_their_client_id(venues):
    hedge, _, address = venues
    hedge.withdraw("BTC", D("0.1"), address, params={"withdrawOrderId": "ballast-1"})

    assert hedge.fetch_withdrawals("BTC", params={"withdrawOrderId": "ballast-2"}) == []
    assert len(hedge.fetch_withdrawals("BTC", params={"withdrawOrderId": "ballast-1"})) == 1


@pytest.mark.parametrize(
    ("amount", "address", "params", "error", "message"),
    [
        ("0.0005", None, {}, ccxt.BadRequest, "at least 0.001"),
        ("0.1000000001", None, {}, ccxt.BadRequest, "steps of"),
        ("5", None, {}, ccxt.InsufficientFunds, "free BTC 2"),
        ("0.1", "bc1qsomewhereelse", {}, ccxt.InvalidAddress, "no other paper account"),
        ("0.1", "paper:x:²", {}, ccxt.InvalidAddress, "no other paper account"),  # "²".isdigit()
        ("0.1", None, {"network": "LIGHTNING"}, ccxt.BadRequest, "no such network"),
    ],
)
def test_a_withdrawal_the_venue_refuses_moves_nothing(
    venues, demo_market, amount, address, params, error, message
):
    hedge, _, mm_address = venues

    with pytest.raises(error, match=message):
        hedge.withdraw("BTC", D(amount), address or mm_address, params=params)
    assert free(demo_market.hedge_account) == D("2")
    assert PaperTransfer.objects.count() == 0


def test_a_client_id_is_used_once(venues):
    hedge, _, address = venues
    hedge.withdraw("BTC", D("0.1"), address, params={"withdrawOrderId": "ballast-1"})

    with pytest.raises(ccxt.BadRequest, match="already used"):
        hedge.withdraw("BTC", D("0.1"), address, params={"withdrawOrderId": "ballast-1"})


def test_an_account_cannot_withdraw_to_itself(venues, demo_market):
    hedge, _, _ = venues
    own = hedge.fetch_deposit_address("BTC")["address"]

    with pytest.raises(ccxt.InvalidAddress):
        hedge.withdraw("BTC", D("0.1"), own)


def test_with_two_networks_open_the_withdrawal_must_name_one(venues, demo_market):
    hedge, _, address = venues
    WithdrawalNetwork.objects.create(
        venue=demo_market.hedge_account.venue, asset="BTC", network="LIGHTNING", fee=D("0")
    )

    with pytest.raises(ccxt.BadRequest, match="name the network"):
        hedge.withdraw("BTC", D("0.1"), address)
    assert (
        hedge.withdraw("BTC", D("0.1"), address, params={"network": "LIGHTNING"})["network"]
        == "LIGHTNING"
    )


def test_a_faulty_venue_fails_withdrawals_too(venues, demo_market):
    hedge, _, address = venues
    venue = demo_market.hedge_account.venue
    venue.fault = "ExchangeNotAvailable"
    venue.save()

    with pytest.raises(ccxt.ExchangeNotAvailable):
        PaperVenue(demo_market.hedge_account).withdraw("BTC", D("0.1"), address)
    assert free(demo_market.hedge_account) == D("2")


def test_a_trade_after_a_withdrawal_sees_the_debited_balance(venues, demo_market):
    """The matching engine writes balances back whole: a withdrawal it did not see would be
    undone by the next trade of that account. Both take the market row's lock."""
    hedge, _, address = venues
    hedge.withdraw("BTC", D("1.9"), address)

    with pytest.raises(ccxt.InsufficientFunds):
        hedge.create_order("BTC/USDT", "limit", "sell", D("0.2"), D("90000"))
    hedge.create_order("BTC/USDT", "limit", "sell", D("0.1"), D("90000"))
    balance = PaperBalance.objects.get(account=demo_market.hedge_account, asset="BTC")
    assert (balance.free, balance.used) == (D("0"), D("0.1"))


def test_arrival_times_come_from_the_fee_table(venues):
    hedge, _, address = venues
    sent = hedge.withdraw("BTC", D("0.1"), address)
    row = PaperTransfer.objects.get(withdrawal_id=sent["id"])

    assert row.arrives_at - row.created_at == timedelta(minutes=1)
