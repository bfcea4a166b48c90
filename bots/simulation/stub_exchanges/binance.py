"""A local stand-in for binance's spot REST API, so tests drive the real ccxt library over loopback.

Behind the HTTP is a real exchange (bots/simulation/stub_exchanges/exchange.py, shared with the hollaex stub):
one market (BTC/USDT) on Ballast's pure matching engine, with
balances for the API-key account ("bot") and a "liquidity" account whose resting orders tests seed.
Answers, error codes and messages copy binance's, so that ccxt's own parsing and exception
mapping are what gets tested. Faults (HTTP statuses, malformed bodies, slowness) can be injected.

    with BinanceStub() as stub:
        client = ccxt.binance({**stub.ccxt_config(), "apiKey": stub.API_KEY, "secret": stub.SECRET})
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from decimal import Decimal
from urllib.parse import parse_qsl

from bots.engine.matching import INSUFFICIENT_FUNDS, WOULD_TAKE, Order, Rejected, Trade
from bots.engine.rules import on_grid
from bots.simulation.stub_exchanges.exchange import BOT, LIQUIDITY, RULES, StubExchange, now_ms

__all__ = ["BOT", "LIQUIDITY", "RULES", "BinanceStub", "now_ms"]
MARKET_ID = "BTCUSDT"
STATUSES = {"closed": "FILLED", "canceled": "CANCELED", "expired": "EXPIRED"}


def ccxt_config(base_url: str) -> dict:
    """ccxt constructor options that point binance at a stub and keep it off every other host."""
    api = base_url + "/api/v3"
    return {
        "urls": {"api": {"public": api, "private": api, "sapi": base_url + "/sapi/v1"}},
        "options": {
            "fetchMarkets": {"types": ["spot"]},
            # As binance's default: with API keys set, loading markets also reads the
            # currencies (sapi capital/config/getall, served here), which the withdrawal terms
            # refresh needs. Margin pairs are another host's and not served.
            "fetchCurrencies": True,
            "fetchMargins": False,
        },
    }


class ApiError(Exception):
    """An error answer, in binance's shape: HTTP status and {"code": ..., "msg": ...}."""

    def __init__(self, code: int, msg: str, status: int = 400):
        super().__init__(msg)
        self.status, self.body = status, {"code": code, "msg": msg}


def fmt(value: Decimal | None) -> str:
    """binance's number strings: padded to 8 decimals, more only when the value needs them."""
    if value is None:
        value = Decimal(0)
    padded = value.quantize(Decimal("1e-8"))
    return format(padded if padded == value else value, "f")


