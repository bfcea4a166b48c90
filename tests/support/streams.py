"""A world for the stream process's tests: the binance REST and websocket stubs as a venue, the
demo market making or hedging there, and the stream process running in the test's event loop.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager
from decimal import Decimal

from asgiref.sync import sync_to_async
from django.db import connections

from bots.models import Account, Market, Venue
from bots.simulation.stub_exchanges.binance import BinanceStub
from bots.simulation.stub_exchanges.binance_ws import BinanceWsStub
from bots.streams.runner import StreamProcess
from bots.venues import stream_state as state
from bots.venues import venue_for

D = Decimal


class Stubs:
    """An exchange's REST and websocket stubs, with liquidity on both sides of 65,000 (Binance's
    here; a subclass names another exchange's pair)."""

    REST = BinanceStub
    WS = BinanceWsStub

    def __init__(self):
        self.rest = self.REST(balances={"BTC": "1", "USDT": "100000"})
        self.ws = self.WS(self.rest)
        for price in ("65010", "65020", "65030"):
            self.rest.seed_liquidity("sell", price, "0.5")
            self.rest.seed_liquidity("buy", str(130000 - int(price)), "0.5")

    def stop(self):
        self.ws.stop()
        self.rest.stop()

    def requests(self, path: str) -> int:
        return sum(1 for _, p, _ in list(self.rest.requests) if p == path)


def stub_account(stubs: Stubs, role: str) -> Account:
    venue, _ = Venue.objects.get_or_create(
        name="binance-stub",
        defaults={"label": "Binance (stub)", "kind": Venue.CCXT, "exchange_id": "binance",
                  "options": {**stubs.ws.ccxt_config(), "enableRateLimit": False, "timeout": 2000}},
    )
    account = Account(venue=venue, name=f"{role} on the stub", role=role)
    account.set_credentials(BinanceStub.API_KEY, BinanceStub.SECRET)
    account.save()
    return account


def make_on_stub(market: Market, stubs: Stubs) -> Market:
    """The market's MM bot quotes on the stub: one ask of 0.01 BTC at 65,000 rests there."""
    account = stub_account(stubs, Account.MARKET_MAKING)
    Market.objects.filter(pk=market.pk).update(mm_account=account, last_fill_timestamp=0)
    # The bot's own order goes through the REST API, as a tick's would.
    venue_for(account).create_order("BTC/USDT", "limit", "sell", D("0.01"), D("65000"))
    return Market.objects.get_for_work(market.pk)


def forget_streamed_book(venue_id: int, symbol: str = "BTC/USDT") -> None:
    """No streamed book of the venue's symbol, nor its live mark: an earlier test's are gone."""
    state.client().delete(state._book_key(venue_id, symbol), state._book_live_key(venue_id, symbol))


def forget_streamed_orders(account_id: int, symbol: str = "BTC/USDT") -> None:
    """No streamed open orders of the account's symbol, nor its order stream's live mark."""
    state.client().delete(state._orders_key(account_id), state._orders_key(account_id, symbol))


def hedge_on_stub(market: Market, stubs: Stubs) -> Market:
    account = stub_account(stubs, Account.HEDGING)
    Market.objects.filter(pk=market.pk).update(hedge_account=account)
    return Market.objects.get_for_work(market.pk)


async def eventually(check, what: str, seconds: float = 40.0):
    """Wait for `check()` (sync, run in the ORM's thread) to be true; fail saying `what`.

    The wait is long because CI's loaded machine has taken more than 15 s for a private
    stream's subscription and retry; it is a bound on waiting, not a figure tested."""
    deadline = time.monotonic() + seconds
    while True:
        value = await sync_to_async(check)()
        if value:
            return value
        assert time.monotonic() < deadline, f"waited {seconds:g} s for {what}"
        await asyncio.sleep(0.05)


@asynccontextmanager
async def running(on_hedge):
    """The stream process, on the test's event loop, until the block ends."""
    process = StreamProcess(on_hedge=on_hedge)
    stop = asyncio.Event()
    task = asyncio.ensure_future(process.run(stop))
    try:
        yield process
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
        # The process's database work ran in the ORM's thread: its connection goes with it, or
        # PostgreSQL could not drop the test database.
        await sync_to_async(connections.close_all)()


def fills_live(account_id: int) -> bool:
    return bool(state.fills_streamed(account_id))
