"""Treasury set-ups shared by several tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal as D

from django.utils import timezone

from bots.models import PaperBalance, TransferProposal, Venue, WhitelistAddress
from bots.simulation.stub_exchanges.binance import BinanceStub
from bots.simulation.stub_exchanges.hollaex import HollaExStub
from bots.treasury.balances import refresh_balances
from bots.venues.clients import forget_clients
from tests.support.ccxt_accounts import hollaex_account, stub_account

# The MM account's BTC deposit address on the HollaEx stub (withdrawal_stubs).
OWN_DEPOSIT_ADDRESS = "bc1qballastownexchangemmdeposit000"


def drain(market, btc_to_hedge: D) -> None:
    """Move BTC from the MM account to the hedge account, as a run of hedged user buys does."""
    PaperBalance.objects.filter(account=market.mm_account, asset="BTC").update(
        free=D("2") - btc_to_hedge
    )
    PaperBalance.objects.filter(account=market.hedge_account, asset="BTC").update(
        free=D("2") + btc_to_hedge
    )
    for account in (market.mm_account, market.hedge_account):
        refresh_balances(account, ["BTC", "USDT"])


def approved_transfer(source, destination, address: str, asset: str = "BTC",
                      network: str = "BTC", amount: str = "0.1", fee: str = "0.0002",
                      tag: str = ""):
    """An approved transfer between two accounts, and the destination's usable whitelisted
    address for it: what execution starts from, without the planner and the approvals."""
    WhitelistAddress.objects.create(
        account=destination, asset=asset, network=network, address=address, tag=tag,
        usable_from=timezone.now() - timedelta(hours=1),
    )
    return TransferProposal.objects.create(
        asset=asset, network=network, source=source, destination=destination, amount=D(amount),
        fee=D(fee), origin=TransferProposal.MANUAL, reason="test",
        state=TransferProposal.APPROVED, approved_at=timezone.now(),
    )


def hedge_venue_on_stub(market, stub):
    """The market's hedge venue made binance through ccxt against a BinanceStub, reading its
    currencies (options.fetchCurrencies on), with the stub's keys on the hedge account."""
    venue = market.hedge_account.venue
    config = stub.ccxt_config()
    venue.kind, venue.exchange_id = Venue.CCXT, "binance"
    venue.options = {**config, "timeout": 2000, "enableRateLimit": False,
                     "options": {**config["options"], "fetchCurrencies": True}}
    venue.save()
    account = market.hedge_account
    account.set_credentials(stub.API_KEY, stub.SECRET)
    account.save()
    return venue


@contextmanager
def withdrawal_stubs() -> Iterator[tuple[BinanceStub, HollaExStub]]:
    """A transfer's two exchanges through the real ccxt: a Binance stub holding 1 BTC with
    withdrawals enabled for its key, the source, and a HollaEx stub reporting
    OWN_DEPOSIT_ADDRESS as its BTC deposit address, the destination. Each test gets its own
    ccxt clients."""
    forget_clients()
    try:
        with BinanceStub(balances={"BTC": "1"}) as source, HollaExStub() as destination:
            source.restrictions[source.API_KEY]["enableWithdrawals"] = True
            destination.deposit_addresses[("btc", "btc")] = (OWN_DEPOSIT_ADDRESS, "")
            yield source, destination
    finally:
        forget_clients()


def approved_stub_transfer(source: BinanceStub, destination: HollaExStub) -> TransferProposal:
    """0.1 BTC approved from an account on `source` to one on `destination`, to OWN_DEPOSIT_ADDRESS."""
    return approved_transfer(stub_account(source), hollaex_account(destination), OWN_DEPOSIT_ADDRESS)