class BinanceStub(StubExchange):
    API_KEY = "stub-api-key"
    SECRET = "stub-secret"
    # A second key of the same account that can only withdraw (and read), as an exchange
    # operator would make for Ballast's withdrawals.
    WITHDRAW_API_KEY = "stub-withdraw-key"
    WITHDRAW_SECRET = "stub-withdraw-secret"

    def __init__(self, balances: dict[str, str] | None = None, **served):
        self.withdrawals: list[dict] = []  # binance's withdraw history rows, newest last
        self.deposits: list[dict] = []  # binance's deposit history rows, newest last
        # The account's deposit address per (coin, network), the default network first; tests
        # change them. (Not real addresses: check_address only wants 2+ distinct characters.)
        self.deposit_addresses: dict[tuple[str, str], tuple[str, str]] = {
            ("BTC", "BTC"): ("bc1qstubbinancebotdeposit0000000000", ""),
            ("USDT", "TRX"): ("TStubBinanceBotDeposit00000000000", ""),
        }
        self.clock_offset_ms = 0  # the exchange's clock ahead of this host's (negative: behind)
        self.keys = {self.API_KEY: self.SECRET, self.WITHDRAW_API_KEY: self.WITHDRAW_SECRET}
        # What sapi/v1/account/apiRestrictions answers for each key; tests change them.
        self.restrictions = {
            self.API_KEY: {"ipRestrict": False, "enableReading": True, "enableWithdrawals": False,
                           "enableSpotAndMarginTrading": True},
            self.WITHDRAW_API_KEY: {"ipRestrict": True, "enableReading": True,
                                    "enableWithdrawals": True, "enableSpotAndMarginTrading": False},
        }
        # What capital/config/getall lists per coin and network (binance's networkList); tests
        # change a fee or close a network here. Withdrawals themselves charge WITHDRAW_TERMS.
        self.networks: dict[str, dict[str, dict]] = {
            coin: {coin if coin == "BTC" else "TRX": {
                "withdrawFee": fmt(fee), "withdrawMin": fmt(minimum), "withdrawEnable": True,
                "depositEnable": True, "withdrawIntegerMultiple": "0.00000001",
            }}
            for coin, (fee, minimum) in self.WITHDRAW_TERMS.items()
        }
        super().__init__(balances, **served)

    # --- for tests ------------------------------------------------------------------------

    def ccxt_config(self) -> dict:
        return ccxt_config(self.base_url)

    # --- the exchange ---------------------------------------------------------------------

    def _order(self, params: dict, unknown=(-2013, "Order does not exist.")) -> Order:
        """The bot's order named by orderId, else by origClientOrderId, as binance looks them up."""
        order_id, client_id = params.get("orderId"), params.get("origClientOrderId")
        if order_id is None and client_id is None:
            raise ApiError(-1102, "Param 'origClientOrderId' or 'orderId' must be sent.")
        if order_id is not None and not order_id.isdigit():
            raise ApiError(-1100, "Illegal characters found in parameter 'orderId'.")
        for order in reversed(self.orders.values()):  # a reused client id names the latest
            named = order.id == order_id if order_id is not None else order.client_order_id == client_id
            if named and order.account == BOT:
                return order
        raise ApiError(*unknown)

    def _filters(self, side: str, type: str, amount: Decimal, price: Decimal | None):
        """binance's symbol filters, checked before matching as binance does."""
        if amount < RULES.min_amount or not on_grid(amount, RULES.amount_step):
            raise ApiError(-1013, "Filter failure: LOT_SIZE")
        if type == "limit" and (price <= 0 or not on_grid(price, RULES.price_tick)):
            raise ApiError(-1013, "Filter failure: PRICE_FILTER")
        best = self.book.asks if side == "buy" else self.book.bids
        estimate = price if type == "limit" else (best[0].price if best else None)
        if estimate is not None and amount * estimate < RULES.min_cost:
            raise ApiError(-1013, "Filter failure: NOTIONAL")

    def create(self, p: dict) -> dict:
        kind = p.get("type")
        if kind not in ("LIMIT", "MARKET", "LIMIT_MAKER"):
            raise ApiError(-1116, "Invalid orderType.")
        tif = "PO" if kind == "LIMIT_MAKER" else p.get("timeInForce", "GTC")
        if kind == "LIMIT" and tif not in ("GTC", "IOC"):
            raise ApiError(-1115, "Invalid timeInForce.")
        type = "market" if kind == "MARKET" else "limit"
        side, amount = p["side"].lower(), Decimal(p["quantity"])
        price = Decimal(p["price"]) if type == "limit" else None
        client_id = p.get("newClientOrderId")
        if client_id and any(o.client_order_id == client_id for o in self.book.open_orders(BOT)):
            raise ApiError(-2010, "Duplicate order sent.")
        self._filters(side, type, amount, price)
        try:
            execution = self._submit(BOT, side, type, amount, price, client_id, tif)
        except Rejected as exc:
            if exc.reason == INSUFFICIENT_FUNDS:
                raise ApiError(-2010, "Account has insufficient balance for requested action.") from exc
            if exc.reason == WOULD_TAKE:
                raise ApiError(-2010, "Order would immediately match and take.") from exc
            raise ApiError(-2010, str(exc)) from exc
        order = execution.order
        fills = [
            {"price": fmt(t.price), "qty": fmt(t.amount), "commission": fmt(t.fee),
             "commissionAsset": t.fee_currency, "tradeId": int(t.id)}
            for t in execution.trades if t.order_id == order.id
        ]
        return {**self.order_json(order), "transactTime": order.timestamp, "fills": fills}

    def cancel(self, p: dict) -> dict:
        unknown = (-2011, "Unknown order sent.")
        order = self._order(p, unknown)
        if order.status != "open":
            raise ApiError(*unknown)
        self._cancel(BOT, order.id)
        # As binance does: clientOrderId names the cancel request, the order's own is "orig".
        return {**self.order_json(order), "origClientOrderId": order.client_order_id,
                "clientOrderId": f"cancel{now_ms()}", "transactTime": now_ms()}

    def order_json(self, o: Order) -> dict:
        status = STATUSES.get(o.status) or ("PARTIALLY_FILLED" if o.filled else "NEW")
        kind = "MARKET" if o.type == "market" else "LIMIT_MAKER" if o.time_in_force == "PO" else "LIMIT"
        return {
            "symbol": MARKET_ID, "orderId": int(o.id), "orderListId": -1,
            "clientOrderId": o.client_order_id, "price": fmt(o.price), "origQty": fmt(o.amount),
            "executedQty": fmt(o.filled), "cummulativeQuoteQty": fmt(o.cost), "status": status,
            "timeInForce": "IOC" if o.time_in_force == "IOC" else "GTC", "type": kind,
            "side": o.side.upper(), "stopPrice": fmt(None), "icebergQty": fmt(None),
            "time": o.timestamp, "updateTime": o.timestamp, "isWorking": True,
            "workingTime": o.timestamp, "origQuoteOrderQty": fmt(None),
            "selfTradePreventionMode": "EXPIRE_MAKER",
        }

    def trade_json(self, t: Trade) -> dict:
        return {
            "symbol": MARKET_ID, "id": int(t.id), "orderId": int(t.order_id), "orderListId": -1,
            "price": fmt(t.price), "qty": fmt(t.amount), "quoteQty": fmt(t.cost),
            "commission": fmt(t.fee), "commissionAsset": t.fee_currency, "time": t.timestamp,
            "isBuyer": t.side == "buy", "isMaker": t.taker_or_maker == "maker", "isBestMatch": True,
        }

    def exchange_info(self) -> dict:
        return {
            "timezone": "UTC", "serverTime": self.now(), "rateLimits": [], "exchangeFilters": [],
            "symbols": [{
                "symbol": MARKET_ID, "status": "TRADING", "baseAsset": "BTC", "baseAssetPrecision": 8,
                "quoteAsset": "USDT", "quotePrecision": 8, "quoteAssetPrecision": 8,
                "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
                "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"], "icebergAllowed": True,
                "ocoAllowed": True, "quoteOrderQtyMarketAllowed": True, "allowTrailingStop": True,
                "cancelReplaceAllowed": True, "isSpotTradingAllowed": True,
                "isMarginTradingAllowed": False, "permissions": [], "permissionSets": [["SPOT"]],
                "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
                "allowedSelfTradePreventionModes": ["EXPIRE_MAKER"],
                "filters": [
                    {"filterType": "PRICE_FILTER", "minPrice": fmt(RULES.price_tick),
                     "maxPrice": "1000000.00000000", "tickSize": fmt(RULES.price_tick)},
                    {"filterType": "LOT_SIZE", "minQty": fmt(RULES.min_amount),
                     "maxQty": "9000.00000000", "stepSize": fmt(RULES.amount_step)},
                    {"filterType": "NOTIONAL", "minNotional": fmt(RULES.min_cost),
                     "applyMinToMarket": True, "maxNotional": "9000000.00000000",
                     "applyMaxToMarket": False, "avgPriceMins": 5},
                ],
            }],
        }

    # --- the protocol -----------------------------------------------------------------------

    def now(self) -> int:
        """The exchange's clock."""
        return now_ms() + self.clock_offset_ms

    def check_time(self, p: dict) -> None:
        """binance's check of a signed request's timestamp against its own clock."""
        server, sent = self.now(), int(p.get("timestamp", 0))
        if sent > server + 1000:
            raise ApiError(-1021, "Timestamp for this request was 1000ms ahead of the server's time.")
        if server - sent > int(p.get("recvWindow", 5000)):
            raise ApiError(-1021, "Timestamp for this request is outside of the recvWindow.")

    def params_of(self, method: str, raw: str) -> dict:
        return dict(parse_qsl(raw))  # binance signs a query string, in the URL or the body

    def serve(self, method, path, params, raw, headers) -> tuple[int, str]:
        try:
            if path in PRIVATE:
                _authenticate(self.keys, headers.get("X-MBX-APIKEY"), raw)
                self.check_time(params)
            if path == "/sapi/v1/capital/withdraw/apply" and not self.restrictions[
                headers.get("X-MBX-APIKEY")
            ].get("enableWithdrawals"):
                # As binance answers a key that may not withdraw (a trade-only key).
                raise ApiError(-1002, "You are not authorized to execute this request.", 401)
            with self._lock:
                if path == "/sapi/v1/account/apiRestrictions":
                    return 200, json.dumps({**self.restrictions[headers.get("X-MBX-APIKEY")],
                                            "createTime": now_ms()})
                return 200, json.dumps(self.route(method, path, params))
        except ApiError as exc:
            return exc.status, json.dumps(exc.body)

    def fault_body(self, status: int) -> str:
        if status in (418, 429):
            return json.dumps({"code": -1003, "msg": "Too much request weight used; current limit is 6000 request weight per 1 MINUTE."})
        return super().fault_body(status)

    def route(self, method: str, path: str, p: dict) -> object:
        """One request, with the lock held; returns the JSON answer or raises ApiError."""
        if p.get("symbol", MARKET_ID) != MARKET_ID:
            raise ApiError(-1121, "Invalid symbol.")
        endpoint = (method, path.removeprefix("/api/v3/"))
        if endpoint == ("GET", "ping"):
            return {}
        if endpoint == ("GET", "time"):
            return {"serverTime": self.now()}
        if endpoint == ("GET", "exchangeInfo"):
            return self.exchange_info()
        if endpoint == ("GET", "depth"):
            limit = int(p.get("limit", 100))
            return {"lastUpdateId": self.update_id,
                    "bids": [[fmt(a), fmt(b)] for a, b in self.book.depth("buy")[:limit]],
                    "asks": [[fmt(a), fmt(b)] for a, b in self.book.depth("sell")[:limit]]}
        if endpoint == ("GET", "account"):
            rows = {asset for (account, asset), _ in self.book.balances.items() if account == BOT}
            return {"makerCommission": 10, "takerCommission": 10, "canTrade": True,
                    "canWithdraw": True, "canDeposit": True, "accountType": "SPOT",
                    "updateTime": now_ms(), "permissions": ["SPOT"], "balances": [
                        {"asset": a, "free": fmt(self.balance(a)[0]), "locked": fmt(self.balance(a)[1])}
                        for a in sorted(rows)]}
        if endpoint == ("POST", "order"):
            return self.create(p)
        if endpoint == ("GET", "order"):
            return self.order_json(self._order(p))
        if endpoint == ("DELETE", "order"):
            return self.cancel(p)
        if endpoint == ("GET", "openOrders"):
            return [self.order_json(o) for o in self.book.open_orders(BOT)]
        if endpoint == ("GET", "myTrades"):
            # As binance: from startTime on the oldest `limit`, without it the newest.
            mine = [self.trade_json(t) for t in self.trades if t.account == BOT]
            limit = int(p.get("limit", 500))
            if "startTime" in p:
                return [t for t in mine if t["time"] >= int(p["startTime"])][:limit]
            return mine[-limit:]
        if path.startswith("/sapi/v1/capital/"):
            return self.capital(method, path.removeprefix("/sapi/v1/capital/"), p)
        raise ApiError(-1000, f"stub does not serve {method} {path}", status=404)

    # --- funds: binance's capital endpoints that ccxt's withdraw and histories call ---------

    WITHDRAW_TERMS = {"BTC": (Decimal("0.0002"), Decimal("0.001")), "USDT": (Decimal("1"), Decimal("10"))}

    def capital(self, method: str, endpoint: str, p: dict) -> object:
        if (method, endpoint) == ("POST", "withdraw/apply"):
            coin, amount = p["coin"], Decimal(p["amount"])
            if coin not in self.WITHDRAW_TERMS:
                raise ApiError(-4018, "We don't have this asset.")
            fee, minimum = self.WITHDRAW_TERMS[coin]
            network = (self.networks.get(coin) or {}).get(p.get("network") or "")
            if network is not None and not network.get("withdrawEnable"):
                raise ApiError(-4019, "The current currency is not open for withdrawal.")
            if amount < minimum:
                raise ApiError(-4022, f"Not less than the minimum pick-up quantity {fmt(minimum)}.")
            if amount <= fee:
                raise ApiError(-4028, "The amount of withdrawal must be greater than the Commission.")
            try:
                self.book.balances.withdraw(BOT, coin, amount)
            except Rejected as exc:
                raise ApiError(-4026, "You have insufficient balance.") from exc
            row = {
                "id": hashlib.md5(f"w{len(self.withdrawals)}".encode()).hexdigest(),  # noqa: S324
                "amount": fmt(amount), "transactionFee": fmt(fee), "coin": coin, "status": 4,
                "address": p["address"], "addressTag": p.get("addressTag", ""), "txId": "",
                "applyTime": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
                "network": p.get("network", coin), "transferType": 0,
                "withdrawOrderId": p.get("withdrawOrderId", ""),
            }
            self.withdrawals.append(row)
            return {"id": row["id"]}
        if (method, endpoint) == ("GET", "withdraw/history"):
            rows = [w for w in self.withdrawals if w["coin"] == p.get("coin", w["coin"])]
            return [w for w in rows if w["withdrawOrderId"] == p.get("withdrawOrderId", w["withdrawOrderId"])]
        if (method, endpoint) == ("GET", "deposit/address"):
            coin = p.get("coin", "")
            networks = [n for c, n in self.deposit_addresses if c == coin]
            if not networks:
                raise ApiError(-4018, "We don't have this asset.")
            network = p.get("network") or networks[0]  # binance's default network comes first
            if (coin, network) not in self.deposit_addresses:
                raise ApiError(-4019, "The current currency is not open for deposit.")
            address, tag = self.deposit_addresses[(coin, network)]
            return {"coin": coin, "address": address, "tag": tag,
                    "url": f"https://explorer.example/{network.lower()}/address/{address}"}
        if (method, endpoint) == ("GET", "config/getall"):
            return [self.coin_config(coin) for coin in sorted(self.networks)]
        if (method, endpoint) == ("GET", "deposit/hisrec"):
            return [d for d in self.deposits if d["coin"] == p.get("coin", d["coin"])]
        raise ApiError(-1000, f"stub does not serve {method} capital/{endpoint}", status=404)

    def coin_config(self, coin: str) -> dict:
        """One coin of capital/config/getall, in binance's shape (fields ccxt does not read
        left out, a few kept for realism)."""
        networks = [
            {"network": network, "coin": coin, "isDefault": i == 0, "name": network,
             "withdrawMax": "9999999999.99999999", "minConfirm": 1, "unLockConfirm": 0,
             "depositDesc": "", "withdrawDesc": "", "specialTips": "", "busy": False,
             "estimatedArrivalTime": 5, "resetAddressStatus": False, **terms}
            for i, (network, terms) in enumerate(self.networks[coin].items())
        ]
        free, locked = self.balance(coin)
        return {"coin": coin, "name": coin, "depositAllEnable": True,
                "withdrawAllEnable": any(n.get("withdrawEnable") for n in networks),
                "free": fmt(free), "locked": fmt(locked), "freeze": "0", "withdrawing": "0",
                "ipoing": "0", "ipoable": "0", "storage": "0", "isLegalMoney": False,
                "trading": True, "networkList": networks}

    def set_network(self, coin: str, network: str, *, withdraw: bool | None = None,
                    deposit: bool | None = None) -> None:
        """The exchange opens or closes a network for withdrawals or deposits (capital/config/
        getall says so, and a withdrawal over a closed one is refused, as binance refuses it)."""
        terms = self.networks[coin][network]
        if withdraw is not None:
            terms["withdrawEnable"] = withdraw
        if deposit is not None:
            terms["depositEnable"] = deposit

    def complete_withdrawal(self, index: int = -1, txid: str = "0xabc") -> None:
        """The network confirmed a withdrawal: binance shows its hash and status 6 (completed)."""
        self.withdrawals[index].update(status=6, txId=txid)

    def end_withdrawal(self, status: int, index: int = -1) -> None:
        """The withdrawal was cancelled (1), rejected (3) or failed (5): binance gives the amount
        back, and lists it with that status."""
        with self._lock:
            row = self.withdrawals[index]
            self.book.balances.deposit(BOT, row["coin"], Decimal(row["amount"]))
            row.update(status=status)

    def deposit(self, coin: str, amount: str, txid: str, network: str | None = None) -> None:
        """A deposit arrives: credited, and listed with status 1 (success) as binance does."""
        with self._lock:
            self.book.balances.deposit(BOT, coin, Decimal(amount))
            self.deposits.append({
                "amount": amount, "coin": coin, "network": network or coin, "status": 1,
                "address": "stub-deposit-address", "addressTag": "", "txId": txid,
                "insertTime": now_ms(), "transferType": 0, "confirmTimes": "1/1",
            })


PRIVATE = {"/api/v3/account", "/api/v3/order", "/api/v3/openOrders", "/api/v3/myTrades"}
PRIVATE |= {"/sapi/v1/capital/withdraw/apply", "/sapi/v1/capital/withdraw/history",
            "/sapi/v1/capital/deposit/hisrec", "/sapi/v1/account/apiRestrictions",
            "/sapi/v1/capital/deposit/address", "/sapi/v1/capital/config/getall"}


def _authenticate(keys: dict[str, str], api_key: str | None, raw: str):
    if api_key not in keys:
        raise ApiError(-2015, "Invalid API-key, IP, or permissions for action.", status=401)
    query, _, signature = raw.rpartition("&signature=")
    expected = hmac.new(keys[api_key].encode(), query.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(signature, expected):
        raise ApiError(-1022, "Signature for this request is not valid.")


