"""The soak on the stubs (tests/hedging/test_soak_on_stubs.py): the demo's exchange pair served as in `make demo VENUES=stub` (a HollaEx stub as the own
exchange, a binance stub as the hedge venue, each REST and websocket), the stream process in the
test's event loop capturing the MM bot's fills by ccxt.pro and hedging each through ccxt, users
hitting the bot's quotes while the fill stream is dropped, repeats itself or loses a message,
then the sweep (a REST resync, the fill audit's read over the whole soak, and every unfinished
hedge run again) and the ledger's check.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from decimal import Decimal

from asgiref.sync import sync_to_async
from django.db import connections

from bots.hedging import hedger
from bots.models import Account, Fill, Hedge, HedgeOrder, Market, Venue
from bots.simulation.stub_exchanges.exchange import BOT
from bots.simulation.stub_exchanges.served import ServedStubs
from bots.streams import runner, work
from bots.venues import venue_for
from bots.venues.stream_state import now_ms
from tests.support.hedging_world import Driver, balance_changes_recorded
from tests.support.streams import eventually, fills_live, running

D = Decimal
FUNDS = {"BTC": "100", "USDT": "10000000"}
FAULTS = ("drop", "duplicate", "gap")
BATCH = 25  # user trades between waits for the stream to catch up


@dataclass
class SoakResult:
    fills: int = 0
    faults: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FAULTS, 0))
    reconnects: int = 0
    trade_reads: int = 0  # REST reads of the own venue's trades before the sweep
    swept_fills: int = 0
    audited_fills: int = 0  # captured by the fill audit's reads over the whole soak
    audit_reads: int = 0  # how many rounds of the audit that took
    swept_hedges: int = 0
    seconds: float = 0.0
    unhedged: int = 0
    hedged_twice: int = 0
    duplicate_client_ids: int = 0
    ledger_differences: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        faults = ", ".join(f"{n} {k}s" for k, n in self.faults.items())
        return [
            f"soak: {self.fills} fills through ccxt in {self.seconds:.0f} s, stream faults on "
            f"{sum(self.faults.values())} ({faults}), {self.reconnects} reconnections, "
            f"{self.trade_reads} REST reads of trades",
            f"sweep: {self.swept_fills} fills captured by the resync, {self.audited_fills} by the "
            f"fill audit ({self.audit_reads} rounds), {self.swept_hedges} hedges run again",
            f"unhedged {self.unhedged}, hedged twice {self.hedged_twice}, duplicate client order "
            f"ids {self.duplicate_client_ids}, ledger differences {len(self.ledger_differences)}",
        ]


def start_stubs() -> ServedStubs:
    return ServedStubs(FUNDS, D("65000"), ports=(0, 0, 0, 0))


def on_stubs(market: Market, stubs: ServedStubs) -> Market:
    """The market made on the own stub and hedged on the other, through ccxt; deep MM quotes."""
    accounts = {}
    for role, name, exchange_id, ws, stub in (
        (Account.MARKET_MAKING, "own-stub", "hollaex", stubs.own_ws, stubs.own),
        (Account.HEDGING, "outside-stub", "binance", stubs.outside_ws, stubs.outside),
    ):
        venue = Venue.objects.create(
            name=name, label=name, kind=Venue.CCXT, exchange_id=exchange_id,
            options={**ws.ccxt_config(), "enableRateLimit": False, "timeout": 3000},
        )
        account = Account(venue=venue, name=f"bot on {name}", role=role)
        account.set_credentials(stub.API_KEY, stub.SECRET)
        account.save()
        accounts[role] = account
    Market.objects.filter(pk=market.pk).update(
        mm_account=accounts[Account.MARKET_MAKING], hedge_account=accounts[Account.HEDGING],
        last_fill_timestamp=0,
    )
    market.extra_hedge_accounts.clear()
    mm = venue_for(accounts[Account.MARKET_MAKING])
    mm.create_order("BTC/USDT", "limit", "sell", D("40"), D("65100"))
    mm.create_order("BTC/USDT", "limit", "buy", D("40"), D("64900"))
    return Market.objects.get_for_work(market.pk)


def hedge_here(hedge_id: int) -> None:
    """The stream process's hedge, run at capture as hedge_now does; what cannot finish here is
    left to the sweep (in the desk, to the hedge task and the sweeper)."""
    try:
        hedger.execute_hedge(hedge_id)
    except hedger.HedgeRetry:
        pass


def _fault(stubs: ServedStubs, name: str) -> None:
    if name == "drop":
        stubs.own_ws.drop("user")
    elif name == "duplicate":
        stubs.own_ws.duplicate_next("user")
    else:
        stubs.own_ws.gap_next("user")


async def soak(market: Market, stubs: ServedStubs, fills: int, fault_share: float = 0.10,
               seed: int = 13) -> SoakResult:
    rng = random.Random(seed)  # noqa: S311 - a simulation, not a secret
    result = SoakResult()
    started = time.monotonic()
    started_ms = now_ms()
    async with running(hedge_here):
        await eventually(lambda: fills_live(market.mm_account_id), "the fill stream")
        for n in range(1, fills + 1):
            if rng.random() < fault_share:
                name = rng.choice(FAULTS)
                result.faults[name] += 1
                _fault(stubs, name)
            amount = D(rng.randint(100, 1000)) / 100000
            stubs.own.take(rng.choice(("buy", "sell")), amount)
            await asyncio.sleep(0)
            if n % BATCH == 0:
                stubs.move_outside(n)  # the hedge venue's book laid again: liquidity to hedge with
                # Within a batch of the bot's trades: the stream keeps up, as on an exchange.
                await eventually(
                    lambda n=n: Fill.objects.count() >= n - BATCH, "the stream to keep up", 60
                )
    # Each connection of the fill stream subscribes to the order topic once.
    result.reconnects = sum(
        1 for kind, m in stubs.own_ws.received
        if kind == "user" and m.get("op") == "subscribe" and "order" in (m.get("args") or [])
    ) - 1
    result.trade_reads = sum(1 for _, path, _ in list(stubs.own.requests) if path == "/v2/user/trades")
    try:
        before = await sync_to_async(Fill.objects.count)()
        result.swept_fills = (await sync_to_async(work.resync)(market.pk, hedge_here)).new
        # The stream process's fill audit (bots/streams/runner.py:AccountStream.audit), over
        # the whole soak: what no message told of and the resync, reading from the last fill
        # on, cannot see. One read stops at its page limit, short of 2,000 trades: the audit's
        # next rounds go on from there, as these do.
        since = started_ms - runner.AUDIT_OVERLAP_MS
        while since is not None:
            read = await sync_to_async(work.catch_up)(market.pk, since, hedge_here)
            result.audited_fills += read.new
            result.audit_reads += 1
            since = read.more_from
        result.swept_hedges = await sync_to_async(Driver().sweep)()
        result.seconds = time.monotonic() - started
        await sync_to_async(check)(market, stubs, result)
    finally:
        # The ORM's thread keeps its connection otherwise, and PostgreSQL could not drop the
        # test database.
        await sync_to_async(connections.close_all)()
    assert result.swept_fills + result.audited_fills == result.fills - before
    return result


def check(market: Market, stubs: ServedStubs, result: SoakResult, funds: dict = FUNDS) -> None:
    """Count what the sweep must leave at zero, and compare the ledger with the stubs (each
    account given `funds` at the start)."""
    result.fills = Fill.objects.filter(market=market).count()
    venue_trades = [t for t in stubs.own.trades if t.account == BOT]
    assert result.fills == len(venue_trades), (result.fills, len(venue_trades))
    hedges = Hedge.objects.filter(fill__market=market)
    result.unhedged = hedges.exclude(state=Hedge.FILLED).count() + (result.fills - hedges.count())
    orders = list(HedgeOrder.objects.filter(hedge__fill__market=market))
    client_ids = [o.client_order_id for o in orders]
    result.duplicate_client_ids = len(client_ids) - len(set(client_ids))
    sent = [o.client_order_id for o in stubs.outside.orders.values() if o.account == BOT]
    result.hedged_twice = len(sent) - len(set(sent)) + sum(
        1 for h in hedges if h.filled > h.amount
    )
    assert set(sent) == {o.client_order_id for o in orders if o.state == HedgeOrder.DONE}
    moves = balance_changes_recorded(market)
    for account, stub in ((market.mm_account, stubs.own), (market.hedge_account, stubs.outside)):
        for asset in ("BTC", "USDT"):
            free, used = stub.balance(asset)
            recorded = D(funds[asset]) + moves.get((account.pk, asset), D(0))
            if free + used != recorded:
                result.ledger_differences.append(
                    f"{stub.base_url} {asset}: stub {free + used}, records {recorded}"
                )
