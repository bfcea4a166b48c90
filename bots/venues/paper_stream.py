"""The paper venue's user stream, shaped as a real exchange's: each committed batch of an
account's trades is published on a Redis channel of its own, and `PaperStream` offers ccxt.pro's
`watch_my_trades` over that channel, so the stream process (bots/streams) captures paper fills
as it captures any exchange's, with the same resync after each (re)subscription.

The publisher learns in the same round trip whether a stream took the batch: somebody is
subscribed to the account's channel and the account's fills are marked streamed
(stream_state.fills_streamed). Otherwise the caller captures the trades itself (the capture
task, bots/hedging/tasks.py), as before there was a stream: a desk without the stream process
loses nothing. A trade both paths see is recorded once (the unique venue and trade id).
"""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import redis.asyncio
from django.conf import settings

from bots.platform.locks import client
from bots.venues import stream_state

# Money fields of ccxt's trade structure, sent as text and read back as Decimals.
_MONEY = ("price", "amount", "cost")


def channel(venue_id: int, account_id: int) -> str:
    return f"ballast:paper:trades:{venue_id}:{account_id}"


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not sent on a paper stream")


def encode(trades: list[dict]) -> str:
    return json.dumps(trades, default=_plain)


def decode(text: bytes | str) -> list[dict]:
    trades = json.loads(text)
    for trade in trades:
        for key in _MONEY:
            trade[key] = Decimal(trade[key])
        for fee in [trade.get("fee"), *(trade.get("fees") or [])]:
            if fee and fee.get("cost") is not None:
                fee["cost"] = Decimal(fee["cost"])
    return trades


# Publishes the batch; answers 1 when someone heard it and the account's fills are marked
# streamed. One command: a redis-py pipeline object cost more CPU to build than the round trip.
_PUBLISH = """
local heard = redis.call('PUBLISH', KEYS[1], ARGV[1])
if heard > 0 and redis.call('EXISTS', KEYS[2]) == 1 then return 1 end
return 0
"""


def _script():
    redis_client = client()
    found = getattr(redis_client, "_ballast_paper_publish", None)
    if found is None:
        found = redis_client._ballast_paper_publish = redis_client.register_script(_PUBLISH)
    return found


def publish(venue_id: int, account_id: int, trades: list[dict]) -> bool:
    """Send the account's committed trades to its stream. True when a stream took them (a
    subscriber heard them and the account's fills are marked streamed); False when the caller
    must capture them itself, also when Redis could not be reached."""
    keys = [channel(venue_id, account_id), stream_state.fills_key(account_id)]
    try:
        return _script()(keys=keys, args=[encode(trades)]) == 1
    except stream_state.UNREACHABLE:
        return False


class PaperStream:
    """One paper account's trade stream, as ccxt.pro's client for an exchange with
    watchMyTrades: the first watch subscribes, `subscribed` is set once Redis confirmed it (no
    trade published after that can be missed), and a lost connection fails the watch, after
    which the next watch subscribes again."""

    id = "paper"  # as ccxt names an exchange class: no stream behaviour keys on it
    has = {"watchMyTrades": True}

    def __init__(self, venue_id: int, account_id: int):
        self.channel = channel(venue_id, account_id)
        self.subscribed = asyncio.Event()
        self._redis = None
        self._pubsub = None

    async def watch_my_trades(self, symbol=None, since=None, limit=None, params=None) -> list[dict]:
        try:
            if self._pubsub is None:
                self._redis = redis.asyncio.Redis.from_url(settings.REDIS_URL)
                self._pubsub = self._redis.pubsub()
                await self._pubsub.subscribe(self.channel)
            while True:
                message = await self._pubsub.get_message(timeout=None)
                if message is None:
                    continue
                if message["type"] == "subscribe":
                    self.subscribed.set()
                elif message["type"] == "message":
                    trades = decode(message["data"])
                    return [t for t in trades if symbol is None or t["symbol"] == symbol]
        except BaseException:
            # Cancelled (the stream is closed or opened again) or failed: the subscription
            # goes, and the next watch subscribes afresh, followed by the stream's resync. A
            # read cut off halfway could leave the connection mid-message.
            self._drop()
            raise

    def _drop(self) -> asyncio.Future | None:
        self.subscribed.clear()
        pubsub, connection, self._pubsub, self._redis = self._pubsub, self._redis, None, None
        if pubsub is None:
            return None
        return asyncio.ensure_future(_close(pubsub, connection))

    async def close(self) -> None:
        closing = self._drop()
        if closing is not None:
            await closing


async def _close(*closing) -> None:
    for each in closing:
        try:
            await each.aclose()
        except (*stream_state.UNREACHABLE, RuntimeError):
            pass  # a connection already gone
