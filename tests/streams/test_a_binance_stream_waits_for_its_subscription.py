"""A binance account's private stream counts as subscribed only once the exchange answered its
user data subscription. ccxt.pro returns at once to a caller that finds the subscription asked
for, even while the answer is on its way: the stream's fills, orders and balance readers each
ask, so the order stream could read its open orders by REST and be marked live before the
exchange pushed this account anything, and an order update in between was never seen (CI on
2026-12-08: a partial fill the streamed open orders never showed). Real ccxt.pro against the
binance websocket stub, which here registers the subscription half a second late."""

from __future__ import annotations

import asyncio

from bots.simulation.stub_exchanges.binance import BinanceStub
from bots.simulation.stub_exchanges.binance_ws import USER
from bots.streams import clients
from bots.streams.runner import SUBSCRIBED


async def test_the_private_stream_is_subscribed_once_the_exchange_answered(stubs):
    options = {**stubs.ws.ccxt_config(), "enableRateLimit": False, "timeout": 2000}
    keys = {"apiKey": BinanceStub.API_KEY, "secret": BinanceStub.SECRET}
    client = clients.kept("binance-stub", 1, "binance", options, keys)
    try:
        await client.load_markets()
        stubs.ws.hold_next_answer(0.5)
        reader = asyncio.ensure_future(client.watch_orders())
        url = client.urls["api"]["ws"]["ws-api"]["spot"]
        while "spot" not in getattr(client.clients.get(url), "subscriptions", {}):
            await asyncio.sleep(0.001)  # the reader's watch has asked; the answer is held
        await SUBSCRIBED["binance"](client)
        # From here the exchange pushes this account's updates: a REST read now misses none.
        assert stubs.ws.connections(USER) == 1
        reader.cancel()
    finally:
        await clients.close_except(set())
