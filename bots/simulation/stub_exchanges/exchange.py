"""What the local exchange stubs share: the exchange behind the protocol, and an HTTP front.

`StubExchange` is the state of one exchange (one BTC/USDT market on Ballast's pure matching
engine, balances for the API-key account "bot" and a "liquidity" account whose resting orders
tests seed, the orders and trades so far, one lock) plus a threaded HTTP server on loopback
with faults on demand. Each stub (binance.py, hollaex.py) is a subclass that speaks its
exchange's protocol in `serve`. A websocket front can share the same object:
everything it would push is in `orders`, `trades` and `book`, read under `lock`, and every
change to them is announced to `listeners` (a `Change`, under one sequence of update ids that
the depth snapshot gives too: binance_ws.py turns them into stream events).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from bots.engine.matching import Balances, Book, Order, Trade
from bots.engine.rules import MarketRules

BOT, LIQUIDITY = "bot", "liquidity"
RULES = MarketRules(
    symbol="BTC/USDT",
    base="BTC",
    quote="USDT",
    price_tick=Decimal("0.01"),
    amount_step=Decimal("0.00001"),
    min_amount=Decimal("0.00001"),
    min_cost=Decimal("5"),
    maker_fee=Decimal("0.001"),
    taker_fee=Decimal("0.001"),
)


Levels = list[tuple[Decimal, Decimal]]


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Change:
    """What one request changed, for the streams: the bot's orders and trades, and the book's
    levels whose amount changed (0: gone), under the update id the change took."""

    update_id: int
    time: int
    orders: list[Order] = field(default_factory=list)
    trades: list[Trade] = field(default_factory=list)
    bids: Levels = field(default_factory=list)
    asks: Levels = field(default_factory=list)


def _diff(before: Levels, after: Levels) -> Levels:
    old, new = dict(before), dict(after)
    return [(p, new.get(p, Decimal(0))) for p in sorted(set(old) | set(new)) if old.get(p) != new.get(p)]


class StubExchange(ABC):
    """One exchange's state behind a loopback HTTP server; subclasses speak the protocol."""

    rules = RULES  # what its matching refuses; an exchange without a minimum value says so

    def __init__(self, balances: dict[str, str] | None = None, port: int = 0, first_id: int = 1000):
        """`port` 0 takes any free one; a stub served for the demo numbers its orders and trades
        from `first_id` on, so ids of an earlier run in Ballast's records are never reused."""
        funds = balances if balances is not None else {"BTC": "1", "USDT": "100000"}
        self.lock = self._lock = threading.Lock()
        self._ids = {"order": first_id, "trade": first_id + 4000}
        self.book = Book(
            self.rules,
            balances=Balances((BOT, asset, Decimal(v), Decimal(0)) for asset, v in funds.items()),
            next_id=self._next_id,
            clock=self.clock,
        )
        self.orders: dict[str, Order] = {}
        self.trades: list[Trade] = []
        self.requests: list[tuple[str, str, dict]] = []  # (method, path, params), for assertions
        self.update_id = 1  # the book's sequence: one per change, as binance's depth has
        self.listeners: list[Callable[[Change], None]] = []  # called with the lock held
        self._faults: deque[tuple[int, str | None]] = deque()
        self._delay = 0.0
        self._faults_only = self._delay_only = None
        self._server = _Server(("127.0.0.1", port), _handler_for(self))
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        # A short poll interval: stop() waits for one, and every test stops a stub.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    # --- the protocol, per exchange -------------------------------------------------------

    @abstractmethod
    def params_of(self, method: str, raw: str) -> dict:
        """The request's parameters from its query string or body."""

    @abstractmethod
    def serve(self, method: str, path: str, params: dict, raw: str, headers) -> tuple[int, str]:
        """One request: the HTTP status and JSON body of the answer."""

    def fault_body(self, status: int) -> str:
        return f"<html><body><h1>{status}</h1></body></html>"

    def clock(self) -> int:
        """The exchange's time in ms, which stamps orders and trades."""
        return now_ms()

    # --- for tests ------------------------------------------------------------------------

    def seed_liquidity(self, side: str, price, amount) -> Order:
        """Rest an order of the liquidity account on the book, funding it first."""
        price, amount = Decimal(str(price)), Decimal(str(amount))
        asset, need = (RULES.quote, price * amount) if side == "buy" else (RULES.base, amount)
        with self._lock:
            self.book.balances.deposit(LIQUIDITY, asset, need)
            return self._submit(LIQUIDITY, side, "limit", amount, price, None, "GTC").order

    def lay_liquidity(self, levels: list[tuple[str, Decimal, Decimal]]) -> None:
        """Replace the liquidity account's resting orders by these (side, price, amount) levels,
        as one change: one depth event, so a stream never sees the book empty in between."""
        with self._lock:
            before = self._depth()
            touched, trades = [], []
            for order in self.book.open_orders(LIQUIDITY):
                touched.append(self.book.cancel(LIQUIDITY, order.id))
            for side, price, amount in levels:
                asset, need = (RULES.quote, price * amount) if side == "buy" else (RULES.base, amount)
                self.book.balances.deposit(LIQUIDITY, asset, need)
                execution = self.book.submit(LIQUIDITY, side, "limit", amount, price, None, "GTC")
                self.orders[execution.order.id] = execution.order
                self.trades += execution.trades
                touched += execution.touched.values()
                trades += execution.trades
            self._announce(before, touched, trades)

    def take(self, side: str, amount, account: str = "user") -> list[Trade]:
        """Another account's market order (a user of the exchange), funded first; its trades."""
        amount = Decimal(str(amount))
        with self._lock:
            best = (self.book.asks if side == "buy" else self.book.bids)[0].price
            asset, need = (RULES.quote, best * amount * 2) if side == "buy" else (RULES.base, amount)
            self.book.balances.deposit(account, asset, need)
            return self._submit(account, side, "market", amount, None, None, "IOC").trades

    def balance(self, asset: str, account: str = BOT) -> tuple[Decimal, Decimal]:
        return self.book.balances.free(account, asset), self.book.balances.used(account, asset)

    def fail_next(self, status: int, body: str | None = None, count: int = 1, only: str | None = None):
        """Answer the next `count` requests with this status and body instead of serving them;
        with `only` ("POST /api/v3/order"), the next ones to that endpoint."""
        self._faults.extend([(status, body)] * count)
        self._faults_only = only

    def delay_next(self, seconds: float, only: str | None = None):
        """Serve the next request (to `only`, if given) after `seconds`: a client with a shorter
        timeout gives up, and the request is served all the same."""
        self._delay = seconds
        self._delay_only = only

    @property
    def connections_accepted(self) -> int:
        """TCP connections the server took so far (clients keep theirs alive)."""
        return self._server.accepted

    def stop(self):
        """Stop serving, and close the connections clients keep alive: a stopped exchange takes
        no request on an old connection either, and no handler thread waits on one."""
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # --- the exchange ---------------------------------------------------------------------

    def _next_id(self, kind: str) -> str:
        self._ids[kind] += 1
        return str(self._ids[kind])

    def _submit(self, account, side, type, amount, price, client_id, tif):
        before = self._depth()
        execution = self.book.submit(account, side, type, amount, price, client_id, tif)
        self.orders[execution.order.id] = execution.order
        self.trades += execution.trades
        self._announce(before, list(execution.touched.values()), execution.trades)
        return execution

    def _cancel(self, account: str, order_id: str) -> Order:
        before = self._depth()
        order = self.book.cancel(account, order_id)
        self._announce(before, [order], [])
        return order

    def _depth(self) -> tuple[Levels, Levels]:
        return self.book.depth("buy"), self.book.depth("sell")

    def _announce(self, before: tuple[Levels, Levels], orders: list[Order], trades: list[Trade]):
        bids, asks = (_diff(b, a) for b, a in zip(before, self._depth(), strict=True))
        if bids or asks:
            self.update_id += 1
        change = Change(
            self.update_id, now_ms(), [o for o in orders if o.account == BOT],
            [t for t in trades if t.account == BOT], bids, asks,
        )
        for listener in self.listeners:
            listener(change)


