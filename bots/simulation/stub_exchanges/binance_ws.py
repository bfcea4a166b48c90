"""Local websocket stubs beside the REST stubs and on their state: the machinery every one shares
(`WsStub`: an aiohttp server in a thread of its own, connections of two kinds, faults on demand)
and binance's spot websockets. hollaex_ws.py is HollaEx's.

ccxt.pro's binance class is what talks to it, so what it sends is what that class parses:

- the user data stream over the WebSocket API (ccxt 4.5 subscribes with
  `userDataStream.subscribe.signature`, signed like a REST call, and reads events wrapped as
  {"subscriptionId": 0, "event": {...}}): an `executionReport` for every change to the bot's
  orders, one per trade with x=TRADE, which watch_my_trades and watch_orders turn into trades
  and orders, followed (as binance sends it) by an `outboundAccountPosition` with the bot's
  balances of the market's two assets, which watch_balance turns into the balance;
- the diff depth stream (`btcusdt@depth@100ms` on /ws/<n>, answered {"result": null, "id": ...}):
  a `depthUpdate` per change of the book with the update ids U and u, which watch_order_book
  stitches onto the REST depth snapshot's lastUpdateId.

Faults on demand, each for the next event of a kind ("user" or "depth"): a dropped connection
(`drop`), an outage during which connections are refused and events lost (`go_down`, `come_up`),
a skipped sequence number (`gap_next`), a duplicated message (`duplicate_next`), a delayed one
(`delay_next`, later ones wait behind it as on one TCP connection), a request acted on late
(`hold_next_answer`: a subscription the exchange registers only after a while).

    with BinanceStub() as rest, BinanceWsStub(rest) as ws:
        client = ccxt.pro.binance({**ws.ccxt_config(), "apiKey": ..., "secret": ...})
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from decimal import Decimal

from aiohttp import WSMsgType, web

from bots.simulation.stub_exchanges.binance import MARKET_ID, BinanceStub, fmt
from bots.simulation.stub_exchanges.binance import ccxt_config as binance_ccxt_config
from bots.simulation.stub_exchanges.exchange import Change

USER, DEPTH = "user", "depth"
DEPTH_STREAM = MARKET_ID.lower() + "@depth"


def ccxt_config(rest_url: str, ws_url: str) -> dict:
    """The REST stub's ccxt options plus the websocket URLs, for ccxt.pro.binance."""
    config = binance_ccxt_config(rest_url)
    config["urls"]["api"]["ws"] = {"spot": ws_url + "/ws", "ws-api": {"spot": ws_url + "/ws-api/v3"}}
    return config


@dataclass
class _Connection:
    kind: str
    socket: web.WebSocketResponse
    outbox: asyncio.Queue = field(default_factory=asyncio.Queue)
    subscribed: bool = False
    topics: set[str] = field(default_factory=set)  # where an exchange subscribes by topic


