"""The paper venue: Ballast's own matching engine behind the ccxt-shaped venue interface.

Each request locks the market's row, loads its open orders and the balances involved into a
bots.engine.matching.Book, applies the request, and writes back what changed, all in one
transaction: every process sees the same exchange and a crash leaves no half-applied trade.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

import ccxt
from django.db import transaction

from bots.engine import matching
from bots.engine.quoting import Level
from bots.engine.rules import MarketRules, dec, floor_to
from bots.models import Account, PaperBalance, PaperMarket, PaperOrder, PaperTrade

REJECTIONS = {
    matching.INVALID_ORDER: ccxt.InvalidOrder,
    matching.INSUFFICIENT_FUNDS: ccxt.InsufficientFunds,
    matching.WOULD_TAKE: ccxt.OrderImmediatelyFillable,
    matching.ORDER_NOT_FOUND: ccxt.OrderNotFound,
}


def now_ms() -> int:
    return int(time.time() * 1000)


def iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp / 1000, UTC).isoformat(timespec="milliseconds")


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


def order_dict(order: matching.Order | PaperOrder, symbol: str, trades: list[dict] | None = None) -> dict:
    """ccxt's unified order structure."""
    order_id = order.id if isinstance(order, matching.Order) else order.order_id
    base, quote = symbol.split("/")
    return {
        "id": order_id,
        "clientOrderId": order.client_order_id,
        "timestamp": order.timestamp,
        "datetime": iso(order.timestamp),
        "lastTradeTimestamp": None,
        "symbol": symbol,
        "type": order.type,
        "timeInForce": order.time_in_force,
        "postOnly": order.time_in_force == "PO",
        "side": order.side,
        "price": order.price,
        "amount": order.amount,
        "filled": order.filled,
        "remaining": order.amount - order.filled,
        "cost": order.cost,
        "average": order.cost / order.filled if order.filled else None,
        "status": order.status,
        "fee": {"cost": order.fee, "currency": base if order.side == "buy" else quote},
        "trades": trades or [],
        "info": {},
    }


def trade_dict(trade: matching.Trade | PaperTrade, symbol: str) -> dict:
    """ccxt's unified trade structure."""
    is_row = isinstance(trade, PaperTrade)
    return {
        "id": trade.trade_id if is_row else trade.id,
        "order": trade.order_id,
        "clientOrderId": trade.client_order_id,
        "timestamp": trade.timestamp,
        "datetime": iso(trade.timestamp),
        "symbol": symbol,
        "type": None,
        "side": trade.side,
        "takerOrMaker": trade.taker_or_maker,
        "price": trade.price,
        "amount": trade.amount,
        "cost": trade.cost,
        "fee": {"cost": trade.fee, "currency": trade.fee_currency},
        "info": {},
    }


