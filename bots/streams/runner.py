"""The stream process: one ccxt.pro connection set per venue account the enabled markets use.

- Fills: `watch_my_trades` where the exchange streams trades, hollaex's `usertrade` topic among
  them (ccxt.pro parses it without declaring it), else `watch_orders`, where a fill is the growth
  of an order's `filled` and triggers the REST read of its trades. HollaEx trades carry no id:
  the one derived from a streamed trade equals the one REST's read of it gives
  (docs/hedging.md, Fill identity), which the stream checks against REST before it trusts it;
  a trade its ids cannot settle (a repeat, or one like another) is read by REST. Its order topic
  is watched beside: an order that filled more than its streamed trades say (their message lost)
  has its trades read by REST. Every fill goes at once to the one capture
  (bots/hedging/capture.py) and its hedge runs here.
- After every (re)connection, a REST resync of the account's trades since the last fill
  recorded: a fill made while the stream was away is captured, once.
- Books: `watch_order_book` for every hedge venue a market uses; the freshest book of each is
  kept in Redis (bots/venues/stream_state.py) where ticks and hedges read it instead of asking by
  REST. The own venue's book of every market too, deeper, for the health samples.
- Open orders: the MM account's open orders of each symbol it makes, read once by REST as the
  account's order stream is subscribed and kept up to date from `watch_orders` (hollaex: the fill
  stream's own order updates), in Redis where its ticks read them instead of asking by REST.
- Balances: `watch_balance` for every account a market makes or hedges with, where the exchange
  has it; each change is written to Redis beside the books, and while the stream is live every
  tick and hedge reads it there (stream_state.read_balance) instead of asking by REST. The
  account's whole balance is read once by REST as the stream opens (an exchange pushes only the
  assets that change), and what the stream pushes is laid over it.
- Event-driven quoting: a reference that moves beyond a market's refresh tolerance queues its
  tick at once (`reference_moved`); the tick lock still keeps one tick per market at a time.

A paper venue's MM account is streamed the same way: the venue publishes each committed batch of
its trades on a Redis channel, read through ccxt.pro's shape (bots/venues/paper_stream.py), with
the same capture and the same resync (the venue's fetch_my_trades) after each subscription.

While an account's fills stream, its "streamed" mark in Redis tells the tick not to poll them;
the mark lapses seconds after the stream stops, and ticks poll again. Venues without streams
(or ccxt.pro support) stay on today's polling.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from decimal import Decimal

import ccxt
import ccxt.pro
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError, close_old_connections

from bots.engine.rules import dec
from bots.engine.streams import (
    Told,
    cross_mid,
    filled_more,
    lay_over_open,
    moved_beyond,
    quoted_from,
)
from bots.platform import events
from bots.platform.locks import throttle
from bots.streams import clients, work
from bots.venues import paper_stream
from bots.venues import stream_state as state
from bots.venues.ccxt_venue import to_decimals

log = logging.getLogger(__name__)

REPLAN_SECONDS = 15.0  # markets enabled, disabled or moved are picked up this often
WATCHES_SECONDS = 1.0  # how old the markets' references may be when a book moves
# An own venue's book that no market prices from (the health samples and the market page only
# watch it) is saved at most this often. It moves with every order and cancel on the exchange,
# the desk's and its users', and one save 500 levels a side takes this process's loop (which also
# captures fills) about 2 ms on a 2-core box (bench/own_book.py): a book changing 100 times a
# second would take a fifth of a core. ccxt keeps applying the changes meanwhile; the save after
# the pause takes the book as it then stands.
WATCHED_BOOK_SECONDS = 0.1
# The lag gauge's marks (the venue's time of each stream's last message) are written this often:
# its figure may read up to this much late, against lags that alert in seconds.
SEEN_SECONDS = 0.25
RETRY_FIRST, RETRY_MOST = 0.2, 5.0  # seconds before a reconnection, doubling


SUBSCRIBE_SECONDS = 10.0  # for a venue to confirm a private subscription
LOST_TRADES_SECONDS = 1.0  # how long an order's growth waits for its trades' message
# Each fill audit reads from this long before the previous one began: a trade the venue stamped
# just before that moment may have reached its REST list only after it (and clocks differ).
AUDIT_OVERLAP_MS = 10_000

# Exchanges whose streamed trades carry no id (a derived one stands in: fill_identity.py). Their
# trades are streamed though ccxt does not declare watchMyTrades for them; the ids are compared
# with REST's before the stream is trusted, and the order topic is watched beside the trades.
DERIVED_TRADE_STREAMS = {"hollaex"}


async def _authenticated(client) -> None:
    await client.authenticate()
    # ccxt.pro returns at once to a caller that finds the user data subscription asked for, also
    # while the exchange's answer is still on its way (another task's watch asked first: the
    # fills', orders' and balance's readers all do). Until that answer the exchange pushes
    # nothing to this account, so the REST read that follows could come before an update that
    # neither it nor the stream then sees: wait for the answer too.
    url = ((client.urls.get("api") or {}).get("ws") or {}).get("ws-api", {}).get("spot")
    connection = (client.clients or {}).get(url)
    pending = connection.futures.get("authenticate:signature:spot") if connection is not None else None
    if pending is not None:
        await asyncio.wait_for(asyncio.shield(pending), SUBSCRIBE_SECONDS)


async def _orders_partial(client) -> None:
    await asyncio.wait_for(client.orders_subscribed.wait(), SUBSCRIBE_SECONDS)


# How a venue confirms its private stream is subscribed, so that the resync that follows cannot
# miss a fill: binance answers its user data subscription (`_authenticated` awaits the answer);
# hollaex sends the order topic's partial (bots/streams/clients.py notes it). Elsewhere the open
# connection is taken as subscribed.
SUBSCRIBED: dict[str, Callable] = {"binance": _authenticated, "hollaex": _orders_partial}


async def _channel_subscribed(client) -> None:
    await asyncio.wait_for(client.subscribed.wait(), SUBSCRIBE_SECONDS)


async def _wallet_partial(client) -> None:
    await asyncio.wait_for(client.wallet_subscribed.wait(), SUBSCRIBE_SECONDS)


# The balance stream confirms by its own topic where the venue has one: hollaex's wallet topic
# sends its partial, and a hedge account watches no order topic whose partial could confirm it.
BALANCE_SUBSCRIBED: dict[str, Callable] = {**SUBSCRIBED, "hollaex": _wallet_partial}


def streams_fills(client) -> str:
    """Which ccxt.pro method streams the account's fills, or "" when none does."""
    if client.has.get("watchMyTrades") or client.id in DERIVED_TRADE_STREAMS:
        return "watch_my_trades"
    if client.has.get("watchOrders"):
        return "watch_orders"
    return ""