class _Server(ThreadingHTTPServer):
    """A threaded HTTP server that knows its open connections, so stop() can close them."""

    def __init__(self, address, handler):
        super().__init__(address, handler)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        self.accepted = 0  # connections taken so far, for tests

    def process_request(self, request, client_address):
        with self._open_lock:
            self._open.add(request)
            self.accepted += 1
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address):
        pass  # clients that timed out or went away

    def open_connections(self) -> list[socket.socket]:
        with self._open_lock:
            return list(self._open)

    def close_connections(self) -> None:
        with self._open_lock:
            open_, self._open = list(self._open), set()
        for request in open_:
            try:
                request.shutdown(socket.SHUT_RDWR)  # the handler's read ends: its thread exits
            except OSError:
                pass
            request.close()


def _handler_for(stub: StubExchange):
    class Handler(BaseHTTPRequestHandler):
        # Keep-alive, as real exchanges serve: ccxt's sessions reuse one connection instead of
        # opening a TCP connection per request. Every answer says its Content-Length.
        protocol_version = "HTTP/1.1"
        # Without TCP_NODELAY the body, written after the headers, waited for the client's
        # delayed ACK of them: 40 ms an answer once the connection stays open (measured).
        disable_nagle_algorithm = True

        def log_message(self, format, *args):  # keep pytest output clean
            pass

        def _serve(self):
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            # Read the body whatever the method: left unread it would be taken for the next request.
            body = self.rfile.read(length).decode() if length else ""
            raw = url.query if self.command in ("GET", "DELETE") else body
            params = stub.params_of(self.command, raw)
            stub.requests.append((self.command, url.path, params))
            endpoint = f"{self.command} {url.path}"
            if stub._delay and stub._delay_only in (None, endpoint):
                delay, stub._delay = stub._delay, 0.0
                time.sleep(delay)
            if stub._faults and stub._faults_only in (None, endpoint):
                status, body = stub._faults.popleft()
                return self._answer(status, body if body is not None else stub.fault_body(status))
            try:
                status, body = stub.serve(self.command, url.path, params, raw, self.headers)
            except Exception as exc:  # a bug in the stub: say so rather than drop the connection
                status, body = 500, json.dumps({"code": -1000, "msg": f"stub failed: {exc!r}"})
            self._answer(status, body)

        def _answer(self, status: int, body: str):
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = _serve

    return Handler
