"""The exchange stubs an admin connects in these tests, and the admin's logged-in client."""

from __future__ import annotations

import pytest

from bots.simulation.stub_exchanges.binance import BinanceStub
from bots.simulation.stub_exchanges.hollaex import HollaExStub
from bots.venues.clients import forget_clients


@pytest.fixture
def binance_stub():
    with BinanceStub(balances={"BTC": "2", "USDT": "200000"}) as stub:
        for price in ("65010", "65020", "65030"):
            stub.seed_liquidity("sell", price, "0.5")
            stub.seed_liquidity("buy", str(130000 - int(price)), "0.5")
        yield stub
    forget_clients()


@pytest.fixture
def hollaex_stub():
    with HollaExStub(balances={"BTC": "1", "USDT": "100000"}) as stub:
        yield stub
    forget_clients()


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def stub_options(stub) -> dict:
    """The venue options an admin pastes for a stub (docs/operations.md)."""
    return {**stub.ccxt_config(), "enableRateLimit": False, "timeout": 2000}