def pro_client(plan: work.AccountPlan):
    """The account's kept ccxt.pro client, configured as its REST one (bots/venues/clients.py);
    a paper account's is its venue's trade stream."""
    make = (lambda: paper_stream.PaperStream(plan.venue_id, plan.account_id)) if plan.paper else None
    return clients.kept(plan.venue, plan.account_id, plan.exchange_id, plan.options, plan.credentials, make)


class AccountStream:
    def __init__(self, plan: work.AccountPlan, process: StreamProcess):
        self.plan = plan
        self.process = process
        self.client = pro_client(plan)
        self.via = streams_fills(self.client) if plan.fill_markets else ""
        self.live = False
        self.balance_live = False
        self.orders_live = False
        self.books_live: set[str] = set()
        # Where the open-orders loop takes order updates from: a queue of its own reader, or fed
        # by the fill loop where that one watches orders (hollaex: `orders_from_fills`).
        self.order_updates: asyncio.Queue | None = None
        self.filled: dict[str, Decimal] = {}  # watch_orders: each order's filled as last seen
        self.reconnects = 0
        derived = self.via == "watch_my_trades" and self.client.id in DERIVED_TRADE_STREAMS
        self.orders_beside = derived  # the order topic checks that no trade message was lost
        self.trusted = not derived  # streamed ids, once a batch matched REST's and none differed
        self.distrusted = False  # a batch's ids differed from REST's: never trusted
        self.checks: set[asyncio.Task] = set()
        self.seen: dict[str, int] = {}  # the lag gauge's marks not yet written (seen_marks)
        self.streamed_to: int | None = None  # the newest trade time the trade messages brought
        # Orders whose trades fall short: their market, and from when to read the trades.
        self.short: dict[str, tuple[int, int]] = {}
        # Orders whose recorded fills were seen to add up to their filled, and the newest trade
        # time streamed then: a trade of theirs missing later came after it, give or take.
        self.accounted: dict[str, int] = {}
        self.audited: dict[int, int] = {}  # market id -> from when the next fill audit reads
        # The fill loop reads the order topic (hollaex): the open-orders loop is fed from it.
        self.orders_from_fills = self.via == "watch_orders" or self.orders_beside

    def tasks(self) -> list[asyncio.Task]:
        jobs = []
        if self.plan.fill_markets:
            if self.via:
                jobs.append(self.fills())
                if settings.STREAM_FILL_AUDIT_SECONDS:
                    jobs.append(self.audit())
            else:
                log.info("%s streams no fills: its ticks poll them", self.plan.venue)
        if self.client.has.get("watchBalance"):
            jobs.append(self.balance())
        elif not self.plan.paper:
            log.info("%s streams no balance: it is read by REST, once a tick", self.plan.venue)
        if self.plan.fill_markets and (self.via == "watch_orders" or self.client.has.get("watchOrders")):
            jobs.append(self.orders())
        jobs += [self.book(symbol) for symbol in sorted(self.plan.book_symbols)]
        if jobs:
            jobs += [self.heartbeat(), self.seen_marks()]
        return [asyncio.ensure_future(job) for job in jobs]

    async def close(self) -> None:
        # The client stays, kept for the process (bots/streams/clients.py closes it).
        for check in list(self.checks):
            check.cancel()
        await self.finish_checks()
        self.accounted.clear()
        self.live = self.balance_live = self.orders_live = False
        await sync_to_async(state.mark_fills_polled)(self.plan.account_id)
        await sync_to_async(state.mark_orders_polled)(self.plan.account_id)
        for symbol in self.books_live:
            await sync_to_async(state.mark_book_polled)(self.plan.venue_id, symbol)
        self.books_live = set()
        await sync_to_async(state.mark_balance_polled)(self.plan.balance_key)

    def saw(self, stream: str, timestamp: int | None, symbol: str = "") -> None:
        """A message the venue stamped `timestamp` (ms; None: now, as it arrived), for the lag
        gauge: kept here and written with the others by `seen_marks`."""
        field = state.seen_key(stream, self.plan.account_id, self.plan.venue_id, symbol)
        self.seen[field] = int(timestamp or state.now_ms())

    async def seen_marks(self) -> None:
        """The streams' last message times, written at most every SEEN_SECONDS in one round trip:
        a round trip for each message was a tenth of this process's CPU while a tick replaced
        its quotes (two messages an order), and the gauge is read at each scrape."""
        while True:
            await asyncio.sleep(SEEN_SECONDS)
            marks, self.seen = self.seen, {}
            try:
                state.saw(marks)  # Redis away: the marks are dropped, newer ones come
            except Exception:  # nor may anything else end the loop: the lag would grow for good
                log.exception("%s: stream lag marks not written", self.plan.venue)

    def lost(self, stream: str) -> None:
        """A stream of this kind failed and is opened again: counted per venue (/metrics)."""
        if stream == "fills":
            self.reconnects += 1
        events.stream_lost.emit(venue=self.plan.venue, stream=stream)

    # --- fills ------------------------------------------------------------------------------

    def watches(self) -> list[tuple[str, Callable]]:
        """What the fill stream reads, as (kind, ccxt.pro method); the first subscribes first."""
        if self.via == "watch_orders":
            return [("orders", self.client.watch_orders)]
        found = [("trades", self.client.watch_my_trades)]
        if self.orders_beside:
            found.append(("orders", self.client.watch_orders))
        return found

    async def fills(self) -> None:
        delay = RETRY_FIRST
        while True:
            # The reader only reads: it is back in the watch as soon as a message is handed
            # over. A trade that arrived while nobody waited stays in ccxt's cache until the
            # next message, so the capture (database, hedge) runs beside it, not in its way.
            arrived: asyncio.Queue = asyncio.Queue()
            reader = asyncio.ensure_future(self.read_fills(arrived))
            try:
                await self.subscribed()
                self.live = True
                state.mark_fills_streamed(self.plan.account_id, self.via)
                audit_from = state.now_ms() - AUDIT_OVERLAP_MS
                unaudited = [m for m in self.plan.fill_markets.values() if m not in self.audited]
                # The first audit of a stream reads from before the newest fill too. A trade lost
                # just before the last stream stopped (this process's, or one before it) came
                # before that fill, and the check of its order, waiting for its message, stopped
                # with it; the resync reads only from the last fill on.
                firsts = await sync_to_async(work.last_fills)(unaudited) if unaudited else {}
                await self.resync()
                # What came before is the resync's; the audit reads on from there.
                for market_id in self.plan.fill_markets.values():
                    last = firsts.get(market_id)
                    start = audit_from if not last else min(audit_from, last - AUDIT_OVERLAP_MS)
                    self.audited.setdefault(market_id, start)
                while True:
                    got = await arrived.get()
                    if isinstance(got, BaseException):
                        raise got
                    kind, items = got
                    # Back to a quick retry only once the stream has delivered: a server that
                    # takes the connection and fails the watch must not cost a resync a moment.
                    delay = RETRY_FIRST
                    await self.received(kind, items)
                    self.saw("fills", latest(items))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a stream that fails is opened again, whatever the error
                self.live = False
                await sync_to_async(state.mark_fills_polled)(self.plan.account_id)
                if self.orders_from_fills and self.order_updates is not None:
                    self.order_updates.put_nowait(exc)  # order updates were lost too
                self.lost("fills")
                log.warning("%s fill stream lost (%s: %s); again in %.1f s", self.plan.venue,
                            type(exc).__name__, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MOST)
            finally:
                reader.cancel()

    async def read_fills(self, arrived: asyncio.Queue) -> None:
        # Messages resolve ccxt's watches in the order they came, and each reader hands its
        # batch over at once: the queue keeps that order across kinds.
        readers = [asyncio.ensure_future(self.read(arrived, watch, kind)) for kind, watch in self.watches()]
        try:
            await asyncio.gather(*readers)
        finally:
            for reader in readers:
                reader.cancel()

    async def read(self, arrived: asyncio.Queue, watch: Callable, kind: str | None = None) -> None:
        """Each batch `watch` returns into `arrived`, as (kind, batch) when a kind is given."""
        try:
            while True:
                items = await watch()
                arrived.put_nowait(items if kind is None else (kind, items))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            arrived.put_nowait(exc)

    async def subscribed(self, confirms: dict[str, Callable] = SUBSCRIBED) -> None:
        confirm = _channel_subscribed if self.plan.paper else confirms.get(self.plan.exchange_id)
        if confirm is not None:
            await confirm(self.client)
            return
        await self.client.load_markets()
        for connection in list((self.client.clients or {}).values()):
            await connection.connected

    async def resync(self) -> None:
        for market_id in self.plan.fill_markets.values():
            read = await sync_to_async(work.resync)(market_id, self.process.on_hedge)
            self.read_short(market_id, read)
            if read.new:
                log.info("%s: %d fill(s) made while the stream was away, captured", self.plan.venue, read.new)

    def read_short(self, market_id: int, read: work.Read) -> None:
        """A REST read that stopped at its page limit: the fill audit goes on from where it
        stopped, whatever the stream captures meanwhile (work.Read)."""
        if read.more_from is not None:
            self.audited[market_id] = min(self.audited.get(market_id, read.more_from), read.more_from)

    async def received(self, kind: str, items: list[dict]) -> None:
        if kind == "trades":
            times = [t["timestamp"] for t in items if t.get("timestamp") is not None]
            self.streamed_to = max([*times, self.streamed_to or 0]) or None
            by_market: dict[int, list[dict]] = {}
            for trade in items:
                market_id = self.plan.fill_markets.get(trade.get("symbol"))
                if market_id is not None:
                    by_market.setdefault(market_id, []).append(to_decimals(trade))
            for market_id, trades in by_market.items():
                if self.trusted:
                    await sync_to_async(work.capture_streamed)(market_id, trades, self.process.on_hedge)
                else:
                    await self.check_ids(market_id, trades)
            return
        if self.order_updates is not None:
            self.order_updates.put_nowait(items)
        grew = set(filled_more(self.filled, [(str(o["id"]), dec(o.get("filled") or 0)) for o in items]))
        if self.via == "watch_orders":
            # An order that filled more sends its market to the REST read of trades.
            markets = {self.plan.fill_markets.get(o.get("symbol")) for o in items if str(o["id"]) in grew}
            for market_id in markets - {None}:
                self.read_short(market_id, await sync_to_async(work.resync)(market_id, self.process.on_hedge))
            return
        # Beside the trades: an order whose fills recorded fall short of its filled lost its
        # trades' message, unless that message is just late; REST reads them if it stays so.
        for order in items:
            market_id = self.plan.fill_markets.get(order.get("symbol"))
            order_id = str(order["id"])
            if order.get("status") not in (None, "open"):
                self.accounted.pop(order_id, None)  # no trade of it is told of again
            if order_id not in grew or market_id is None:
                continue
            filled = dec(order.get("filled") or 0)
            since = await sync_to_async(work.shortfall)(market_id, order_id, filled)
            if since is None:
                if order.get("status") in (None, "open"):
                    self.accounted[order_id] = self.streamed_to or since_order(order) or 0
                continue
            # The missing trade came after the trade messages handled so far (REST reads beside
            # the stream may have moved the last fill further), and after the order's fills last
            # added up: its own order message may have been lost too, and other orders' trades
            # moved the last fill on meanwhile. Where its fills were never seen to add up, from
            # the order's creation. Give or take a second: a trade's message may come after a
            # later one's.
            since = min(since, self.streamed_to or since, self.accounted.get(order_id, since_order(order) or since))
            since = max(0, since - int(LOST_TRADES_SECONDS * 1000))
            if order_id in self.short:
                # One check per order at a time; it reads from the earliest time any needed.
                self.short[order_id] = (market_id, min(self.short[order_id][1], since))
                continue
            self.short[order_id] = (market_id, since)
            check = asyncio.ensure_future(self.lost_trades(market_id, order_id))
            self.checks.add(check)
            check.add_done_callback(self.checks.discard)

    async def check_ids(self, market_id: int, trades: list[dict]) -> None:
        """Until the stream's derived ids are seen to equal REST's, REST captures its trades."""
        new, matched = await sync_to_async(work.capture_checked)(market_id, trades, self.process.on_hedge)
        if matched and not self.distrusted:
            self.trusted = True
            log.info("%s: streamed trades get the ids REST gives them; captured from the stream now",
                     self.plan.venue)
        elif matched is False and not self.distrusted:
            self.distrusted = True
            log.error("%s: streamed trades do not get the ids REST gives them (the two would record "
                      "one fill twice): captured by REST, one read per trade message", self.plan.venue)

    async def lost_trades(self, market_id: int, order_id: str) -> None:
        await asyncio.sleep(LOST_TRADES_SECONDS)
        _, since = self.short.pop(order_id)
        # Not read: the stream's next resync, or its fill audit, catches up whatever this missed.
        await self.read_lost(market_id, since, f"order {order_id}'s trades")

    async def finish_checks(self) -> None:
        """As the stream stops (a restart, a re-plan): the orders whose check still waits for
        their trades' message have those trades read now rather than dropped. The next stream's
        resync reads only from the newest fill on, so a lost trade before it would otherwise wait
        for that stream's first fill audit, a minute or more after it starts. A read that fails
        leaves it to that audit; one the venue does not answer ends at its client's request
        timeout (no shorter wait could free the stop: its next database call queues behind the
        read in the ORM's one thread)."""
        earliest: dict[int, int] = {}
        for market_id, since in self.short.values():
            earliest[market_id] = min(earliest.get(market_id, since), since)
        self.short.clear()
        for market_id, since in earliest.items():
            await self.read_lost(market_id, since, "trades of orders still being checked at the stop")

    async def read_lost(self, market_id: int, since: int, what: str) -> None:
        """The market's trades by REST from `since`, through the once-only capture: a lost trade
        message's fills."""
        try:
            read = await sync_to_async(work.catch_up)(market_id, since, self.process.on_hedge)
        except Exception as exc:
            log.warning("%s: %s not read (%s: %s)", self.plan.venue, what, type(exc).__name__, exc)
            return
        self.read_short(market_id, read)
        if read.new:
            log.info("%s: %d fill(s) whose trade message was lost, captured by REST", self.plan.venue, read.new)

    async def audit(self) -> None:
        """Every STREAM_FILL_AUDIT_SECONDS, each streamed market's trades by REST from a little
        before the last audit began, through the same once-only capture: a trade none of whose
        messages came (its trade message lost, and no later message of its order to show it,
        or one lost with it) is captured within that time instead of never. A trade already
        recorded costs nothing but its place in the answer; while the stream is down, its resync
        on reconnecting reads instead."""
        while True:
            await asyncio.sleep(settings.STREAM_FILL_AUDIT_SECONDS)
            if not self.live:
                continue
            for market_id in self.plan.fill_markets.values():
                since = self.audited.get(market_id)
                if since is None:
                    continue
                began = state.now_ms() - AUDIT_OVERLAP_MS
                try:
                    read = await sync_to_async(work.catch_up)(market_id, since, self.process.on_hedge)
                except Exception as exc:  # read again from the same time at the next audit
                    log.warning("%s: fill audit not read (%s: %s)", self.plan.venue, type(exc).__name__, exc)
                    continue
                # Read to the newest trade: the next audit overlaps this one's start. Stopped at
                # its page limit (more trades than MOST_PAGES pages since): on from there. A read
                # that stopped short meanwhile (a resync) may have moved it back: that stands.
                after = max(since, began) if read.more_from is None else read.more_from
                meanwhile = self.audited.get(market_id, since)
                self.audited[market_id] = min(after, meanwhile) if meanwhile < since else after
                new = read.new
                if new:
                    # Lost, or still on their way (a message queued behind this read): the
                    # unique key keeps the later one from recording them again.
                    log.warning("%s: %d fill(s) captured by the fill audit before any stream message "
                                "brought them (lost, or on their way)", self.plan.venue, new)

    async def heartbeat(self) -> None:
        while True:
            try:
                if self.live:
                    state.mark_fills_streamed(self.plan.account_id, self.via)
                if self.balance_live:
                    state.mark_balance_streamed(self.plan.balance_key)
                if self.orders_live:
                    state.mark_orders_streamed(self.plan.account_id)
                for symbol in self.books_live:
                    state.mark_book_streamed(self.plan.venue_id, symbol)
            except state.UNREACHABLE:
                # Redis is down or restarting: the marks lapse (ticks poll meanwhile) and the
                # next beat renews them. Ending here would leave the streams unmarked for good.
                log.warning("%s: stream marks not renewed: Redis unreachable", self.plan.venue)
            await asyncio.sleep(state.HEARTBEAT_SECONDS)

    # --- open orders ----------------------------------------------------------------------------

    async def orders(self) -> None:
        """The account's open orders of the symbols it makes, in Redis for its ticks: read by
        REST once the order stream is subscribed, then each order update laid over them."""
        delay = RETRY_FIRST
        while True:
            arrived: asyncio.Queue = asyncio.Queue()
            self.order_updates = arrived
            reader = None
            if not self.orders_from_fills:
                reader = asyncio.ensure_future(self.read(arrived, self.client.watch_orders))
            try:
                # Read once the stream is subscribed, so that no update falls between the two;
                # the updates that came while it was read are laid over it below.
                await self.subscribed()
                open_orders: dict[str, dict] = {}
                for symbol in sorted(self.plan.fill_markets):
                    rows = await sync_to_async(work.rest_open_orders)(self.plan.account_id, symbol)
                    open_orders.update((str(o["id"]), o) for o in rows)
                changed = set(self.plan.fill_markets)
                while True:
                    while not arrived.empty():
                        changed |= self.lay_over(open_orders, arrived.get_nowait())
                    for symbol in changed & set(self.plan.fill_markets):
                        state.save_open_orders(self.plan.account_id, symbol,
                                               [o for o in open_orders.values() if o.get("symbol") == symbol])
                    if not self.orders_live:
                        # Ticks read the streamed open orders once the mark says so.
                        self.orders_live = True
                        state.mark_orders_streamed(self.plan.account_id)
                        delay = RETRY_FIRST
                    changed = self.lay_over(open_orders, await arrived.get())
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.orders_live = False
                await sync_to_async(state.mark_orders_polled)(self.plan.account_id)
                self.lost("orders")
                log.warning("%s order stream lost (%s: %s); again in %.1f s", self.plan.venue,
                            type(exc).__name__, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MOST)
            finally:
                self.order_updates = None
                if reader is not None:
                    reader.cancel()

    @staticmethod
    def lay_over(open_orders: dict[str, dict], items) -> set[str]:
        if isinstance(items, BaseException):
            raise items
        return lay_over_open(open_orders, [to_decimals(o) for o in items])

    # --- balance ----------------------------------------------------------------------------

    async def balance(self) -> None:
        delay = RETRY_FIRST
        key = self.plan.balance_key  # a fingerprint of the client's settings: reckoned once
        while True:
            # ccxt keeps the assets pushed so far: after a gap they could be older than the
            # snapshot read below, so they go.
            self.client.balance = {}
            watching = asyncio.ensure_future(self.client.watch_balance())
            try:
                # The snapshot is read once the stream is subscribed, so that no change falls
                # between the two; it goes through the desk's REST client and request budget.
                await self.subscribed(BALANCE_SUBSCRIBED)
                snapshot = await sync_to_async(work.rest_balance)(self.plan.account_id)
                state.save_balance(key, snapshot)
                # Readers take the shared balance as streamed once the mark says so.
                self.balance_live = True
                state.mark_balance_streamed(key)
                delay = RETRY_FIRST
                while True:
                    pushed = to_decimals(await watching)
                    watching = asyncio.ensure_future(self.client.watch_balance())
                    self.saw("balance", pushed.get("timestamp"))
                    state.save_balance(key, laid_over(snapshot, pushed))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.balance_live = False
                self.lost("balance")
                await sync_to_async(state.mark_balance_polled)(key)
                log.warning("%s balance stream lost (%s: %s); again in %.1f s", self.plan.venue,
                            type(exc).__name__, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MOST)
            finally:
                watching.cancel()
                if watching.done() and not watching.cancelled():
                    watching.exception()  # seen: the loss was logged above

    # --- books ------------------------------------------------------------------------------

    async def book(self, symbol: str) -> None:
        delay = RETRY_FIRST
        levels = state.DEEP_BOOK_LEVELS if symbol in self.plan.deep_books else state.BOOK_LEVELS
        paced = symbol not in self.plan.hedge_books
        while True:
            try:
                book = await self.client.watch_order_book(symbol)
                while book is not None:
                    version = _version(book)
                    bids = [(Decimal(repr(p)), Decimal(repr(a))) for p, a, *_ in book["bids"][:levels]]
                    asks = [(Decimal(repr(p)), Decimal(repr(a))) for p, a, *_ in book["asks"][:levels]]
                    state.save_book(self.plan.venue_id, symbol, bids, asks, book.get("timestamp"), levels)
                    if symbol not in self.books_live:
                        self.books_live.add(symbol)
                        state.mark_book_streamed(self.plan.venue_id, symbol)
                    self.saw("book", book.get("timestamp"), symbol)
                    if paced:
                        await asyncio.sleep(WATCHED_BOOK_SECONDS)
                    else:
                        await self.process.book_moved(self.plan.venue_id, symbol, bids, asks)
                    book = self.newer_book(symbol, version)
                delay = RETRY_FIRST
            except asyncio.CancelledError:
                raise
            except ccxt.ChecksumError:
                # A gap in the book's sequence: ccxt dropped the book; watching again subscribes
                # again, and the book is rebuilt from a fresh snapshot.
                self.book_not_live(symbol)
                log.info("%s %s book: a gap in its sequence, fresh snapshot", self.plan.venue, symbol)
                forget_failed(self.client)
            except Exception as exc:
                self.book_not_live(symbol)
                self.lost("book")
                log.warning("%s %s book stream lost (%s: %s); again in %.1f s", self.plan.venue, symbol,
                            type(exc).__name__, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MOST)


    def book_not_live(self, symbol: str) -> None:
        """The saved book may miss a change now: only its own time says how fresh it is."""
        self.books_live.discard(symbol)
        state.mark_book_polled(self.plan.venue_id, symbol)

    def newer_book(self, symbol: str, version: tuple) -> dict | None:
        """ccxt's book of `symbol` if it changed since `version` was saved, else None.

        A depth message that arrives while this loop is busy (book_moved reading the markets in
        the ORM's thread, slow on a loaded machine) is applied to ccxt's book, but its watch
        resolves for nobody: the next watch waits for the message after it. On a quiet book that
        could be never, and the saved book would stay one change behind; taken from ccxt's cache
        here, it is saved at once."""
        found = (self.client.orderbooks or {}).get(symbol)
        if found is None or _version(found) == (None, None) or _version(found) == version:
            return None
        return found


