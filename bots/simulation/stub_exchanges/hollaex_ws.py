"""A local stand-in for a HollaEx Kit exchange's websocket (/stream), beside the REST stub and on
its state, for ccxt.pro's `hollaex` class. The server and its faults are the binance stub's
(binance_ws.py, `WsStub`); what goes over the wire is what ccxt 4.5.90's
pro/hollaex.py sends and parses, checked against the hollaex-kit server (server/ws/server.js,
index.js, sub.js, hub.js):

- one URL, /stream; a private connection carries its HMAC in the query (api-key, api-expires,
  api-signature = HMAC-SHA256(secret, "CONNECT/stream" + expires)) and is refused with HTTP 401
  when it is wrong; the kit greets with {"message": "Welcome!"} and, when authenticated, a second
  message; {"op": "ping"} is answered {"message": "pong"};
- {"op": "subscribe", "args": ["order"]} on the private connection: a "partial" of the bot's open
  orders, then an "insert" or "update" message with the whole order (its cumulative `filled`,
  no trade) each time one of its orders changes;
- {"op": "subscribe", "args": ["usertrade"]} on the private connection: an "insert" message with
  the bot's trades of each match, each trade with the fields of the REST trade (`/v2/user/trades`:
  size, side, price, symbol, timestamp, order_id, fee, fee_coin, and no id) plus `is_same`, in
  the shape of ccxt's sample of the kit's message (pro/hollaex.py, handle_my_trades; the kit
  relays the HollaEx Network's message untouched: server/ws/hub.js, handleHubData), sent before
  the order messages of the same match. On subscribing, a "partial" of the bot's latest trades
  (50 at most, newest first, as the order topic's partial), which may be empty: ccxt's note says
  the first message is "usually an empty array" for an account without trades; the network's
  code is not public, so this is the cautious reading (a client must cope with old trades);
- {"op": "subscribe", "args": ["wallet"]} on the private connection: a "partial" of the bot's
  whole balance, then an "update" with the whole balance again after each change that moves its
  funds or holds (an order placed or cancelled, a match), after that change's order messages.
  The data is the REST balance's (`/v2/user/balance`) `<coin>_balance` (total) and
  `<coin>_available` (free) per coin, as in ccxt's sample of the kit's message
  (pro/hollaex.py, handle_balance); the kit relays the network's message untouched
  (server/ws/sub.js, handleHubData), whose later messages ccxt parses as the partial;
- {"op": "subscribe", "args": ["orderbook:btc-usdt"]}: the whole book at once ("partial"), again
  after every change, with no sequence number (the kit relays the network's snapshots);
- errors as {"error": "..."} in the kit's words.

Faults as the binance stub's, by kind: "user" (the order, usertrade and wallet topics, one
connection)
and "depth" (the order book). A gap on the private connection is a lost message: a lost order
message, and the next one shows the order's filled grown by both; a lost usertrade message, and
its trades are never streamed.

    with HollaExStub() as rest, HollaExWsStub(rest) as ws:
        client = ccxt.pro.hollaex({**ws.ccxt_config(), "apiKey": ..., "secret": ...})
"""

from __future__ import annotations

import hashlib
import hmac
import time

from aiohttp import web

from bots.engine.matching import Trade
from bots.simulation.stub_exchanges.binance_ws import DEPTH, USER, WsStub, _Connection
from bots.simulation.stub_exchanges.exchange import BOT, Change, now_ms
from bots.simulation.stub_exchanges.hollaex import COINS, PAIR, HollaExStub, iso, number
from bots.simulation.stub_exchanges.hollaex import ccxt_config as hollaex_ccxt_config

USER_ID = 1
PARTIAL_MOST = 50  # trades in the usertrade topic's first message


def ccxt_config(rest_url: str, ws_url: str) -> dict:
    """The REST stub's ccxt options plus the websocket URL, for ccxt.pro.hollaex."""
    config = hollaex_ccxt_config(rest_url)
    config["urls"]["api"]["ws"] = ws_url + "/stream"
    return config
ORDERBOOK = f"orderbook:{PAIR}"