class WsStub(ABC):
    """The server and its faults; a subclass speaks one exchange's protocol: `routes` (path to
    the kind of its connections), `accept` (may refuse a connection), `welcome` (messages sent on
    connecting), `answer` (to a client's message) and `events` (what a change of the REST stub's
    state makes, as (kind, message) pairs)."""

    routes: dict[str, str] = {}

    def __init__(self, rest, port: int = 0):
        self.rest = rest
        self.sent: list[tuple[str, dict]] = []  # (kind, message) as sent, for assertions
        self.received: list[tuple[str, dict]] = []  # (kind, request) from clients
        self._connections: list[_Connection] = []
        self._faults: dict[str, dict[str, float]] = {USER: {}, DEPTH: {}}
        self._down: set[str] = set()
        self._port = port
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        self._ready.wait(10)
        rest.listeners.append(self._on_change)

    # --- for tests ------------------------------------------------------------------------

    def connections(self, kind: str) -> int:
        return sum(1 for c in self._connections if c.kind == kind and c.subscribed)

    def drop(self, kind: str | None = None) -> None:
        """Close the open connections (of one kind): the clients see the server go away."""
        self._call(self._close, kind)

    def go_down(self, kind: str | None = None) -> None:
        """Drop the connections and refuse new ones until come_up(); events meanwhile are lost."""
        self._down |= {kind} if kind else {USER, DEPTH}
        self.drop(kind)

    def come_up(self) -> None:
        self._down.clear()

    def gap_next(self, kind: str = DEPTH, count: int = 1) -> None:
        """Leave the next `count` events of this kind unsent: their sequence numbers skipped."""
        self._fault(kind, "gap", count)

    def duplicate_next(self, kind: str = USER) -> None:
        self._fault(kind, "duplicate")

    def delay_next(self, seconds: float, kind: str = USER) -> None:
        self._fault(kind, "delay", seconds)

    def hold_next_answer(self, seconds: float, kind: str = USER) -> None:
        """Act on the next request a client sends (a subscription) only after `seconds`, as an
        exchange under load does: until then the connection is not subscribed."""
        self._fault(kind, "hold", seconds)

    def stop(self) -> None:
        if self._on_change in self.rest.listeners:
            self.rest.listeners.remove(self._on_change)
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # --- the server -----------------------------------------------------------------------

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        for path, kind in self.routes.items():
            app.router.add_get(path, self._handler(kind))
        self._runner = web.AppRunner(app)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", self._port)
        self._loop.run_until_complete(site.start())
        port = site._server.sockets[0].getsockname()[1]
        self.base_url = f"ws://127.0.0.1:{port}"
        self._ready.set()
        self._loop.run_forever()

    async def _shutdown(self) -> None:
        await self._close(None)
        await self._runner.cleanup()

    def _call(self, function, *args) -> None:
        asyncio.run_coroutine_threadsafe(function(*args), self._loop).result(10)

    def _fault(self, kind: str, name: str, value: float = 1) -> None:
        self._faults[kind][name] = value

    async def _close(self, kind: str | None) -> None:
        for connection in [c for c in self._connections if kind in (None, c.kind)]:
            self._connections.remove(connection)
            await connection.socket.close()

    def _handler(self, kind: str):
        async def handle(request: web.Request) -> web.StreamResponse:
            return await self._session(request, kind)

        return handle

    async def _session(self, request: web.Request, kind: str) -> web.StreamResponse:
        kind = self.kind_of(request, kind)
        if kind in self._down:
            return web.Response(status=503, text="stub is down")
        refused = self.accept(request, kind)
        if refused is not None:
            return refused
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        connection = _Connection(kind, socket)
        self._connections.append(connection)
        sender = asyncio.ensure_future(self._send_loop(connection))
        try:
            for text in self.welcome(connection):
                await socket.send_str(json.dumps(text))
            async for message in socket:
                if message.type != WSMsgType.TEXT:
                    continue
                payload = json.loads(message.data)
                self.received.append((kind, payload))
                hold = self._faults[kind].pop("hold", 0)
                if hold:
                    await asyncio.sleep(hold)
                # Answers go through the outbox, behind any event queued before them.
                for answer in self.answer(connection, payload):
                    connection.outbox.put_nowait((0, json.dumps(answer)))
        finally:
            sender.cancel()
            if connection in self._connections:
                self._connections.remove(connection)
        return socket

    # --- the protocol, per exchange -------------------------------------------------------

    def kind_of(self, request: web.Request, kind: str) -> str:
        """The kind of a connection to this path (a subclass may tell by the query)."""
        return kind

    def accept(self, request: web.Request, kind: str) -> web.Response | None:
        """None to accept the connection, else the HTTP answer that refuses it."""
        return None

    def welcome(self, connection: _Connection) -> list[dict]:
        return []

    @abstractmethod
    def answer(self, connection: _Connection, payload: dict) -> list[dict]:
        """The messages answering one the client sent."""

    @abstractmethod
    def events(self, change: Change) -> list[tuple[str, dict]]:
        """The (topic, message) pairs one change of the exchange's state sends."""

    def delivers(self, connection: _Connection, message: dict) -> bool:
        """Whether a subscribed connection of the message's kind is sent it (a subclass whose
        exchange subscribes topic by topic says which)."""
        return True


    async def _send_loop(self, connection: _Connection) -> None:
        while True:
            delay, text = await connection.outbox.get()
            if delay:
                await asyncio.sleep(delay)
            if not connection.socket.closed:
                await connection.socket.send_str(text)

    # --- events ---------------------------------------------------------------------------

    def _on_change(self, change: Change) -> None:
        """The REST stub's listener, called in its request thread with its lock held: the events
        are built here, in the order the changes happened, and sent from the server's loop."""
        for kind, message in self.events(change):
            self._loop.call_soon_threadsafe(self._publish, kind, message)

    def _publish(self, kind: str, message: dict) -> None:
        faults = self._faults[kind]
        if faults.get("gap"):
            faults["gap"] -= 1
            return
        copies = 2 if faults.pop("duplicate", None) else 1
        delay = faults.pop("delay", 0)
        text = json.dumps(message)
        for connection in self._connections:
            if connection.kind == kind and connection.subscribed and self.delivers(connection, message):
                for _ in range(copies):
                    connection.outbox.put_nowait((delay, text))
                    self.sent.append((kind, message))