def since_order(order: dict) -> int | None:
    """When the order was created (ms), the earliest any trade of it can be; None if unknown."""
    stamp = order.get("timestamp")
    return None if stamp is None else int(stamp)


def _version(book) -> tuple:
    """What tells one state of a ccxt book from the next: its sequence number and time."""
    return book.get("nonce"), book.get("timestamp")


def forget_failed(client) -> None:
    """Drop the failed futures a ccxt.pro client keeps after handing them out.

    An error raised while nobody awaited its stream (a gap found while this loop was saving the
    book before) is stored by ccxt and given to the next watch, but the failed future stays in
    the client's table: every watch after that returns it, failed, at once, until the stream
    resolves again. Under load that was a loop of thousands of "gap" lines a millisecond
    starving everything else; without the stale future the next watch waits for the fresh book.
    """
    for connection in client.clients.values():
        for message_hash in [h for h, future in connection.futures.items() if future.done()]:
            del connection.futures[message_hash]


def latest(items: list[dict]) -> int | None:
    """The venue's latest time in a batch of trades or orders (an order's last update or trade,
    else its creation), or None when it gave none."""
    times = [
        t for item in items
        for t in (item.get("lastUpdateTimestamp"), item.get("lastTradeTimestamp"), item.get("timestamp"))
        if t is not None
    ]
    return max(times, default=None)