class HollaExWsStub(WsStub):
    routes = {"/stream": DEPTH}

    def __init__(self, rest: HollaExStub, port: int = 0):
        self._announced: set[str] = set()  # orders already sent once: later messages "update"
        super().__init__(rest, port)

    def ccxt_config(self) -> dict:
        return ccxt_config(self.rest.base_url, self.base_url)

    # --- the protocol ---------------------------------------------------------------------

    def kind_of(self, request: web.Request, kind: str) -> str:
        return USER if "api-key" in request.query else DEPTH

    def accept(self, request: web.Request, kind: str) -> web.Response | None:
        if kind != USER:
            return None
        query = request.query
        expires = query.get("api-expires") or "0"
        signed = hmac.new(HollaExStub.SECRET.encode(), f"CONNECT/stream{expires}".encode(),
                          hashlib.sha256).hexdigest()
        if query.get("api-key") != HollaExStub.API_KEY:
            return web.Response(status=401, text="Access Denied: Invalid API Key")
        if not expires.isdigit() or int(expires) < int(time.time()):
            return web.Response(status=401, text="Access Denied: API request is expired")
        if not hmac.compare_digest(query.get("api-signature") or "", signed):
            return web.Response(status=401, text="Access Denied: Invalid API Signature")
        return None

    def welcome(self, connection: _Connection) -> list[dict]:
        hello = [{"message": "Welcome!"}]
        if connection.kind == USER:
            hello.append({"message": "User bot@stub.test authenticated"})
        return hello

    def answer(self, connection: _Connection, payload: dict) -> list[dict]:
        op, args = payload.get("op"), payload.get("args")
        if op == "ping":
            return [{"message": "pong"}]
        if op != "subscribe" or not isinstance(args, list):
            return [{"error": "Error: wrong input"}]
        answers = []
        with self.rest.lock:
            for topic in args:
                if topic == "usertrade" and connection.kind == USER:
                    connection.subscribed = True
                    connection.topics.add(topic)
                    latest = sorted((t for t in self.rest.trades if t.account == BOT),
                                    key=lambda t: t.timestamp, reverse=True)[:PARTIAL_MOST]
                    answers.append({**self._message("usertrade", "partial", [
                        self.user_trade_json(t) for t in latest]), "user_id": str(USER_ID)})
                elif topic == "order" and connection.kind == USER:
                    connection.subscribed = True
                    connection.topics.add(topic)
                    open_orders = [o for o in self.rest.orders.values()
                                   if o.account == BOT and o.status == "open"]
                    self._announced |= {o.id for o in open_orders}
                    answers.append(self._message("order", "partial",
                                                 [self.rest.order_json(o) for o in open_orders]))
                elif topic == "wallet" and connection.kind == USER:
                    connection.subscribed = True
                    connection.topics.add(topic)
                    answers.append(self._wallet("partial"))
                elif topic == ORDERBOOK and connection.kind == DEPTH:
                    connection.subscribed = True
                    answers.append(self._book())
                elif topic in ("order", "usertrade", "wallet"):
                    answers.append({"error": "Bearer or HMAC authentication required"})
                else:
                    answers.append({"error": f"Topic {topic} is not supported"})
        return answers

    def events(self, change: Change) -> list[tuple[str, dict]]:
        events = []
        if change.bids or change.asks:
            events.append((DEPTH, self._book()))
        if change.trades:
            # One message for the bot's trades of the match, before its orders' messages.
            message = self._message("usertrade", "insert", [self.user_trade_json(t) for t in change.trades])
            events.append((USER, {**message, "user_id": str(USER_ID), "symbol": PAIR}))
        for order in change.orders:
            action = "update" if order.id in self._announced else "insert"
            self._announced.add(order.id)
            message = self._message("order", action, self.rest.order_json(order))
            events.append((USER, {**message, "symbol": PAIR}))
        if change.orders:
            # Every change of the bot's orders moved its funds or holds (placed, cancelled,
            # matched): the whole wallet follows, read under the REST lock as the change was.
            events.append((USER, self._wallet("update")))
        return events

    def delivers(self, connection: _Connection, message: dict) -> bool:
        return connection.kind != USER or message.get("topic") in connection.topics

    def user_trade_json(self, trade: Trade) -> dict:
        """A trade as the usertrade topic carries it: the REST trade's fields, in ccxt's sample's
        order, and `is_same` (true in that sample; undocumented, read by neither ccxt nor Ballast:
        here false, the stub's trades being against other accounts)."""
        rest = self.rest.trade_json(trade)
        return {"size": rest["size"], "side": rest["side"], "price": rest["price"],
                "symbol": rest["symbol"], "timestamp": rest["timestamp"],
                "order_id": rest["order_id"], "fee": rest["fee"], "fee_coin": rest["fee_coin"],
                "is_same": False}

    def _message(self, topic: str, action: str, data) -> dict:
        return {"topic": topic, "action": action, "user_id": USER_ID, "data": data,
                "time": int(time.time())}

    def _wallet(self, action: str) -> dict:
        """The bot's whole balance as the wallet topic carries it: the REST balance's fields."""
        data = {}
        for coin in COINS:
            free, used = self.rest.balance(coin.upper())
            data |= {f"{coin}_balance": number(free + used), f"{coin}_available": number(free)}
        return self._message("wallet", action, data)

    def _book(self) -> dict:
        """The whole book, as the kit relays it on every change (read under the REST lock)."""
        book = self.rest.book
        return {
            "topic": "orderbook", "action": "partial", "symbol": PAIR,
            "data": {
                "bids": [[number(p), number(a)] for p, a in book.depth("buy")],
                "asks": [[number(p), number(a)] for p, a in book.depth("sell")],
                "timestamp": iso(now_ms()),
            },
            "time": int(time.time()),
        }
