"""A local stand-in for a HollaEx Kit exchange's REST API (v2), for the real ccxt `hollaex` class.

The exchange behind it is the one every stub shares (bots/simulation/stub_exchanges/exchange.py): BTC/USDT on
Ballast's matching engine, a "bot" account for the API key and a "liquidity" account tests seed.
What goes over the wire is what ccxt 4.5.90's hollaex.py sends and parses, checked against the
hollaex-kit server (server/api/swagger/order.yaml, user.yaml; controllers/order.js):

- requests under /v2; private ones signed with headers api-key, api-expires (unix seconds) and
  api-signature = HMAC-SHA256(secret, method + path with query + expires + JSON body);
- market and asset names lower case with a dash (btc-usdt), numbers as JSON numbers, times as
  ISO 8601 strings with milliseconds;
- orders have UUID ids and no client order id; statuses new, pfilled, filled, canceled;
- trades carry no id: side, symbol, size, price, timestamp, order_id, fee, fee_coin;
- lists (/orders, /user/trades) answer {"count", "data"}, newest first unless order=asc, 50 by
  default and at most 100, from start_date on when given;
- errors are {"message": ...} with HTTP 400 (404 for an unknown order), in the kit's words.

One simplification: a real kit answers a new order before its engine has matched it (status
new, filled 0); this stub matches first and answers with the result, as binance does.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import parse_qsl

from bots.engine.matching import INSUFFICIENT_FUNDS, WOULD_TAKE, Order, Rejected, Trade
from bots.engine.rules import on_grid
from bots.simulation.stub_exchanges.exchange import BOT, RULES, StubExchange, now_ms

PAIR = "btc-usdt"
COINS = ("btc", "usdt")
POST_ONLY_REFUSED = (
    "Error 1001 - Order rejected. Order could not be submitted as this order was set to a post "
    "only order."
)
PRIVATE = {"/v2/user/balance", "/v2/order", "/v2/orders", "/v2/user/trades", "/v2/user",
           "/v2/user/deposits", "/v2/user/withdrawal", "/v2/user/withdrawals"}


def ccxt_config(base_url: str) -> dict:
    """ccxt constructor options that point hollaex at a stub."""
    return {"urls": {"api": {"rest": base_url}}}


class KitError(Exception):
    """An error answer as the kit gives it: {"message": ...} with an HTTP status."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status, self.body = status, {"message": message}


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_iso(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def number(value: Decimal | None):
    """A JSON number, as the kit sends them (ccxt reads them back as strings of their repr)."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


class HollaExStub(StubExchange):
    API_KEY = "stub-hollaex-key"
    SECRET = "stub-hollaex-secret"
    # A kit's pair is bounded by min_size, max_size, min_price, max_price and its increments, with
    # no minimum order value (ccxt's hollaex market has no cost minimum): the stub refuses none.
    rules = replace(RULES, min_cost=Decimal(0))

    def __init__(self, balances: dict[str, str] | None = None, **served):
        self.frozen_ms: int | None = None  # set to stamp every order and trade at one instant
        self.deposits: list[dict] = []  # the kit's deposit rows, oldest first
        self.withdrawals: list[dict] = []  # the kit's withdrawal rows, oldest first
        # The user's deposit (address, tag) per (coin, network id), listed in the kit's /user
        # "wallet" (a tag after a colon); tests change them.
        self.deposit_addresses: dict[tuple[str, str], tuple[str, str]] = {
            ("btc", "btc"): ("bc1qstubhollaexbotdeposit0000000000", ""),
            ("usdt", "trx"): ("TStubHollaExBotDeposit00000000000", ""),
        }
        # What /constants says of withdrawing each coin; tests change a fee or close a network.
        # A coin on one chain has its fee in withdrawal_fee and no withdrawal_fees (btc); a token
        # on several has one entry per network there (usdt), the kit's `min` for the coin.
        self.coin_terms: dict[str, dict] = {
            "btc": {"allow_withdrawal": True, "allow_deposit": True, "withdrawal_fee": Decimal("0.0002"),
                    "min": Decimal("0.001"), "network": "", "withdrawal_fees": None},
            "usdt": {"allow_withdrawal": True, "allow_deposit": True, "withdrawal_fee": Decimal("1"),
                     "min": Decimal("10"), "network": "trx,eth",
                     "withdrawal_fees": {
                         "trx": {"value": Decimal("1"), "active": True, "symbol": "usdt"},
                         "eth": {"value": Decimal("5"), "active": True, "symbol": "usdt"},
                     }},
        }
        super().__init__(balances, **served)

    def set_coin(self, coin: str, *, withdraw: bool | None = None,
                 deposit: bool | None = None) -> None:
        """The exchange opens or closes a coin for withdrawals or deposits, as /constants says
        (allow_withdrawal, allow_deposit); a withdrawal of a closed coin is refused."""
        if withdraw is not None:
            self.coin_terms[coin]["allow_withdrawal"] = withdraw
        if deposit is not None:
            self.coin_terms[coin]["allow_deposit"] = deposit

    def clock(self) -> int:
        return self.frozen_ms if self.frozen_ms is not None else now_ms()

    def ccxt_config(self) -> dict:
        return ccxt_config(self.base_url)

    def _next_id(self, kind: str) -> str:
        # The kit's order ids are UUIDs (it refuses any other order_id); trades have none.
        return str(uuid.uuid4()) if kind == "order" else super()._next_id(kind)

    # --- the protocol ---------------------------------------------------------------------

    def params_of(self, method: str, raw: str) -> dict:
        if method in ("GET", "DELETE"):
            return dict(parse_qsl(raw))
        return json.loads(raw) if raw else {}

    def serve(self, method, path, params, raw, headers) -> tuple[int, str]:
        try:
            if path in PRIVATE:
                self._authenticate(method, path, params, raw, headers)
            with self._lock:
                answer = self.route(method, path, params)
            return 200, json.dumps(answer)
        except KitError as exc:
            return exc.status, json.dumps(exc.body)

    def _authenticate(self, method, path, params, raw, headers):
        if headers.get("api-key") != self.API_KEY:
            raise KitError("Access Denied: Invalid API Key", 403)
        expires = headers.get("api-expires") or "0"
        if int(expires) < time.time():
            raise KitError("Access Denied: API request is expired", 403)
        query = f"?{raw}" if method in ("GET", "DELETE") and raw else ""
        body = raw if method == "POST" else ""
        signed = f"{method}{path}{query}{expires}{body}"
        expected = hmac.new(self.SECRET.encode(), signed.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(headers.get("api-signature") or "", expected):
            raise KitError("Access Denied: Invalid API Signature", 403)

    def route(self, method: str, path: str, p: dict) -> object:
        if p.get("symbol", PAIR) != PAIR:
            raise KitError(f"Invalid symbol: {p['symbol']}")
        endpoint = (method, path.removeprefix("/v2/"))
        if endpoint == ("GET", "constants"):
            return self.constants()
        if endpoint == ("GET", "orderbook"):
            return {PAIR: {
                "bids": [[number(p), number(a)] for p, a in self.book.depth("buy")],
                "asks": [[number(p), number(a)] for p, a in self.book.depth("sell")],
                "timestamp": iso(now_ms()),
            }}
        if endpoint == ("GET", "user/balance"):
            answer = {"updated_at": iso(now_ms())}
            for coin in COINS:
                free, used = self.balance(coin.upper())
                answer |= {f"{coin}_balance": number(free + used), f"{coin}_available": number(free),
                           f"{coin}_pending": 0}
            return answer
        if endpoint == ("POST", "order"):
            return self.create(p)
        if endpoint == ("GET", "order"):
            return self.order_json(self._order(p))
        if endpoint == ("DELETE", "order"):
            return self.cancel(p)
        if endpoint == ("GET", "orders"):
            return self.page(self.my_orders(p), p, self.order_json)
        if endpoint == ("GET", "user"):
            return self.user()
        if endpoint == ("GET", "user/deposits"):
            rows = [d for d in self.deposits if d["currency"] == p.get("currency", d["currency"])]
            if p.get("start_date"):
                rows = [d for d in rows if parse_iso(d["created_at"]) >= parse_iso(p["start_date"])]
            rows = rows[::-1]  # newest first, as the kit answers by default
            return {"count": len(rows), "data": rows[: min(int(p.get("limit") or 50), 100)]}
        if endpoint == ("POST", "user/withdrawal"):
            return self.withdraw(p)
        if endpoint == ("GET", "user/withdrawals"):
            rows = [w for w in self.withdrawals if w["currency"] == p.get("currency", w["currency"])]
            if p.get("start_date"):
                rows = [w for w in rows if parse_iso(w["created_at"]) >= parse_iso(p["start_date"])]
            rows = rows[::-1]
            return {"count": len(rows), "data": rows[: min(int(p.get("limit") or 50), 100)]}
        if endpoint == ("GET", "user/trades"):
            mine = [t for t in self.trades if t.account == BOT]
            return self.page(mine, p, self.trade_json)
        raise KitError(f"stub does not serve {method} {path}", 404)

    # --- the exchange ---------------------------------------------------------------------

    def _order(self, p: dict) -> Order:
        order_id = p.get("order_id") or ""
        try:
            uuid.UUID(order_id)
        except ValueError:
            raise KitError("Invalid order id") from None
        order = self.orders.get(order_id)
        if order is None or order.account != BOT:
            raise KitError("Order not found", 404)
        return order

    def create(self, p: dict) -> dict:
        side, type = p.get("side"), p.get("type")
        if side not in ("buy", "sell") or type not in ("limit", "market"):
            raise KitError("Invalid order: side must be buy or sell, type limit or market")
        amount = Decimal(str(p["size"]))
        price = Decimal(str(p["price"])) if type == "limit" else None
        if amount < RULES.min_amount or not on_grid(amount, RULES.amount_step):
            raise KitError(f"Invalid size: {p['size']}")
        if type == "limit" and (price <= 0 or not on_grid(price, RULES.price_tick)):
            raise KitError(f"Invalid price: {p['price']}")
        post_only = bool((p.get("meta") or {}).get("post_only"))
        if post_only and type == "market":
            raise KitError("Error 1001 - POST ONLY order can not be of type market")
        try:
            execution = self._submit(BOT, side, type, amount, price, None, "PO" if post_only else "GTC")
        except Rejected as exc:
            if exc.reason == INSUFFICIENT_FUNDS:
                raise KitError("Insufficient balance to perform the order") from exc
            if exc.reason == WOULD_TAKE:
                raise KitError(POST_ONLY_REFUSED) from exc
            raise KitError(str(exc)) from exc
        return self.order_json(execution.order)

    def cancel(self, p: dict) -> dict:
        order = self._order(p)
        if order.status != "open":
            raise KitError("Order not found", 404)
        self._cancel(BOT, order.id)
        # The kit answers a cancel with the order's fields, without its status.
        return {"title": "Order cancelled", "symbol": PAIR, "side": order.side,
                "size": number(order.amount), "type": order.type, "price": number(order.price),
                "id": order.id, "created_by": 1, "filled": number(order.filled)}

    def my_orders(self, p: dict) -> list[Order]:
        orders = [o for o in self.orders.values() if o.account == BOT]
        if p.get("side"):
            orders = [o for o in orders if o.side == p["side"]]
        if p.get("open") in ("true", "false"):
            orders = [o for o in orders if (o.status == "open") == (p["open"] == "true")]
        if p.get("status"):
            orders = [o for o in orders if self.status(o) == p["status"]]
        return orders

    def page(self, rows: list, p: dict, to_json) -> dict:
        """The kit's list answer: from start_date on, sorted (newest first by default), paged."""
        if p.get("start_date"):
            rows = [r for r in rows if r.timestamp >= parse_iso(p["start_date"])]
        if p.get("end_date"):
            rows = [r for r in rows if r.timestamp <= parse_iso(p["end_date"])]
        # By time only, as the kit orders them (order_by created_at or timestamp).
        rows = sorted(rows, key=lambda row: row.timestamp, reverse=p.get("order", "desc") != "asc")
        limit = min(int(p.get("limit") or 50), 100)
        start = (int(p.get("page") or 1) - 1) * limit
        return {"count": len(rows), "data": [to_json(r) for r in rows[start:start + limit]]}

    @staticmethod
    def status(o: Order) -> str:
        if o.status == "open":
            return "pfilled" if o.filled else "new"
        return "filled" if o.status == "closed" else "canceled"

    def order_json(self, o: Order) -> dict:
        answer = {
            "id": o.id, "side": o.side, "symbol": PAIR, "size": number(o.amount),
            "filled": number(o.filled), "stop": None, "fee": number(o.fee), "fee_coin": (
                RULES.base if o.side == "buy" else RULES.quote).lower(),
            "type": o.type, "price": number(o.price), "status": self.status(o),
            "fee_structure": {"maker": 0.1, "taker": 0.1}, "created_by": 1,
            "created_at": iso(o.timestamp), "updated_at": iso(o.timestamp),
        }
        if o.time_in_force == "PO":
            answer["meta"] = {"post_only": True}
        return answer

    def trade_json(self, t: Trade) -> dict:
        return {"side": t.side, "symbol": PAIR, "size": number(t.amount), "price": number(t.price),
                "timestamp": iso(t.timestamp), "order_id": t.order_id, "fee": number(t.fee),
                "fee_coin": t.fee_currency.lower()}

    def deposit(self, coin: str, amount: str, txid: str) -> None:
        """A deposit arrives: credited, and listed as the kit lists a completed one."""
        with self._lock:
            self.book.balances.deposit(BOT, coin.upper(), Decimal(amount))
            address, tag = next(iter(self.deposit_addresses.values()))
            self.deposits.append({
                "id": len(self.deposits) + 1, "amount": number(Decimal(amount)), "fee": 0,
                "address": address, "transaction_id": txid, "status": True, "dismissed": False,
                "rejected": False, "description": "", "type": "deposit",
                "currency": coin.lower(), "created_at": iso(now_ms()),
                "updated_at": iso(now_ms()), "user_id": 1,
            })

    # --- withdrawals: what ccxt's hollaex withdraw and fetchWithdrawals send and read ---------
    #
    # The answer to a withdrawal names it by the kit's reference (transaction_id, a UUID) and
    # gives no id; the stub lists the withdrawal under its own numeric id with that reference
    # as transaction_id until the network's hash replaces it (complete_withdrawal). The fee is
    # taken out of the amount, as on the binance stub. The stub refuses a field the kit's
    # withdrawal does not take, so the tests show Ballast sends none of binance's there.

    WITHDRAWAL_FIELDS = {"currency", "amount", "address", "network", "otp_code", "fee_coin"}

    def withdraw(self, p: dict) -> dict:
        unknown = sorted(set(p) - self.WITHDRAWAL_FIELDS)
        if unknown:
            raise KitError(f"Invalid parameters: {', '.join(unknown)}")
        coin = str(p.get("currency") or "").lower()
        terms = self.coin_terms.get(coin)
        if terms is None:
            raise KitError(f"Invalid currency: {p.get('currency')}")
        network = str(p.get("network") or "").lower()
        fees = terms.get("withdrawal_fees")
        if fees is not None and network not in fees:
            raise KitError(f"Invalid network: {p.get('network')}")
        if fees is None and network not in ("", coin):
            raise KitError(f"Invalid network: {p.get('network')}")
        entry = (fees or {}).get(network) or {}
        if not terms.get("allow_withdrawal") or entry.get("active") is False:
            raise KitError(f"Withdrawal is disabled for {coin}")
        amount = Decimal(str(p.get("amount")))
        fee = entry.get("value", terms["withdrawal_fee"])
        if amount < terms["min"] or amount <= fee:
            raise KitError(f"Invalid amount: minimum is {number(terms['min'])}")
        address = str(p.get("address") or "")
        if not address:
            raise KitError("Invalid address")
        try:
            self.book.balances.withdraw(BOT, coin.upper(), amount)
        except Rejected as exc:
            raise KitError("Insufficient balance to perform the withdrawal") from exc
        reference = str(uuid.uuid4())
        self.withdrawals.append({
            "id": len(self.withdrawals) + 1, "amount": number(amount), "fee": number(fee),
            "fee_coin": coin, "address": address, "transaction_id": reference, "status": False,
            "dismissed": False, "rejected": False, "description": "", "type": "withdrawal",
            "currency": coin, "network": network or coin, "created_at": iso(now_ms()),
            "updated_at": iso(now_ms()), "user_id": 1,
        })
        return {"message": "Withdrawal request is in the queue and will be processed.",
                "transaction_id": reference, "amount": number(amount), "currency": coin,
                "fee": number(fee), "fee_coin": coin}

    def complete_withdrawal(self, index: int = -1, txid: str = "0xabc") -> None:
        """The network confirmed a withdrawal: listed with its hash, status true."""
        self.withdrawals[index].update(status=True, transaction_id=txid, updated_at=iso(now_ms()))

    def end_withdrawal(self, how: str = "rejected", index: int = -1) -> None:
        """The kit dismissed or rejected a withdrawal: the amount comes back."""
        with self._lock:
            row = self.withdrawals[index]
            self.book.balances.deposit(BOT, row["currency"].upper(), Decimal(str(row["amount"])))
            row.update({how: True, "updated_at": iso(now_ms())})

    def user(self) -> dict:
        """GET /v2/user: the account, with its deposit addresses ("wallet"), which ccxt reads
        for fetchDepositAddress(es). Only the fields ccxt reads, and a few beside them."""
        return {
            "id": 1, "email": "bot@stub.invalid", "username": "bot", "verification_level": 1,
            "activated": True, "created_at": iso(0), "updated_at": iso(now_ms()),
            "wallet": [
                {"currency": coin, "address": f"{address}:{tag}" if tag else address,
                 "network": network, "standard": None, "is_valid": True, "created_at": iso(0)}
                for (coin, network), (address, tag) in self.deposit_addresses.items()
            ],
        }

    def constants(self) -> dict:
        coins = {
            coin: {"id": i + 1, "fullname": coin.upper(), "symbol": coin, "active": True,
                   "max": 100000, "increment_unit": 0.00001,
                   "type": "blockchain", "created_at": iso(0), "updated_at": iso(0),
                   **self.coin_json(coin)}
            for i, coin in enumerate(COINS)
        }
        pair = {
            "id": 1, "name": PAIR, "pair_base": "btc", "pair_2": "usdt",
            "taker_fees": {"1": 0.1}, "maker_fees": {"1": 0.1},
            "min_size": number(RULES.min_amount), "max_size": 9000,
            "min_price": number(RULES.price_tick), "max_price": 1000000,
            "increment_size": number(RULES.amount_step), "increment_price": number(RULES.price_tick),
            "active": True, "created_at": iso(0), "updated_at": iso(0),
        }
        return {"coins": coins, "pairs": {PAIR: pair}, "config": {"tiers": 1}, "status": True}

    def coin_json(self, coin: str) -> dict:
        """A coin's withdrawal terms as /constants gives them: numbers as JSON numbers."""
        terms = self.coin_terms[coin]
        fees = terms.get("withdrawal_fees")
        return {
            **{k: number(v) if isinstance(v, Decimal) else v for k, v in terms.items()},
            "withdrawal_fees": None if fees is None else {
                network: {k: number(v) if isinstance(v, Decimal) else v for k, v in entry.items()}
                for network, entry in fees.items()
            },
        }