def laid_over(snapshot: dict, pushed: dict) -> dict:
    """The balance read as the stream opened, with every asset the stream pushed since as it
    pushed it last (ccxt keeps the last figures of each asset it was sent)."""
    return {kind: {**(snapshot.get(kind) or {}), **(pushed.get(kind) or {})} for kind in ("free", "used", "total")}


class StreamProcess:
    """Every account's streams, re-planned when the enabled markets change."""

    def __init__(self, on_hedge: Callable[[int], None]):
        self.on_hedge = on_hedge
        self.streams: list[AccountStream] = []
        self.tasks: list[asyncio.Task] = []
        self.key: list | None = None
        self.books: dict[tuple[int, str], tuple[list, list]] = {}
        self.watches: list[work.MarketWatch] = []
        self.watches_at = float("-inf")  # loop time of that read: read on the first move
        self.told: dict[int, Told] = {}  # market id -> the move last told
        self.telling_later: set[int] = set()  # markets whose held-back move is told again soon
        self.said_idle = False

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                try:
                    await self.replan()
                except DatabaseError as exc:
                    # The database is down or restarting: the streams keep the plan they have,
                    # and a capture that failed meanwhile is caught up by the stream's resync.
                    log.warning("the streams' plan could not be read (%s); looking again in %.0f s",
                                exc, REPLAN_SECONDS)
                finally:
                    # A connection a database restart broke is closed here, so the captures
                    # connect afresh instead of failing on it for good.
                    await sync_to_async(close_old_connections)()
                try:
                    await asyncio.wait_for(stop.wait(), REPLAN_SECONDS)
                except TimeoutError:
                    pass
        finally:
            await self.stop_streams()
            await clients.close_except(set())

    async def replan(self) -> None:
        plans = await sync_to_async(work.plan)()
        key = sorted(p.key() for p in plans)
        if key == self.key:
            return
        self.key = key
        await self.stop_streams()
        usable = []
        for plan in plans:
            if not plan.paper and plan.exchange_id not in ccxt.pro.exchanges:
                log.info("%s (%s) has no ccxt.pro streams: its ticks poll fills and books",
                         plan.venue, plan.exchange_id)
                continue
            usable.append(plan)
        if not usable:
            await clients.close_except(set())
            if not self.said_idle:
                log.info("nothing to stream: no enabled market; looking again every %.0f s",
                         REPLAN_SECONDS)
                self.said_idle = True
            return
        self.said_idle = False
        for plan in usable:
            stream = AccountStream(plan, self)
            self.streams.append(stream)
            self.tasks += stream.tasks()
            fills = f"{sorted(plan.fill_markets)} by {stream.via or 'polling'}" if plan.fill_markets else "none"
            log.info("streaming %s: fills of %s, books of %s", plan.venue, fills,
                     sorted(plan.book_symbols) or "none")
        await clients.close_except({(p.venue, p.account_id) for p in usable})

    async def stop_streams(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for stream in self.streams:
            await stream.close()
        self.streams, self.tasks = [], []

    async def book_moved(self, venue_id: int, symbol: str, bids: list, asks: list) -> None:
        """Queue the tick of each market whose reference moved beyond its refresh tolerance."""
        self.books[(venue_id, symbol)] = (bids, asks)
        loop = asyncio.get_running_loop()
        if loop.time() - self.watches_at > WATCHES_SECONDS:
            venues = {v for v, _ in self.books}
            self.watches = await sync_to_async(work.market_watches)(venues)
            self.watches_at = loop.time()
        moving = [w for w in self.watches if w.symbol == symbol and venue_id in w.venue_ids]
        if moving:
            self.tell(moving)

    def tell(self, watches: list[work.MarketWatch]) -> None:
        """Queue the ticks of these markets whose book is beyond the tolerance from the reference
        their quotes stand on. That reference is the last tick's, read from Redis on every move:
        the watches' copy from the database is up to a second old, and a move told against an
        older reference (or none, before the first tick) was missed, or told when it was none."""
        try:
            ticked = state.tick_references([w.market_id for w in watches])
        except state.UNREACHABLE:
            ticked = {}
        for watch in watches:
            current = cross_mid(
                self.books[(v, watch.symbol)] for v in watch.venue_ids if (v, watch.symbol) in self.books
            )
            # The newer of the two copies of the tick's reference (Redis's, unless it was down).
            tick_reference, tick_ms = watch.reference, watch.reference_ms
            if watch.market_id in ticked and ticked[watch.market_id][1] >= (tick_ms or 0):
                tick_reference, tick_ms = ticked[watch.market_id]
            told = self.told.get(watch.market_id)
            if not moved_beyond(quoted_from(tick_reference, tick_ms, told), current, watch.tolerance_bps):
                continue
            if throttle(f"stream-tick:{watch.market_id}", max(1, settings.STREAM_TICK_MIN_MS)):
                events.reference_moved.emit(market_id=watch.market_id)
                # Until a tick writes its reference, this move is not news.
                self.told[watch.market_id] = Told(tick_ms, current)
            else:
                # A tick was queued moments ago, and may have read the book before this move:
                # told again once the throttle lets it, or the quotes could stand on the old
                # book until the next move or beat.
                self.tell_later(watch.market_id)

    def tell_later(self, market_id: int) -> None:
        if market_id in self.telling_later:
            return
        self.telling_later.add(market_id)

        def again() -> None:
            self.telling_later.discard(market_id)
            try:
                self.tell([w for w in self.watches if w.market_id == market_id])
            except Exception as exc:  # Redis away: the next move or the beat ticks the market
                log.warning("a held-back move of market %s not told: %s: %s", market_id,
                            type(exc).__name__, exc)

        asyncio.get_running_loop().call_later(max(1, settings.STREAM_TICK_MIN_MS) / 1000, again)
