"""The stream process's ccxt.pro clients: kept one per account for the process, built again when
the account's keys or options change, and their REST requests paid from the request budget every
Ballast process shares (real Redis, ccxt.pro's hollaex class against the HollaEx stubs)."""

from __future__ import annotations

import pytest

from bots.simulation.stub_exchanges.hollaex import HollaExStub
from bots.simulation.stub_exchanges.hollaex_ws import HollaExWsStub
from bots.streams import clients
from bots.venues.clients import budget_for


@pytest.fixture
def stubs():
    with HollaExStub() as rest, HollaExWsStub(rest) as ws:
        yield ws


async def test_a_client_is_kept_per_account_and_spends_the_shared_budget(stubs, redis_client):
    options = {**stubs.ccxt_config(), "timeout": 2000}  # paced: enableRateLimit is not off
    keys = {"apiKey": HollaExStub.API_KEY, "secret": HollaExStub.SECRET}
    try:
        client = clients.kept("hollaex-stub", 1, "hollaex", options, keys)
        assert clients.kept("hollaex-stub", 1, "hollaex", options, keys) is client
        assert clients.kept("hollaex-stub", 2, "hollaex", options, keys) is not client

        budget = budget_for(client, "hollaex-stub")
        redis_client.delete(budget.key)
        await client.load_markets()
        _, capacity, _ = budget.sizes()
        assert float(redis_client.hget(budget.key, "tokens")) < capacity  # the request paid
        assert not client.enableRateLimit  # ccxt's own pacing, which knows one process, is off

        changed = clients.kept("hollaex-stub", 1, "hollaex", {**options, "timeout": 3000}, keys)
        assert changed is not client
    finally:
        await clients.close_except(set())
    assert not clients._kept
