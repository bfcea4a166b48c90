"""Venue rows and accounts on the local binance stub, for tests that go through venue_for."""

from __future__ import annotations

from bots.models import Account, Venue
from bots.simulation.stub_exchanges.binance import BinanceStub
from bots.simulation.stub_exchanges.hollaex import HollaExStub


def stub_account(stub: BinanceStub, name: str = "binance-stub", role: str = Account.HEDGING,
                 **options) -> Account:
    """An account with the stub's keys at a ccxt venue pointed at the stub."""
    venue, _ = Venue.objects.get_or_create(
        name=name,
        defaults={"label": f"Binance ({name})", "kind": Venue.CCXT, "exchange_id": "binance",
                  "options": {**stub.ccxt_config(), "timeout": 1000, **options}},
    )
    account = Account(venue=venue, name=f"bot {Account.objects.count()}", role=role)
    account.set_credentials(stub.API_KEY, stub.SECRET)
    account.save()
    return account


def requests_to(stub: BinanceStub, method: str, path: str) -> int:
    return sum(1 for m, p, _ in stub.requests if (m, p) == (method, path))


def hollaex_account(stub: HollaExStub, name: str = "hollaex-stub",
                    role: str = Account.MARKET_MAKING) -> Account:
    """An account with the stub's key at a ccxt hollaex venue pointed at the HollaEx stub."""
    venue, _ = Venue.objects.get_or_create(
        name=name,
        defaults={"label": f"HollaEx ({name})", "kind": Venue.CCXT, "exchange_id": "hollaex",
                  "options": {**stub.ccxt_config(), "timeout": 1000}},
    )
    account = Account(venue=venue, name=f"bot {Account.objects.count()}", role=role)
    account.set_credentials(stub.API_KEY, stub.SECRET)
    account.save()
    return account