class BinanceWsStub(WsStub):
    routes = {"/ws/{stream}": DEPTH, "/ws-api/v3": USER}

    def ccxt_config(self) -> dict:
        """The REST stub's ccxt options plus the websocket URLs, for ccxt.pro.binance."""
        return ccxt_config(self.rest.base_url, self.base_url)

    def answer(self, connection: _Connection, payload: dict) -> list[dict]:
        return [self._answer(connection, payload)]

    def _answer(self, connection: _Connection, payload: dict) -> dict:
        method, request_id = payload.get("method"), payload.get("id")
        if connection.kind == DEPTH and method == "SUBSCRIBE":
            connection.subscribed = any(p.startswith(DEPTH_STREAM) for p in payload.get("params", []))
            return {"result": None, "id": request_id}
        if connection.kind == USER and method == "userDataStream.subscribe.signature":
            if not _signed(payload.get("params") or {}):
                return {"id": request_id, "status": 401,
                        "error": {"code": -1022, "msg": "Signature for this request is not valid."}}
            connection.subscribed = True
            return {"id": request_id, "status": 200, "result": {"subscriptionId": 0}}
        return {"id": request_id, "status": 400, "error": {"code": -1100, "msg": f"stub does not serve {method}"}}

    def events(self, change: Change) -> list[tuple[str, dict]]:
        events = []
        if change.bids or change.asks:
            events.append((DEPTH, {
                "e": "depthUpdate", "E": change.time, "s": MARKET_ID,
                "U": change.update_id, "u": change.update_id,
                "b": [[fmt(p), fmt(a)] for p, a in change.bids],
                "a": [[fmt(p), fmt(a)] for p, a in change.asks],
            }))
        for order in change.orders:
            for report in _execution_reports(order, [t for t in change.trades if t.order_id == order.id], change.time):
                events.append((USER, {"subscriptionId": 0, "event": report}))
        if change.orders:
            events.append((USER, {"subscriptionId": 0, "event": self._account_position(change.time)}))
        return events

    def _account_position(self, time: int) -> dict:
        """binance's event after any change to the bot's funds: the assets that changed (here
        always the market's two), free and locked."""
        return {"e": "outboundAccountPosition", "E": time, "u": time, "B": [
            {"a": a, "f": fmt(self.rest.balance(a)[0]), "l": fmt(self.rest.balance(a)[1])}
            for a in ("BTC", "USDT")
        ]}


def _execution_reports(order, trades, time: int) -> list[dict]:
    """binance's executionReport events for one change of an order: one per trade (x=TRADE),
    else one saying what became of it (NEW, CANCELED, EXPIRED)."""
    status = {"closed": "FILLED", "canceled": "CANCELED", "expired": "EXPIRED"}.get(order.status)
    status = status or ("PARTIALLY_FILLED" if order.filled else "NEW")
    base = {
        "e": "executionReport", "E": time, "s": MARKET_ID, "c": order.client_order_id or "",
        "S": order.side.upper(), "o": "MARKET" if order.type == "market" else "LIMIT",
        "f": "IOC" if order.time_in_force == "IOC" else "GTC", "q": fmt(order.amount),
        "p": fmt(order.price), "P": "0.00000000", "F": "0.00000000", "g": -1, "C": "",
        "r": "NONE", "i": int(order.id), "I": 0, "w": order.status == "open", "M": True,
        "O": order.timestamp, "Q": "0.00000000",
    }
    if not trades:
        execution = {"CANCELED": "CANCELED", "EXPIRED": "EXPIRED"}.get(status, "NEW")
        return [{**base, "x": execution, "X": status, "l": "0.00000000", "z": fmt(order.filled),
                 "L": "0.00000000", "n": "0", "N": None, "T": time, "t": -1, "m": False,
                 "Z": fmt(order.cost), "Y": "0.00000000"}]
    reports = []
    # Cumulative figures as they stood after each trade: the order's, less the trades after it.
    filled, cost = order.filled, order.cost
    for trade in reversed(trades):
        reports.append({
            **base, "x": "TRADE", "X": status, "l": fmt(trade.amount), "z": fmt(filled),
            "L": fmt(trade.price), "n": fmt(trade.fee), "N": trade.fee_currency,
            "T": trade.timestamp, "t": int(trade.id), "m": trade.taker_or_maker == "maker",
            "Z": fmt(cost), "Y": fmt(trade.cost),
        })
        filled, cost = filled - trade.amount, cost - trade.cost
        status = "PARTIALLY_FILLED" if filled > Decimal(0) else "NEW"
    return reports[::-1]


def _signed(params: dict) -> bool:
    """The WebSocket API's signature: HMAC-SHA256 of the other params, sorted, as a query."""
    if params.get("apiKey") != BinanceStub.API_KEY or "signature" not in params:
        return False
    query = "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "signature")
    expected = hmac.new(BinanceStub.SECRET.encode(), query.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(params["signature"], expected)
