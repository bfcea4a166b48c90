"""Price-time-priority matching for one market, with balances, holds and fees.

This is the paper venue's exchange: the live paper venue loads a market's open orders and
balances from the database into a Book, applies one request, and writes back what changed;
the simulation runs the same Book in memory. Pure Python and Decimal throughout.

Conventions follow a typical spot exchange: a resting buy holds price * remaining of the
quote asset, a resting sell holds the remaining base; fees are charged in the asset received;
an account that would trade with itself expires its own resting order instead (expire-maker
self-trade prevention).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal

from bots.engine.figures import plain
from bots.engine.rules import BUY, SELL, SIDES, ZERO, MarketRules, on_grid

FEE_QUANTUM = Decimal("1e-12")

# Why a request was refused; the venue layer maps each to its ccxt exception class.
INVALID_ORDER = "invalid_order"
INSUFFICIENT_FUNDS = "insufficient_funds"
WOULD_TAKE = "would_take"
ORDER_NOT_FOUND = "order_not_found"


class Rejected(Exception):
    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass
class Order:
    id: str
    account: str
    side: str
    type: str  # "limit" or "market"
    amount: Decimal
    price: Decimal | None = None
    client_order_id: str | None = None
    time_in_force: str = "GTC"  # GTC, IOC or PO (post-only)
    timestamp: int = 0
    seq: int = 0
    filled: Decimal = ZERO
    cost: Decimal = ZERO
    fee: Decimal = ZERO
    status: str = "open"  # open, closed, canceled, expired

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.filled

    @property
    def average(self) -> Decimal | None:
        return self.cost / self.filled if self.filled else None


@dataclass(frozen=True)
class Trade:
    id: str
    order_id: str
    client_order_id: str | None
    account: str
    side: str
    price: Decimal
    amount: Decimal
    cost: Decimal
    fee: Decimal
    fee_currency: str
    taker_or_maker: str
    timestamp: int


class Balances:
    """Free and held amounts per (account, asset); remembers which ones changed."""

    def __init__(self, rows: Iterable[tuple[str, str, Decimal, Decimal]] = ()):
        self._rows: dict[tuple[str, str], list[Decimal]] = {}
        for account, asset, free, used in rows:
            self._rows[(account, asset)] = [free, used]
        self.changed: set[tuple[str, str]] = set()

    def free(self, account: str, asset: str) -> Decimal:
        return self._rows.get((account, asset), [ZERO, ZERO])[0]

    def used(self, account: str, asset: str) -> Decimal:
        return self._rows.get((account, asset), [ZERO, ZERO])[1]

    def items(self):
        return ((key, tuple(row)) for key, row in self._rows.items())

    def _adjust(self, account: str, asset: str, free: Decimal = ZERO, used: Decimal = ZERO):
        row = self._rows.setdefault((account, asset), [ZERO, ZERO])
        row[0] += free
        row[1] += used
        if row[0] < 0 or row[1] < 0:
            raise AssertionError(f"balance of {account} {asset} would go negative: {row}")
        self.changed.add((account, asset))

    def deposit(self, account: str, asset: str, amount: Decimal):
        self._adjust(account, asset, free=amount)

    def withdraw(self, account: str, asset: str, amount: Decimal):
        if self.free(account, asset) < amount:
            raise Rejected(INSUFFICIENT_FUNDS, f"free {asset} {self.free(account, asset)} < {amount}")
        self._adjust(account, asset, free=-amount)

    def hold(self, account: str, asset: str, amount: Decimal):
        if self.free(account, asset) < amount:
            raise Rejected(
                INSUFFICIENT_FUNDS,
                f"insufficient {asset}: free {self.free(account, asset)}, needed {amount}",
            )
        self._adjust(account, asset, free=-amount, used=amount)

    def release(self, account: str, asset: str, amount: Decimal):
        self._adjust(account, asset, free=amount, used=-amount)

    def spend_held(self, account: str, asset: str, amount: Decimal):
        self._adjust(account, asset, used=-amount)


@dataclass
class Execution:
    """What one request did: the taker order, its trades, and every order it changed."""

    order: Order
    trades: list[Trade] = field(default_factory=list)
    touched: dict[str, Order] = field(default_factory=dict)


def _fee(amount: Decimal, rate: Decimal) -> Decimal:
    return (amount * rate).quantize(FEE_QUANTUM, rounding=ROUND_CEILING)


class Book:
    """One market's order book and the balances of the accounts trading on it."""

    def __init__(
        self,
        rules: MarketRules,
        orders: Iterable[Order] = (),
        balances: Balances | None = None,
        next_id: Callable[[str], str] | None = None,
        clock: Callable[[], int] | None = None,
        last_seq: int = 0,
    ):
        """`last_seq` is the latest time priority ever given on this market: a caller that
        loads only the orders a request can touch passes it, so a new order still queues
        behind every order resting before it."""
        self.rules = rules
        self.balances = balances if balances is not None else Balances()
        self._counter = 0
        self._next_id = next_id or self._count
        self._clock = clock or (lambda: 0)
        self._seq = last_seq  # time priority among resting orders; only its order matters
        self.bids: list[Order] = []
        self.asks: list[Order] = []
        for order in orders:
            if order.status == "open":
                self._side(order.side).append(order)
                self._seq = max(self._seq, order.seq)
        self.bids.sort(key=lambda o: (-o.price, o.seq))
        self.asks.sort(key=lambda o: (o.price, o.seq))

    def _count(self, kind: str) -> str:
        self._counter += 1
        return f"{kind[0]}{self._counter}"

    def _side(self, side: str) -> list[Order]:
        return self.bids if side == BUY else self.asks

    def open_orders(self, account: str | None = None) -> list[Order]:
        return [o for o in self.bids + self.asks if account is None or o.account == account]

    def depth(self, side: str) -> list[tuple[Decimal, Decimal]]:
        """Aggregated [(price, amount)] levels, best first."""
        levels: list[tuple[Decimal, Decimal]] = []
        for order in self._side(side):
            if levels and levels[-1][0] == order.price:
                levels[-1] = (order.price, levels[-1][1] + order.remaining)
            else:
                levels.append((order.price, order.remaining))
        return levels

    # --- requests -------------------------------------------------------------------------

    def submit(
        self,
        account: str,
        side: str,
        type: str,
        amount: Decimal,
        price: Decimal | None = None,
        client_order_id: str | None = None,
        time_in_force: str = "GTC",
    ) -> Execution:
        self._validate(side, type, amount, price, time_in_force)
        self._seq += 1
        order = Order(
            id=self._next_id("order"),
            account=account,
            side=side,
            type=type,
            amount=amount,
            price=price if type == "limit" else None,
            client_order_id=client_order_id,
            time_in_force=time_in_force if type == "limit" else "IOC",
            timestamp=self._clock(),
            seq=self._seq,
        )
        execution = Execution(order=order)
        makers = self.asks if side == BUY else self.bids

        if order.time_in_force == "PO" and makers and self._crosses(order, makers[0]):
            raise Rejected(WOULD_TAKE, "post-only order would trade immediately")
        market_hold = self._hold_for_taker(order, makers)

        while makers and order.remaining > 0 and self._crosses(order, makers[0]):
            maker = makers[0]
            if maker.account == account:
                self._expire(maker, execution)
                continue
            self._trade(order, maker, execution)
            if maker.remaining == 0:
                makers.pop(0)

        if order.type == "market" and side == BUY:
            # What the walk estimated but did not spend (self-trades skipped) goes back.
            self.balances.release(account, self.rules.quote, market_hold - order.cost)
            order.status = "closed" if order.remaining == 0 else "expired"
        elif order.remaining == 0:
            order.status = "closed"
        elif order.time_in_force == "IOC":
            order.status = "expired"
            self._release_rest(order)
        else:
            self._rest(order)
        execution.touched[order.id] = order
        return execution

    def cancel(self, account: str, order_id: str) -> Order:
        for book in (self.bids, self.asks):
            for order in book:
                if order.id == order_id and order.account == account:
                    book.remove(order)
                    order.status = "canceled"
                    self._release_rest(order)
                    return order
        raise Rejected(ORDER_NOT_FOUND, f"no open order {order_id} for this account")

    # --- internals ------------------------------------------------------------------------

    def _validate(self, side, type, amount, price, time_in_force):
        rules = self.rules
        if side not in SIDES:
            raise Rejected(INVALID_ORDER, f"side must be buy or sell, not {side!r}")
        if type not in ("limit", "market"):
            raise Rejected(INVALID_ORDER, f"order type must be limit or market, not {type!r}")
        if time_in_force not in ("GTC", "IOC", "PO"):
            raise Rejected(INVALID_ORDER, f"unknown time in force {time_in_force!r}")
        # Plain figures in the messages: a step read from the database is 0.0000100000000000000.
        if amount <= 0 or not on_grid(amount, rules.amount_step):
            raise Rejected(INVALID_ORDER, f"amount {plain(amount)} is not a positive multiple "
                                          f"of {plain(rules.amount_step)}")
        if amount < rules.min_amount:
            raise Rejected(INVALID_ORDER, f"amount {plain(amount)} is below the minimum "
                                          f"{plain(rules.min_amount)}")
        if type == "limit":
            if price is None:
                raise Rejected(INVALID_ORDER, "a limit order needs a price")
            if price <= 0 or not on_grid(price, rules.price_tick):
                raise Rejected(INVALID_ORDER, f"price {plain(price)} is not a positive multiple "
                                              f"of {plain(rules.price_tick)}")
            estimate = price
        else:
            best = self.asks if side == BUY else self.bids
            if not best:
                raise Rejected(INVALID_ORDER, "market order on an empty book")
            estimate = best[0].price
        if amount * estimate < rules.min_cost:
            raise Rejected(INVALID_ORDER, f"order value {plain(amount * estimate)} is below the "
                                          f"minimum {plain(rules.min_cost)}")

    @staticmethod
    def _crosses(order: Order, maker: Order) -> bool:
        if order.type == "market":
            return True
        return maker.price <= order.price if order.side == BUY else maker.price >= order.price

    def _hold_for_taker(self, order: Order, makers: list[Order]) -> Decimal:
        """Hold what the order can spend; a market buy holds the cost of walking the book."""
        rules = self.rules
        if order.side == SELL:
            self.balances.hold(order.account, rules.base, order.amount)
        elif order.type == "limit":
            self.balances.hold(order.account, rules.quote, order.amount * order.price)
        else:
            left, cost = order.amount, ZERO
            for maker in makers:
                if maker.account == order.account:
                    continue
                take = min(left, maker.remaining)
                cost += take * maker.price
                left -= take
                if left == 0:
                    break
            self.balances.hold(order.account, rules.quote, cost)
            return cost
        return ZERO

    def _held_per_unit(self, order: Order, price: Decimal) -> Decimal:
        """Quote held for one unit of a buy: its limit, or the trade price for a market buy."""
        return order.price if order.price is not None else price

    def _trade(self, taker: Order, maker: Order, execution: Execution):
        rules = self.rules
        amount = min(taker.remaining, maker.remaining)
        price = maker.price
        cost = amount * price
        timestamp = self._clock()
        for order, role, rate in ((taker, "taker", rules.taker_fee), (maker, "maker", rules.maker_fee)):
            if order.side == BUY:
                held = amount * self._held_per_unit(order, price)
                self.balances.spend_held(order.account, rules.quote, held)
                if held > cost:
                    self.balances.deposit(order.account, rules.quote, held - cost)
                fee, fee_currency = _fee(amount, rate), rules.base
                self.balances.deposit(order.account, rules.base, amount - fee)
            else:
                self.balances.spend_held(order.account, rules.base, amount)
                fee, fee_currency = _fee(cost, rate), rules.quote
                self.balances.deposit(order.account, rules.quote, cost - fee)
            order.filled += amount
            order.cost += cost
            order.fee += fee
            execution.trades.append(
                Trade(
                    id=self._next_id("trade"),
                    order_id=order.id,
                    client_order_id=order.client_order_id,
                    account=order.account,
                    side=order.side,
                    price=price,
                    amount=amount,
                    cost=cost,
                    fee=fee,
                    fee_currency=fee_currency,
                    taker_or_maker=role,
                    timestamp=timestamp,
                )
            )
        if maker.remaining == 0:
            maker.status = "closed"
        execution.touched[maker.id] = maker

    def _expire(self, maker: Order, execution: Execution):
        self._side(maker.side).remove(maker)
        maker.status = "expired"
        self._release_rest(maker)
        execution.touched[maker.id] = maker

    def _release_rest(self, order: Order):
        rules = self.rules
        if order.side == SELL:
            self.balances.release(order.account, rules.base, order.remaining)
        else:
            self.balances.release(order.account, rules.quote, order.remaining * order.price)

    def _rest(self, order: Order):
        book = self._side(order.side)
        key = (lambda o: (-o.price, o.seq)) if order.side == BUY else (lambda o: (o.price, o.seq))
        position = len(book)
        for index, resting in enumerate(book):
            if key(order) < key(resting):
                position = index
                break
        book.insert(position, order)