class PaperVenue:
    """One account's view of a paper venue, as a ccxt exchange instance with that account's keys."""

    def __init__(self, account: Account):
        self.account = account
        self.venue = account.venue
        self.id = self.venue.name
        self._owner = str(account.pk)

    # --- helpers ---------------------------------------------------------------------------

    def _check_fault(self):
        if self.venue.fault:
            error = getattr(ccxt, self.venue.fault, ccxt.ExchangeNotAvailable)
            raise error(f"{self.id} (paper) is set to fail with {self.venue.fault}")

    def _market_row(self, symbol: str, lock: bool = False) -> PaperMarket:
        rows = PaperMarket.objects.filter(venue=self.venue, symbol=symbol)
        if lock:
            rows = rows.select_for_update()
        market = rows.first()
        if market is None:
            raise ccxt.BadSymbol(f"{self.id} has no market {symbol}")
        return market

    def _load_book(self, market: PaperMarket) -> matching.Book:
        rows = list(
            PaperOrder.objects.filter(venue=self.venue, symbol=market.symbol, status="open")
        )
        accounts = {row.account_id for row in rows} | {self.account.pk}
        balances = matching.Balances(
            (str(b.account_id), b.asset, b.free, b.used)
            for b in PaperBalance.objects.filter(
                account_id__in=accounts, asset__in=[market.base, market.quote]
            )
        )

        def next_id(kind: str) -> str:
            market.last_id += 1
            return str(market.last_id)

        return matching.Book(
            rules_of(market),
            orders=[_engine_order(row) for row in rows],
            balances=balances,
            next_id=next_id,
            clock=now_ms,
        )

    def _save(self, market: PaperMarket, book: matching.Book, orders, trades):
        market.save(update_fields=["last_id"])
        for order in orders:
            PaperOrder.objects.update_or_create(
                venue=self.venue,
                order_id=order.id,
                defaults={
                    "symbol": market.symbol,
                    "client_order_id": order.client_order_id,
                    "account_id": int(order.account),
                    "side": order.side,
                    "type": order.type,
                    "time_in_force": order.time_in_force,
                    "price": order.price,
                    "amount": order.amount,
                    "filled": order.filled,
                    "cost": order.cost,
                    "fee": order.fee,
                    "status": order.status,
                    "seq": order.seq,
                    "timestamp": order.timestamp,
                },
            )
        PaperTrade.objects.bulk_create(
            PaperTrade(
                venue=self.venue,
                symbol=market.symbol,
                trade_id=t.id,
                order_id=t.order_id,
                client_order_id=t.client_order_id,
                account_id=int(t.account),
                side=t.side,
                price=t.price,
                amount=t.amount,
                cost=t.cost,
                fee=t.fee,
                fee_currency=t.fee_currency,
                taker_or_maker=t.taker_or_maker,
                timestamp=t.timestamp,
            )
            for t in trades
        )
        for account, asset in book.balances.changed:
            PaperBalance.objects.update_or_create(
                account_id=int(account),
                asset=asset,
                defaults={
                    "free": book.balances.free(account, asset),
                    "used": book.balances.used(account, asset),
                },
            )

    # --- the ccxt-shaped interface ---------------------------------------------------------

    def load_markets(self, reload: bool = False) -> dict[str, dict]:
        self._check_fault()
        return {m.symbol: rules_of(m).to_market() for m in PaperMarket.objects.filter(venue=self.venue)}

    def market(self, symbol: str) -> dict:
        self._check_fault()
        return rules_of(self._market_row(symbol)).to_market()

    def amount_to_precision(self, symbol: str, amount) -> Decimal:
        return floor_to(dec(amount), self._market_row(symbol).amount_step)

    def price_to_precision(self, symbol: str, price) -> Decimal:
        # Half-up, as ccxt rounds prices.
        tick = self._market_row(symbol).price_tick
        return (dec(price) / tick).quantize(Decimal(1), rounding=ROUND_HALF_UP) * tick

    def fetch_order_book(self, symbol: str, limit: int | None = None) -> dict:
        self._check_fault()
        market = self._market_row(symbol)
        book = matching.Book(
            rules_of(market),
            orders=[
                _engine_order(row)
                for row in PaperOrder.objects.filter(venue=self.venue, symbol=symbol, status="open")
            ],
        )
        timestamp = now_ms()
        bids, asks = book.depth("buy"), book.depth("sell")
        return {
            "symbol": symbol,
            "bids": [[p, a] for p, a in bids[:limit]],
            "asks": [[p, a] for p, a in asks[:limit]],
            "timestamp": timestamp,
            "datetime": iso(timestamp),
            "nonce": None,
        }

    def fetch_balance(self) -> dict:
        self._check_fault()
        result: dict = {"info": {}, "free": {}, "used": {}, "total": {}}
        for row in PaperBalance.objects.filter(account=self.account):
            total = row.free + row.used
            result[row.asset] = {"free": row.free, "used": row.used, "total": total}
            result["free"][row.asset] = row.free
            result["used"][row.asset] = row.used
            result["total"][row.asset] = total
        return result

    def create_order(self, symbol, type, side, amount, price=None, params=None) -> dict:
        self._check_fault()
        params = params or {}
        client_id = params.get("clientOrderId")
        time_in_force = "PO" if params.get("postOnly") else params.get("timeInForce", "GTC")
        with transaction.atomic():
            market = self._market_row(symbol, lock=True)
            if client_id and PaperOrder.objects.filter(
                account=self.account, client_order_id=client_id
            ).exists():
                raise ccxt.DuplicateOrderId(f"client order id {client_id} was already used")
            book = self._load_book(market)
            # Like the ccxt adapter, an amount or price off the venue's grid is refused, not
            # rounded into a different order than the caller meant.
            try:
                execution = book.submit(
                    self._owner,
                    side,
                    type,
                    dec(amount),
                    dec(price) if price is not None and type == "limit" else None,
                    client_id,
                    time_in_force,
                )
            except matching.Rejected as exc:
                raise REJECTIONS[exc.reason](str(exc)) from None
            self._save(market, book, execution.touched.values(), execution.trades)
        own = [trade_dict(t, symbol) for t in execution.trades if t.order_id == execution.order.id]
        return order_dict(execution.order, symbol, own)

    def cancel_order(self, id: str, symbol: str | None = None, params=None) -> dict:
        self._check_fault()
        if symbol is None:
            raise ccxt.ArgumentsRequired("cancel_order needs the symbol")
        with transaction.atomic():
            market = self._market_row(symbol, lock=True)
            book = self._load_book(market)
            try:
                order = book.cancel(self._owner, id)
            except matching.Rejected as exc:
                raise REJECTIONS[exc.reason](str(exc)) from None
            self._save(market, book, [order], [])
        return order_dict(order, symbol)

    def replace_orders(self, symbol: str, levels: list[Level]) -> None:
        """Cancel this account's orders and rest `levels` instead, in one transaction.

        Not part of ccxt's API: it is how the simulated outside market refreshes its book
        without showing anyone a half-empty one.
        """
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
        self._check_fault()
        rows = PaperOrder.objects.filter(venue=self.venue, account=self.account, status="open")
        if symbol:
            rows = rows.filter(symbol=symbol)
        return [order_dict(row, row.symbol) for row in rows.order_by("seq")[:limit]]

    def fetch_order(self, id, symbol=None, params=None) -> dict:
        self._check_fault()
        client_id = (params or {}).get("clientOrderId")
        rows = PaperOrder.objects.filter(venue=self.venue, account=self.account)
        row = (rows.filter(order_id=id) if id else rows.filter(client_order_id=client_id)).first()
        if row is None or (id is None and client_id is None):
            raise ccxt.OrderNotFound(f"{self.id} has no order {id or client_id}")
        return order_dict(row, row.symbol)

    def fetch_my_trades(self, symbol=None, since=None, limit=None, params=None) -> list[dict]:
        self._check_fault()
        rows = PaperTrade.objects.filter(venue=self.venue, account=self.account)
        if symbol:
            rows = rows.filter(symbol=symbol)
        if since is not None:
            rows = rows.filter(timestamp__gte=since)
        return [trade_dict(row, row.symbol) for row in rows.order_by("timestamp", "id")[:limit]]
