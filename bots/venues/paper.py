"""The paper venue: Ballast's own matching engine behind the ccxt-shaped venue interface.

Each request locks the market's row, loads the open orders it can touch and the balances involved
into a bots.engine.matching.Book, applies the request, and writes back what changed, all in one
transaction: every process sees the same exchange and a crash leaves no half-applied trade.

After a commit that made trades, the venue pushes them: the `trades_made` event names the
accounts that traded and carries their trades, so their fills are captured at once instead of at
the next tick, by the stream process where it listens (bots/venues/paper_stream.py), else by the
capture task. A venue
whose options carry a fault plan fails as configured (bots.venues.faults).
"""

from __future__ import annotations

import hashlib
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q

from bots.engine import matching
from bots.engine.figures import whole_number
from bots.engine.market_making.quoting import Level
from bots.engine.rules import BUY, MarketRules, dec, floor_to
from bots.models import (
    Account,
    PaperBalance,
    PaperMarket,
    PaperOrder,
    PaperTransfer,
    WithdrawalNetwork,
)
from bots.platform import events
from bots.venues import ccxt_errors as ccxt
from bots.venues import faults, paper_store

REJECTIONS = {
    matching.INVALID_ORDER: ccxt.InvalidOrder,
    matching.INSUFFICIENT_FUNDS: ccxt.InsufficientFunds,
    matching.WOULD_TAKE: ccxt.OrderImmediatelyFillable,
    matching.ORDER_NOT_FOUND: ccxt.OrderNotFound,
}


# The longest a dead man's switch may be armed for (a day, as Kraken's).
MAX_TIMEOUT_MS = 86_400_000


def now_ms() -> int:
    return int(time.time() * 1000)


