"""The HollaEx websocket stub's usertrade topic: the kit relays the HollaEx Network's message
untouched (hollaex-kit server/ws/hub.js); its one public sample is ccxt.pro's (pro/hollaex.py,
handle_my_trades). The stub sends that shape, and ccxt.pro's hollaex class parses it into a trade
whose derived id (bots/venues/fill_identity.py) is the one the REST read of the same trade gets."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import ccxt
import ccxt.pro

from bots.simulation.stub_exchanges.hollaex import HollaExStub
from bots.venues.ccxt_venue import to_decimals
from bots.venues.fill_identity import with_ids
from tests.support.hollaex_world import HollaExStubs

D = Decimal


async def subscribed(stubs) -> None:
    for _ in range(1000):  # 10 s at most
        if stubs.ws.connections("user"):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the stub took no subscription")


async def test_the_stub_streams_a_trade_as_the_kit_does_and_ccxt_derives_rests_id_for_it():
    stubs = HollaExStubs()
    keys = {"apiKey": HollaExStub.API_KEY, "secret": HollaExStub.SECRET}
    rest = ccxt.hollaex({**stubs.rest.ccxt_config(), **keys})
    client = ccxt.pro.hollaex({**stubs.ws.ccxt_config(), **keys})
    try:
        rest.create_order("BTC/USDT", "limit", "sell", 0.01, 65000)
        watching = asyncio.ensure_future(client.watch_my_trades())
        await subscribed(stubs)
        stubs.rest.take("buy", "0.004")
        streamed = await asyncio.wait_for(watching, 10)
        listed = rest.fetch_my_trades("BTC/USDT")
    finally:
        await client.close()
        stubs.stop()

    [message] = [m for kind, m in stubs.ws.sent if m.get("topic") == "usertrade" and m["action"] == "insert"]
    assert list(message) == ["topic", "action", "user_id", "data", "time", "symbol"]
    assert list(message["data"][0]) == [
        "size", "side", "price", "symbol", "timestamp", "order_id", "fee", "fee_coin", "is_same"]
    [trade] = with_ids(to_decimals(streamed))
    [again] = with_ids(to_decimals(listed))
    assert trade["id"].startswith("d-") and trade["id"] == again["id"]
    assert (trade["order"], trade["amount"], trade["timestamp"]) == (again["order"], D("0.004"), again["timestamp"])


async def private_messages(watch: str, duplicate: bool = False) -> list[dict]:
    """What the stub sends a client that watches with `watch` while a user takes 0.002 of the
    bot's ask; with `duplicate`, the match's first message is sent twice (a fault)."""
    stubs = HollaExStubs()
    keys = {"apiKey": HollaExStub.API_KEY, "secret": HollaExStub.SECRET}
    rest = ccxt.hollaex({**stubs.rest.ccxt_config(), **keys})
    client = ccxt.pro.hollaex({**stubs.ws.ccxt_config(), **keys})
    try:
        rest.create_order("BTC/USDT", "limit", "sell", 0.01, 65000)
        watching = asyncio.ensure_future(getattr(client, watch)())
        await subscribed(stubs)
        if duplicate:
            stubs.ws.duplicate_next("user")
        stubs.rest.take("buy", "0.002")
        await asyncio.wait_for(watching, 10)
    finally:
        await client.close()
        stubs.stop()
    return [m for kind, m in stubs.ws.sent if kind == "user" and m["action"] != "partial"]


async def test_usertrade_goes_only_to_a_connection_that_subscribed_to_it():
    assert [m["topic"] for m in await private_messages("watch_orders")] == ["order"]
    assert [m["topic"] for m in await private_messages("watch_my_trades")] == ["usertrade"]


async def test_the_faults_apply_to_usertrade():
    sent = await private_messages("watch_my_trades", duplicate=True)
    assert [m["topic"] for m in sent] == ["usertrade", "usertrade"] and sent[0] == sent[1]