def iso(timestamp: int) -> str:
    """ccxt's iso8601: milliseconds and a Z, as 2017-10-11T12:32:56.595Z."""
    moment = datetime.fromtimestamp(timestamp // 1000, UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{timestamp % 1000:03d}Z"


def rules_of(market: PaperMarket) -> MarketRules:
    return MarketRules(
        symbol=market.symbol,
        base=market.base,
        quote=market.quote,
        price_tick=market.price_tick,
        amount_step=market.amount_step,
        min_amount=market.min_amount,
        min_cost=market.min_cost,
        maker_fee=market.maker_fee,
        taker_fee=market.taker_fee,
    )


def _engine_order(row: PaperOrder) -> matching.Order:
    return matching.Order(
        id=row.order_id,
        account=str(row.account_id),
        side=row.side,
        type=row.type,
        amount=row.amount,
        price=row.price,
        client_order_id=row.client_order_id,
        time_in_force=row.time_in_force,
        timestamp=row.timestamp,
        seq=row.seq,
        filled=row.filled,
        cost=row.cost,
        fee=row.fee,
        status=row.status,
    )


def order_dict(
    order: matching.Order | PaperOrder, symbol: str, trades: list[matching.Trade] | None = None
) -> dict:
    """ccxt's unified order structure, with its trades (`trades`: all of the order's, or None
    for an order nothing filled). tests/venues/test_venue_contract.py holds it to ccxt's own parse."""
    order_id = order.id if isinstance(order, matching.Order) else order.order_id
    base, quote = symbol.split("/")
    own = [trade_dict(t, symbol, order.type) for t in trades or []]
    last_trade = max((t["timestamp"] for t in own), default=None)
    fee = {"cost": order.fee, "currency": base if order.side == "buy" else quote} if own else None
    # The paper venue keeps no time of a cancel: a canceled order's last update is not known.
    last_update = None if order.status == "canceled" else (last_trade or order.timestamp)
    average = order.cost / order.filled if order.filled else None
    return {
        "id": order_id,
        "clientOrderId": order.client_order_id,
        "timestamp": order.timestamp,
        "datetime": iso(order.timestamp),
        "lastTradeTimestamp": last_trade,
        "lastUpdateTimestamp": last_update,
        "symbol": symbol,
        "type": order.type,
        "timeInForce": order.time_in_force,
        "postOnly": order.time_in_force == "PO",
        "reduceOnly": None,
        "side": order.side,
        # A market order's price is its average, as ccxt's safe_order makes it.
        "price": average if order.price is None and order.type == "market" else order.price,
        "triggerPrice": None,
        "stopPrice": None,
        "takeProfitPrice": None,
        "stopLossPrice": None,
        "amount": order.amount,
        "filled": order.filled,
        "remaining": order.amount - order.filled,
        "cost": order.cost,
        "average": average,
        "status": order.status,
        "fee": fee,
        "fees": [fee] if fee else [],
        "trades": own,
        "info": {},
    }


def trade_dict(trade: matching.Trade, symbol: str, order_type: str | None) -> dict:
    """ccxt's unified trade structure, plus the order's clientOrderId (which some exchanges'
    trades carry and reconciliation reads)."""
    fee = {"cost": trade.fee, "currency": trade.fee_currency}
    return {
        "id": trade.id,
        "order": trade.order_id,
        "clientOrderId": trade.client_order_id,
        "timestamp": trade.timestamp,
        "datetime": iso(trade.timestamp),
        "symbol": symbol,
        "type": order_type,
        "side": trade.side,
        "takerOrMaker": trade.taker_or_maker,
        "price": trade.price,
        "amount": trade.amount,
        "cost": trade.cost,
        "fee": fee,
        "fees": [fee],
        "info": {},
    }


class PaperVenue:
    """One account's view of a paper venue, as a ccxt exchange instance with that account's keys."""

    # What the venue offers, as ccxt's exchange.has says it.
    has = {
        "cancelAllOrdersAfter": True,
        "cancelOrder": True,
        "createOrder": True,
        "fetchBalance": True,
        "fetchCurrencies": True,
        "fetchDeposits": True,
        "fetchDepositAddress": True,
        "fetchMyTrades": True,
        "fetchOpenOrders": True,
        "fetchOrder": True,
        "fetchOrderBook": True,
        "fetchWithdrawals": True,
        "withdraw": True,
    }

    # Orders keep the client order id they were sent with and are found by it.
    client_order_ids = True

    # How long after sending an order its absence on the venue proves it was never placed. A
    # request here either committed or did not before the call returned: nothing is in flight.
    settle_seconds = 0.0

    # No stream process watches a paper book (bots/streams/work.py plans ccxt venues only): it
    # is read from the database, and nothing looks for a streamed copy first.
    books_streamed = False
    # Its matching engine is database state, on the caller's connection: one request at a time.
    requests_at_once = 1

    def __init__(self, account: Account):
        self.account = account
        self.venue = account.venue
        self.id = self.venue.name
        self._owner = str(account.pk)
        self._faults = faults.parse(self.id, self.venue.options)
        # Rules per symbol, read once per instance, as ccxt keeps its markets after loading them.
        self._rules: dict[str, MarketRules] = {}

    # --- helpers ---------------------------------------------------------------------------

    def _check_fault(self, call: str = "") -> str:
        """Raise the configured fault for this call, or return an order-time fault to apply."""
        if self.venue.fault:
            error = getattr(ccxt, self.venue.fault, ccxt.ExchangeNotAvailable)
            raise error(f"{self.id} (paper) is set to fail with {self.venue.fault}")
        if not call or self._faults is None:
            return ""
        kind, self._fault_size = faults.draw(self.id, self._faults, call)
        if kind in ("", "timeout_after_accept", "partial"):
            return kind
        raise faults.error_for(kind, self.id, call)

    def _market_row(self, symbol: str, lock: bool = False) -> paper_store.MarketRow:
        market = paper_store.market(self.venue.pk, symbol, lock=lock)
        if market is None:
            raise ccxt.BadSymbol(f"{self.id} has no market {symbol}")
        return market

    def _load_book(
        self,
        market: paper_store.MarketRow,
        taker: tuple[str, Decimal | None] | None = None,
        only: str | None = None,
    ) -> matching.Book:
        """The book with the balances of the accounts it involves.

        A request loads only the resting orders it can touch: for a new order (`taker`, its side
        and limit price) those it could trade with, for a cancel (`only`) the one order. That
        is what keeps an order's cost flat however deep the book; time priority comes from the
        market's id counter, which only grows.
        """
        if taker is not None:
            side, limit = taker
            orders = paper_store.open_orders(
                self.venue.pk, market.symbol, "sell" if side == BUY else "buy", limit
            )
        elif only is not None:
            orders = paper_store.open_orders(
                self.venue.pk, market.symbol, account_id=self.account.pk, order_id=only
            )
        else:
            orders = paper_store.open_orders(self.venue.pk, market.symbol)
        return self._book(market, orders)

    def _book(self, market: paper_store.MarketRow, orders: list[matching.Order]) -> matching.Book:
        self._loaded = {o.id: (o.filled, o.cost, o.fee, o.status) for o in orders}
        accounts = {int(o.account) for o in orders} | {self.account.pk}
        rows = paper_store.balances(accounts, [market.rules.base, market.rules.quote])
        self._funded = {(account, asset) for account, asset, _, _ in rows}
        balances = matching.Balances((str(a), asset, free, used) for a, asset, free, used in rows)

        def next_id(kind: str) -> str:
            # Ids are unique per venue, like an exchange's, yet each market keeps its own
            # counter (a venue-wide one would make every market's requests wait on one lock):
            # the market's row id in front keeps two markets' counters apart.
            market.last_id += 1
            return f"{market.id}-{market.last_id}"

        return matching.Book(
            market.rules, orders=orders, balances=balances, next_id=next_id, clock=now_ms,
            last_seq=market.last_id,
        )

    def _save(self, market: paper_store.MarketRow, book: matching.Book, orders, trades):
        orders = list(orders)
        paper_store.save(self.venue.pk, market, book, orders, trades, self._loaded, self._funded)
        if trades:
            kinds = {o.id: o.type for o in orders}
            made: dict[int, list[dict]] = {}
            for trade in trades:
                made.setdefault(int(trade.account), []).append(
                    trade_dict(trade, market.symbol, kinds.get(trade.order_id))
                )
            events.trades_made.emit_on_commit(
                venue=self.venue.pk, symbol=market.symbol, accounts=sorted(made), trades=made
            )

    # --- the ccxt-shaped interface ---------------------------------------------------------

    def load_markets(self, reload: bool = False) -> dict[str, dict]:
        self._check_fault()
        return {m.symbol: rules_of(m).to_market() for m in PaperMarket.objects.filter(venue=self.venue)}

    def market(self, symbol: str) -> dict:
        self._check_fault()
        return self._rules_for(symbol).to_market()

    def _rules_for(self, symbol: str) -> MarketRules:
        if symbol not in self._rules:
            self._rules[symbol] = self._market_row(symbol).rules
        return self._rules[symbol]

    def amount_to_precision(self, symbol: str, amount) -> Decimal:
        return floor_to(dec(amount), self._rules_for(symbol).amount_step)

    def price_to_precision(self, symbol: str, price) -> Decimal:
        # Half-up, as ccxt rounds prices.
        tick = self._rules_for(symbol).price_tick
        return (dec(price) / tick).quantize(Decimal(1), rounding=ROUND_HALF_UP) * tick

    def fetch_order_book(self, symbol: str, limit: int | None = None) -> dict:
        self._check_fault("fetch_order_book")
        self._fire_due_switches()
        self._rules_for(symbol)  # BadSymbol for a market the venue does not have
        bids, asks = paper_store.depth(self.venue.pk, symbol)
        timestamp = now_ms()
        return {
            "symbol": symbol,
            "bids": [[p, a] for p, a in bids[:limit]],
            "asks": [[p, a] for p, a in asks[:limit]],
            "timestamp": timestamp,
            "datetime": iso(timestamp),
            "nonce": None,
        }

    def fetch_balance(self) -> dict:
        self._check_fault("fetch_balance")
        self._fire_due_switches()
        result: dict = {"info": {}, "free": {}, "used": {}, "total": {}}
        for _, asset, free, used in paper_store.balances([self.account.pk]):
            total = free + used
            result[asset] = {"free": free, "used": used, "total": total}
            result["free"][asset] = free
            result["used"][asset] = used
            result["total"][asset] = total
        return result

    def create_order(self, symbol, type, side, amount, price=None, params=None) -> dict:
        fault = self._check_fault("create_order")
        self._fire_due_switches()
        params = params or {}
        client_id = params.get("clientOrderId")
        time_in_force = "PO" if params.get("postOnly") else params.get("timeInForce", "GTC")
        price = dec(price) if price is not None and type == "limit" else None
        amount = dec(amount)
        try:
            execution = self._execute(symbol, type, side, amount, price, client_id, time_in_force, fault)
        except IntegrityError:
            # The one unique client order id per account, kept by the table itself: checking
            # first would cost every order a query. Without a client id it is another fault.
            if client_id is None:
                raise
            raise ccxt.DuplicateOrderId(f"client order id {client_id} was already used") from None
        if self._faults and self._faults.latency_ms:
            time.sleep(self._faults.latency_ms / 1000)  # the answer's way back over a slow link
        if fault == "timeout_after_accept":
            raise ccxt.RequestTimeout(
                f"{self.id} (paper, injected) create_order: the order was accepted but the "
                "answer timed out"
            )
        own = [t for t in execution.trades if t.order_id == execution.order.id]
        return order_dict(execution.order, symbol, own)

    def _execute(self, symbol, type, side, amount, price, client_id, time_in_force, fault):
        with transaction.atomic():
            market = self._market_row(symbol, lock=True)
            book = self._load_book(market, (side, price))
            rules = book.rules
            size = amount
            if fault == "partial" and type == "limit" and time_in_force == "IOC":
                part = rules.round_amount(amount * Decimal(str(0.2 + 0.6 * self._fault_size)))
                if rules.is_tradable(part, price):
                    size = part
            # Like the ccxt adapter, an amount or price off the venue's grid is refused, not
            # rounded into a different order than the caller meant.
            try:
                execution = book.submit(
                    self._owner, side, type, size, price, client_id, time_in_force
                )
            except matching.Rejected as exc:
                raise REJECTIONS[exc.reason](str(exc)) from None
            if size != amount:
                # The partial fault: the book gave less than it showed, as a moving one does.
                execution.order.amount = amount
                execution.order.status = "expired"
            self._save(market, book, execution.touched.values(), execution.trades)
        return execution

    def cancel_order(self, id: str, symbol: str | None = None, params=None) -> dict:
        self._check_fault("cancel_order")
        self._fire_due_switches()
        if symbol is None:
            raise ccxt.ArgumentsRequired("cancel_order needs the symbol")
        with transaction.atomic():
            market = self._market_row(symbol, lock=True)
            book = self._load_book(market, only=str(id))
            try:
                order = book.cancel(self._owner, id)
            except matching.Rejected as exc:
                raise REJECTIONS[exc.reason](str(exc)) from None
            self._save(market, book, [order], [])
        return self._with_trades([order], symbol)[0]

    def replace_orders(self, symbol: str, levels: list[Level]) -> None:
        """Cancel this account's orders and rest `levels` instead, in one transaction.

        Not part of ccxt's API: it is how the simulated outside market refreshes its book
        without showing anyone a half-empty one.
        """
        self._fire_due_switches()
        with transaction.atomic():
            market = self._market_row(symbol, lock=True)
            book = self._load_book(market)
            touched = {}
            for order in book.open_orders(self._owner):
                touched[order.id] = book.cancel(self._owner, order.id)
            trades = []
            for level in levels:
                execution = book.submit(self._owner, level.side, "limit", level.amount, level.price)
                touched.update(execution.touched)
                trades += execution.trades
            self._save(market, book, touched.values(), trades)

    def fetch_open_orders(self, symbol=None, since=None, limit=None, params=None) -> list[dict]:
        self._check_fault("fetch_open_orders")
        self._fire_due_switches()
        if symbol:
            # Plain values, as the matching engine reads them: a tick asks for this every time.
            found = paper_store.open_orders(self.venue.pk, symbol, account_id=self.account.pk)
            return self._with_trades(found[:limit], symbol)
        rows = PaperOrder.objects.filter(venue=self.venue, account=self.account, status="open")
        return [self._with_trades([row], row.symbol)[0] for row in rows.order_by("seq")[:limit]]

    def fetch_order(self, id, symbol=None, params=None) -> dict:
        self._check_fault("fetch_order")
        self._fire_due_switches()
        client_id = (params or {}).get("clientOrderId")
        rows = PaperOrder.objects.filter(venue=self.venue, account=self.account)
        row = (rows.filter(order_id=id) if id else rows.filter(client_order_id=client_id)).first()
        if row is None or (id is None and client_id is None):
            raise ccxt.OrderNotFound(f"{self.id} has no order {id or client_id}")
        return self._with_trades([row], row.symbol)[0]

    def _with_trades(self, orders: list, symbol: str) -> list[dict]:
        """The orders as ccxt's dicts, each with its trades: one query, and only when some of
        them filled (a tick's open orders mostly did not)."""
        ids = [o.id if isinstance(o, matching.Order) else o.order_id for o in orders]
        filled = [i for i, o in zip(ids, orders, strict=True) if o.filled]
        trades = paper_store.order_trades(self.venue.pk, filled)
        return [order_dict(o, symbol, trades.get(i)) for i, o in zip(ids, orders, strict=True)]

    def fetch_my_trades(self, symbol=None, since=None, limit=None, params=None) -> list[dict]:
        self._check_fault("fetch_my_trades")
        found = paper_store.my_trades(self.venue.pk, self.account.pk, symbol, since, limit)
        return [trade_dict(trade, trade_symbol, kind) for trade_symbol, trade, kind in found]

    # --- the dead man's switch ---------------------------------------------------------------

    def cancel_all_orders_after(self, timeout: int, params=None) -> dict:
        """ccxt's cancelAllOrdersAfter: `timeout` ms from now, every order this account has open
        then is cancelled, unless this is called again first; a timeout of 0 disarms it."""
        self._check_fault("cancel_all_orders_after")
        if isinstance(timeout, bool) or not isinstance(timeout, int) or not 0 <= timeout <= MAX_TIMEOUT_MS:
            raise ccxt.BadRequest(
                f"{self.id}: cancelAllOrdersAfter timeout must be a whole number of milliseconds "
                f"from 0 to {MAX_TIMEOUT_MS}, not {timeout!r}"
            )
        self._fire_due_switches()  # a deadline passed unobserved still cancelled what it covered
        if timeout == 0:
            paper_store.disarm_switch(self.account.pk)
            return {"info": {}, "timeout": 0, "triggerTime": None}
        deadline = now_ms() + timeout
        paper_store.arm_switch(self.venue.pk, self.account.pk, deadline)
        return {"info": {}, "timeout": timeout, "triggerTime": deadline}

    def _fire_due_switches(self) -> None:
        """Before the venue serves any request, every switch whose deadline has passed cancels
        the orders its account had open at that deadline, on every market of the venue: the
        timer an exchange runs, applied the moment anyone could see its effect."""
        if not paper_store.due_switches(self.venue.pk, now_ms()):
            return
        with transaction.atomic():
            accounts = {account for account, _ in paper_store.due_switches(self.venue.pk, now_ms())}
            # The markets where those accounts have orders open, their rows locked in primary-key
            # order as every request that takes several does; then each switch read again under
            # the locks, as another request may have applied it meanwhile (one that came due
            # since waits for the next request).
            held = set(
                PaperOrder.objects.filter(venue=self.venue, account_id__in=accounts, status="open")
                .values_list("account_id", "symbol").distinct()
            )
            symbols = list(
                PaperMarket.objects.select_for_update()
                .filter(venue=self.venue, symbol__in={symbol for _, symbol in held})
                .order_by("pk").values_list("symbol", flat=True)
            )
            for account_id, deadline in paper_store.due_switches(self.venue.pk, now_ms()):
                if account_id not in accounts:
                    continue
                for symbol in symbols:
                    if (account_id, symbol) not in held:
                        continue
                    orders = [
                        order
                        for order in paper_store.open_orders(self.venue.pk, symbol, account_id=account_id)
                        if order.timestamp <= deadline
                    ]
                    if orders:
                        market = self._market_row(symbol)
                        book = self._book(market, orders)
                        self._save(market, book, [book.cancel(str(account_id), o.id) for o in orders], [])
                paper_store.disarm_switch(account_id, deadline)

    # --- funds: deposit addresses, withdrawals and deposits (rebalancing) -------------------
    # A withdrawal is debited at once and credited to the account that owns the address once
    # its network's arrival time has passed and the destination's deposits are read. Fees,
    # minimums and arrival times are the venue's WithdrawalNetwork rows: for a paper venue,
    # Ballast's fee table is the exchange's own schedule. (The methods below import what they
    # need themselves, which keeps this section apart from the trading code above.)

    def fetch_deposit_address(self, code: str, params=None) -> dict:
        self._check_fault("fetch_deposit_address")
        return {
            "info": {},
            "currency": code,
            "network": (params or {}).get("network"),
            "address": f"paper:{self.venue.name}:{self.account.pk}",
            "tag": None,
        }

    def fetch_currencies(self, params=None) -> dict[str, dict]:
        """ccxt's currency structure of the assets this venue withdraws, from its networks."""
        self._check_fault("fetch_currencies")
        currencies: dict[str, dict] = {}
        for row in WithdrawalNetwork.objects.filter(venue=self.venue).order_by("asset", "network"):
            currency = currencies.setdefault(row.asset, {
                "info": {}, "id": row.asset, "code": row.asset, "name": row.asset,
                "active": True, "deposit": True, "withdraw": False, "fee": None,
                "precision": None, "limits": {"withdraw": {"min": None, "max": None}},
                "networks": {},
            })
            currency["networks"][row.network] = {
                "info": {}, "id": row.network, "network": row.network, "active": True,
                "deposit": True, "withdraw": row.enabled, "fee": row.fee, "precision": row.step,
                "limits": {"withdraw": {"min": row.minimum, "max": None},
                           "deposit": {"min": None, "max": None}},
            }
            currency["withdraw"] = currency["withdraw"] or row.enabled
        for currency in currencies.values():
            # As ccxt sums a currency up from its networks: the lowest fee and minimum.
            networks = currency["networks"].values()
            currency["fee"] = min(n["fee"] for n in networks)
            currency["limits"]["withdraw"]["min"] = min(n["limits"]["withdraw"]["min"] for n in networks)
        return currencies

    def withdraw(self, code: str, amount, address: str, tag=None, params=None) -> dict:


        self._check_fault("withdraw")
        self._fire_due_switches()
        params = dict(params or {})
        amount = dec(amount)
        networks = WithdrawalNetwork.objects.filter(venue=self.venue, asset=code, enabled=True)
        if params.get("network"):
            networks = networks.filter(network=params["network"])
        found = list(networks[:2])
        if len(found) != 1:
            raise ccxt.BadRequest(
                f"{self.id} cannot withdraw {code}"
                + (f" over {params['network']}" if params.get("network") else "")
                + (": name the network" if len(found) > 1 else ": no such network is open")
            )
        network = found[0]
        if amount <= network.fee or amount < network.minimum:
            raise ccxt.BadRequest(
                f"{self.id}: a {code} withdrawal must be at least {network.minimum} and more "
                f"than its fee {network.fee}, not {amount}"
            )
        if amount % network.step:
            raise ccxt.BadRequest(f"{self.id}: {code} withdrawals go in steps of {network.step}")
        destination = self._address_owner(address)
        client_id = params.get("withdrawOrderId")
        with transaction.atomic():
            self._lock_funds(self.venue, code)
            if client_id and PaperTransfer.objects.filter(
                account=self.account, client_id=client_id
            ).exists():
                raise ccxt.BadRequest(f"{self.id}: withdrawOrderId {client_id} was already used")
            balance = PaperBalance.objects.filter(account=self.account, asset=code).first()
            if balance is None or balance.free < amount:
                raise ccxt.InsufficientFunds(
                    f"{self.id}: free {code} {balance.free if balance else 0} < {amount}"
                )
            PaperBalance.objects.filter(pk=balance.pk).update(free=balance.free - amount)
            now = datetime.now(UTC)
            transfer = PaperTransfer.objects.create(
                venue=self.venue,
                account=self.account,
                destination=destination,
                withdrawal_id=uuid.uuid4().hex,
                client_id=client_id,
                txid="0x" + hashlib.sha256(f"{self.id}:{uuid.uuid4()}".encode()).hexdigest(),
                asset=code,
                network=network.network,
                address=address,
                tag=tag or "",
                amount=amount,
                fee=network.fee,
                created_at=now,
                arrives_at=now + timedelta(minutes=network.arrival_minutes),
            )
        return _transaction_dict(transfer, "withdrawal")

    def fetch_withdrawals(self, code=None, since=None, limit=None, params=None) -> list[dict]:

        self._check_fault("fetch_withdrawals")
        rows = PaperTransfer.objects.filter(account=self.account)
        if (params or {}).get("withdrawOrderId"):
            rows = rows.filter(client_id=params["withdrawOrderId"])
        return [_transaction_dict(row, "withdrawal") for row in _transfers(rows, code, since, limit)]

    def fetch_deposits(self, code=None, since=None, limit=None, params=None) -> list[dict]:
        """This account's deposits, after crediting every one that has arrived by now."""

        self._check_fault("fetch_deposits")
        with transaction.atomic():
            arrived = PaperTransfer.objects.select_for_update().filter(
                destination=self.account, credited_at__isnull=True, arrives_at__lte=datetime.now(UTC)
            )
            for transfer in arrived.order_by("pk"):
                self._lock_funds(self.account.venue, transfer.asset)
                received = transfer.amount - transfer.fee
                # Added here, not by F("free") + received: SQLite would add the text as floats.
                balance = PaperBalance.objects.filter(account=self.account, asset=transfer.asset).first()
                if balance is None:
                    PaperBalance.objects.create(account=self.account, asset=transfer.asset, free=received)
                else:
                    PaperBalance.objects.filter(pk=balance.pk).update(free=balance.free + received)
                transfer.credited_at = datetime.now(UTC)
                transfer.save(update_fields=["credited_at"])
        rows = PaperTransfer.objects.filter(destination=self.account)
        return [_transaction_dict(row, "deposit") for row in _transfers(rows, code, since, limit)]

    def _address_owner(self, address: str) -> Account:
        prefix, _, rest = address.partition(":")
        venue_name, _, pk = rest.partition(":")
        try:
            number = whole_number(pk) if prefix == "paper" else None
        except ValueError:
            number = None
        owner = (
            Account.objects.select_related("venue")
            .filter(pk=number, venue__name=venue_name, venue__kind="paper")
            .first()
            if number is not None
            else None
        )
        if owner is None or owner.pk == self.account.pk:
            raise ccxt.InvalidAddress(f"{self.id}: {address!r} is no other paper account's address")
        return owner

    def settle_off_book(self, base: str, quote: str, side: str, amount: Decimal, cost: Decimal) -> None:
        """Paper only: the account trades `amount` of `base` for `cost` of `quote` with a user of
        the exchange outside the book (an OTC quote accepted, bots/otc/quotes.py), as the
        exchange's own ledger would settle it. The caller holds the transaction; the account
        may go short, as the inventory it sources from is the operator's to watch."""
        # Under the same locks as a trade on the book, so neither overwrites the other.
        list(
            PaperMarket.objects.select_for_update()
            .filter(Q(base__in=(base, quote)) | Q(quote__in=(base, quote)), venue=self.venue)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        signed = {base: amount if side == BUY else -amount, quote: -cost if side == BUY else cost}
        for asset, change in signed.items():
            row, _ = PaperBalance.objects.get_or_create(
                account=self.account, asset=asset, defaults={"free": 0, "used": 0}
            )
            # In Python: SQLite's arithmetic on these columns would go through floats.
            PaperBalance.objects.filter(pk=row.pk).update(free=row.free + change)

    @staticmethod
    def _lock_funds(venue, asset: str) -> None:

        # The matching engine writes balances back whole under its market row's lock; holding
        # the same locks keeps a trade from overwriting a withdrawal or a deposit, and the
        # other way round. In primary-key order, so two of these never deadlock.
        list(
            PaperMarket.objects.select_for_update()
            .filter(Q(base=asset) | Q(quote=asset), venue=venue)
            .order_by("pk")
            .values_list("pk", flat=True)
        )


def _transfers(rows, code, since, limit):
    if code:
        rows = rows.filter(asset=code)
    if since is not None:
        rows = rows.filter(created_at__gte=datetime.fromtimestamp(since / 1000, UTC))
    rows = list(rows.order_by("created_at", "pk"))
    return rows[-limit:] if limit else rows


def _transaction_dict(row, kind: str) -> dict:
    """ccxt's unified transaction structure for a paper withdrawal or deposit."""
    timestamp = int(row.created_at.timestamp() * 1000)
    arrived = row.credited_at is not None
    return {
        "info": {"arrives_at": row.arrives_at.isoformat()},
        "id": row.withdrawal_id,
        "txid": row.txid,
        "timestamp": timestamp,
        "datetime": iso(timestamp),
        "network": row.network,
        "address": row.address,
        "addressTo": row.address,
        "addressFrom": None,
        "tag": row.tag or None,
        "tagTo": row.tag or None,
        "tagFrom": None,
        "type": kind,
        "amount": row.amount if kind == "withdrawal" else row.amount - row.fee,
        "currency": row.asset,
        "status": "ok" if arrived else "pending",
        "updated": int(row.credited_at.timestamp() * 1000) if arrived else None,
        "internal": False,
        "comment": None,
        "fee": {"currency": row.asset, "cost": row.fee if kind == "withdrawal" else Decimal(0)},
    }
