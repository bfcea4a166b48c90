"""The paper venue's hot reads and writes, in plain SQL.

A hedge is measured from the fill to the order accepted, and the paper venue is on that path
three times: the book, the balance and the order itself. Through the ORM each statement cost
0.5 to 1 ms of query building here against 0.05 ms for the SQL it builds (bench/hedge_latency),
so the statements on that path are written out once, below, with the tables' and columns' names
taken from the models through bots/platform/sql.py. Everything else in the paper venue stays on
the ORM.

Amounts go in as their columns hold them and come back as Decimal, exactly, on every backend
(SQLite keeps them as text: bots.models.fields.ExactDecimalField).
"""
# The statements are built from the models' table and column names and "%s" placeholders only;
# every value goes to the database as a parameter.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db import IntegrityError, connection, transaction

from bots.engine import matching
from bots.engine.rules import MarketRules
from bots.models import PaperBalance, PaperCancelDeadline, PaperMarket, PaperOrder, PaperTrade
from bots.platform.sql import (
    column,
    columns,
    fetchall,
    insert_rows_statement,
    insert_statement,
    marks,
    num,
    prepared_values,
    rows_params,
    statement,
    table,
    update_rows_statement,
    update_statement,
)
from bots.platform.sql import cursor as sql_cursor

# Parameters per statement at most: SQLite before 3.32 allowed 999. A request that writes more
# (a deep sweep, a whole book laid at once) takes a few statements.
MAX_PARAMS = 900


def _chunks(rows: list, per_row: int) -> list[list]:
    size = max(1, MAX_PARAMS // per_row)
    return [rows[start : start + size] for start in range(0, len(rows), size)]


def _insert(cursor, model, fields: tuple[str, ...], rows: list) -> None:
    """The rows in one statement. A request touches a handful of rows; psycopg 3 runs
    executemany through its pipeline mode, which measured twice the time of a few executes, and
    each execute costs its way through Django's cursor (bench/hedge_latency)."""
    for chunk in _chunks(rows, len(fields)):
        cursor.execute(insert_rows_statement(model, fields, len(chunk)), [v for row in chunk for v in row])


def _update(cursor, model, fields: tuple[str, ...], where: tuple[str, ...], rows: list) -> None:
    """Rows of (their `where` values, their values of `fields`), updated in one statement."""
    if len(rows) == 1:
        keys, values = rows[0]
        cursor.execute(update_statement(model, fields, where), [*values, *keys])
        return
    for chunk in _chunks(rows, (len(where) + 1) * len(fields) + len(where)):
        cursor.execute(update_rows_statement(model, fields, where, len(chunk)), rows_params(chunk))


def _money(model, fields: tuple[str, ...], values) -> list:
    """Amounts as their columns hold them (on SQLite, the canonical text)."""
    return prepared_values(model, fields, values)


def _open_of_symbol() -> str:
    """The condition on the open PaperOrder rows of a venue's symbol (two parameters)."""
    return (
        f"{column(PaperOrder, 'venue')} = %s AND {column(PaperOrder, 'symbol')} = %s "
        f"AND {column(PaperOrder, 'status')} = 'open'"
    )


PROGRESS = ("filled", "cost", "fee")
TRADE_MONEY = ("price", "amount", "cost", "fee")
BALANCE_MONEY = ("free", "used")


ORDER_COLUMNS = (
    "order_id", "account_id", "side", "type", "amount", "price", "client_order_id",
    "time_in_force", "timestamp", "seq", "filled", "cost", "fee", "status",
)
TRADE_COLUMNS = (
    "venue_id", "symbol", "trade_id", "order_id", "client_order_id", "account_id", "side",
    "price", "amount", "cost", "fee", "fee_currency", "taker_or_maker", "timestamp",
)
NEW_ORDER_COLUMNS = (
    "venue_id", "symbol", "order_id", "client_order_id", "account_id", "side", "type",
    "time_in_force", "price", "amount", "filled", "cost", "fee", "status", "seq", "timestamp",
)
MARKET_COLUMNS = (
    "id", "symbol", "base", "quote", "price_tick", "amount_step", "min_amount", "min_cost",
    "maker_fee", "taker_fee", "last_id",
)


class MarketRow:
    """A paper market's rules and id counter, as read (and, under its lock, written back)."""

    def __init__(self, row):
        values = dict(zip(MARKET_COLUMNS, row, strict=True))
        self.id, self.symbol, self.last_id = values["id"], values["symbol"], values["last_id"]
        self.rules = MarketRules(
            symbol=values["symbol"], base=values["base"], quote=values["quote"],
            **{k: num(values[k]) for k in ("price_tick", "amount_step", "min_amount", "min_cost",
                                            "maker_fee", "taker_fee")},
        )


@statement
def _market(lock: bool) -> str:
    sql = (
        f"SELECT {columns(PaperMarket, MARKET_COLUMNS)} FROM {table(PaperMarket)} "
        f"WHERE {column(PaperMarket, 'venue')} = %s AND {column(PaperMarket, 'symbol')} = %s"
    )
    return sql + " FOR UPDATE" if lock and connection.features.has_select_for_update else sql


def market(venue_id: int, symbol: str, lock: bool = False) -> MarketRow | None:
    """PaperMarket.objects.filter(venue=..., symbol=...) (select_for_update() with `lock`)."""
    found = fetchall(_market(lock), [venue_id, symbol])
    return MarketRow(found[0]) if found else None


def depth(venue_id: int, symbol: str) -> tuple[list, list]:
    """[(price, amount)] per side, best first, summed per price, of the open PaperOrder rows of
    the venue's symbol."""
    levels: dict[str, dict[Decimal, Decimal]] = {"buy": {}, "sell": {}}
    for side, price, amount, filled in fetchall(_depth(), [venue_id, symbol]):
        price = num(price)
        levels[side][price] = levels[side].get(price, Decimal(0)) + num(amount) - num(filled)
    return sorted(levels["buy"].items(), reverse=True), sorted(levels["sell"].items())


@statement
def _depth() -> str:
    return (
        f"SELECT {columns(PaperOrder, ('side', 'price', 'amount', 'filled'))} "
        f"FROM {table(PaperOrder)} WHERE {_open_of_symbol()}"
    )


def open_orders(
    venue_id: int, symbol: str, side: str | None = None, price_bound=None,
    account_id: int | None = None, order_id: str | None = None,
) -> list[matching.Order]:
    """Resting orders, in time priority; for a taker, only one side, only those within its
    limit; with `account_id`, only that account's; with `order_id`, only that one."""
    params: list = [venue_id, symbol]
    for value in (account_id, order_id, side):
        if value is not None:
            params.append(value)
    bound = None if side is None or price_bound is None else ("<=" if side == "sell" else ">=")
    if bound:
        params.append(price_bound)
    sql = _open_orders(account_id is not None, order_id is not None, side is not None, bound)
    rows = fetchall(sql, params)
    orders = []
    for row in rows:
        v = dict(zip(ORDER_COLUMNS, row, strict=True))
        orders.append(matching.Order(
            id=v["order_id"], account=str(v["account_id"]), side=v["side"], type=v["type"],
            amount=num(v["amount"]), price=num(v["price"]), client_order_id=v["client_order_id"],
            time_in_force=v["time_in_force"], timestamp=v["timestamp"], seq=v["seq"],
            filled=num(v["filled"]), cost=num(v["cost"]), fee=num(v["fee"]), status=v["status"],
        ))
    return orders


@statement
def _open_orders(by_account: bool, by_order: bool, by_side: bool, bound: str | None) -> str:
    sql = f"SELECT {columns(PaperOrder, ORDER_COLUMNS)} FROM {table(PaperOrder)} WHERE {_open_of_symbol()}"
    for wanted, field in ((by_account, "account"), (by_order, "order_id"), (by_side, "side")):
        if wanted:
            sql += f" AND {column(PaperOrder, field)} = %s"
    if bound:
        sql += f" AND {column(PaperOrder, 'price')} {bound} %s"
    return sql + f" ORDER BY {column(PaperOrder, 'seq')}"


def my_trades(venue_id: int, account_id: int, symbol: str | None, since: int | None, limit: int | None):
    """One account's trades as (symbol, matching.Trade, its order's type), oldest first (then by
    row id). Without `since` the newest `limit` of them, as ccxt's exchanges answer; from
    `since` on, the oldest `limit`."""
    params: list = [venue_id, account_id]
    if symbol:
        params.append(symbol)
    if since is not None:
        params.append(since)
    newest = since is None and bool(limit)
    if limit:
        params.append(int(limit))
    found = _trades(_my_trades(bool(symbol), since is not None, newest, bool(limit)), params)
    return found[::-1] if newest else found


@statement
def _my_trades(by_symbol: bool, by_since: bool, newest: bool, limited: bool) -> str:
    sql = (
        f"{_trades_select()} WHERE {column(PaperTrade, 'venue', 't')} = %s "
        f"AND {column(PaperTrade, 'account', 't')} = %s"
    )
    if by_symbol:
        sql += f" AND {column(PaperTrade, 'symbol', 't')} = %s"
    if by_since:
        sql += f" AND {column(PaperTrade, 'timestamp', 't')} >= %s"
    direction = " DESC" if newest else ""
    sql += (
        f" ORDER BY {column(PaperTrade, 'timestamp', 't')}{direction}, "
        f"{column(PaperTrade, 'id', 't')}{direction}"
    )
    return sql + " LIMIT %s" if limited else sql


def order_trades(venue_id: int, order_ids: list[str]) -> dict[str, list[matching.Trade]]:
    """The trades of these orders (theirs, not their counterparties'), oldest first per order."""
    if not order_ids:
        return {}
    found: dict[str, list[matching.Trade]] = {order_id: [] for order_id in order_ids}
    for _, trade, _ in _trades(_order_trades(len(order_ids)), [venue_id, *order_ids]):
        found[trade.order_id].append(trade)
    return found


@statement
def _order_trades(count: int) -> str:
    return (
        f"{_trades_select()} WHERE {column(PaperTrade, 'venue', 't')} = %s "
        f"AND {column(PaperTrade, 'order_id', 't')} IN ({marks(count)}) "
        f"ORDER BY {column(PaperTrade, 'timestamp', 't')}, {column(PaperTrade, 'id', 't')}"
    )


_TRADE_READ = [c for c in TRADE_COLUMNS if c != "venue_id"]


def _trades_select() -> str:
    # Each trade row belongs to one account's order; the join brings that order's type.
    return (
        f"SELECT {columns(PaperTrade, _TRADE_READ, 't')}, {column(PaperOrder, 'type', 'o')} "
        f"FROM {table(PaperTrade)} t LEFT JOIN {table(PaperOrder)} o "
        f"ON {column(PaperOrder, 'venue', 'o')} = {column(PaperTrade, 'venue', 't')} "
        f"AND {column(PaperOrder, 'order_id', 'o')} = {column(PaperTrade, 'order_id', 't')}"
    )


def _trades(sql: str, params: list) -> list[tuple[str, matching.Trade, str | None]]:
    trades = []
    for row in fetchall(sql, params):
        v = dict(zip(_TRADE_READ, row[:-1], strict=True))
        trades.append((v["symbol"], matching.Trade(
            id=v["trade_id"], order_id=v["order_id"], client_order_id=v["client_order_id"],
            account=str(v["account_id"]), side=v["side"], price=num(v["price"]),
            amount=num(v["amount"]), cost=num(v["cost"]), fee=num(v["fee"]),
            fee_currency=v["fee_currency"], taker_or_maker=v["taker_or_maker"],
            timestamp=v["timestamp"],
        ), row[-1]))
    return trades


def balances(account_ids: Iterable[int], assets: Iterable[str] | None = None) -> list[tuple[int, str, Decimal, Decimal]]:
    """(account id, asset, free, used) of these accounts' PaperBalance rows, of these assets
    only when given."""
    ids, wanted = list(account_ids), list(assets) if assets is not None else None
    sql = _balances(len(ids), None if wanted is None else len(wanted))
    rows = fetchall(sql, ids + (wanted or []))
    return [(a, asset, num(free), num(used)) for a, asset, free, used in rows]


@statement
def _balances(accounts: int, assets: int | None) -> str:
    sql = (
        f"SELECT {columns(PaperBalance, ('account', 'asset', 'free', 'used'))} "
        f"FROM {table(PaperBalance)} WHERE {column(PaperBalance, 'account')} IN ({marks(accounts)})"
    )
    return sql if assets is None else sql + f" AND {column(PaperBalance, 'asset')} IN ({marks(assets)})"


def save(
    venue_id: int, market: MarketRow, book: matching.Book, orders, trades, loaded: dict, funded: set
) -> None:
    """Write back one request: the id counter, changed and new orders, trades, balances.

    `loaded` maps the ids of the orders read from the table to their (filled, cost, fee, status);
    `funded` holds the (account id, asset) balance rows that exist. Call inside the transaction
    that read them.
    """
    with sql_cursor() as cursor:
        cursor.execute(
            update_statement(PaperMarket, ("last_id",), ("id",)), [market.last_id, market.id]
        )
        changed, new = [], []
        for order in orders:
            progress = (order.filled, order.cost, order.fee, order.status)
            if order.id in loaded:
                if progress != loaded[order.id]:
                    changed.append(
                        ([venue_id, order.id], [*_money(PaperOrder, PROGRESS, progress[:3]), order.status])
                    )
            else:
                new.append([
                    venue_id, market.symbol, order.id, order.client_order_id, int(order.account),
                    order.side, order.type, order.time_in_force,
                    *_money(PaperOrder, ("price", "amount"), (order.price, order.amount)),
                    *_money(PaperOrder, PROGRESS, progress[:3]),
                    order.status, order.seq, order.timestamp,
                ])
        _update(cursor, PaperOrder, (*PROGRESS, "status"), ("venue_id", "order_id"), changed)
        _insert(cursor, PaperOrder, NEW_ORDER_COLUMNS, new)
        _insert(
            cursor,
            PaperTrade,
            TRADE_COLUMNS,
            [[venue_id, market.symbol, t.id, t.order_id, t.client_order_id, int(t.account),
              t.side, *_money(PaperTrade, TRADE_MONEY, (t.price, t.amount, t.cost, t.fee)),
              t.fee_currency, t.taker_or_maker, t.timestamp] for t in trades],
        )
        write_balances(cursor, [
            (int(account), asset, book.balances.free(account, asset), book.balances.used(account, asset))
            for account, asset in book.balances.changed
        ], funded)


def write_balances(cursor, rows: list[tuple[int, str, Decimal, Decimal]], existing: set) -> None:
    """Set (account, asset) balances, creating those not in `existing` yet."""
    if not rows:
        return
    updates = [([a, asset], _money(PaperBalance, BALANCE_MONEY, (f, u)))
               for a, asset, f, u in rows if (a, asset) in existing]
    inserts = [[a, asset, *_money(PaperBalance, BALANCE_MONEY, (f, u))]
               for a, asset, f, u in rows if (a, asset) not in existing]
    _update(cursor, PaperBalance, BALANCE_MONEY, ("account_id", "asset"), updates)
    _insert(cursor, PaperBalance, ("account_id", "asset", *BALANCE_MONEY), inserts)


# --- the dead man's switch (ccxt's cancelAllOrdersAfter) --------------------------------------
# Read before every request the venue serves, written by every market-making tick.


def due_switches(venue_id: int, now: int) -> list[tuple[int, int]]:
    """(account id, deadline) of every switch on the venue whose deadline has passed."""
    return fetchall(_due_switches(), [venue_id, now])


@statement
def _due_switches() -> str:
    account = column(PaperCancelDeadline, "account")
    deadline = column(PaperCancelDeadline, "deadline")
    return (
        f"SELECT {account}, {deadline} FROM {table(PaperCancelDeadline)} "
        f"WHERE {column(PaperCancelDeadline, 'venue')} = %s AND {deadline} <= %s ORDER BY {account}"
    )


def arm_switch(venue_id: int, account_id: int, deadline: int) -> None:
    with sql_cursor() as cursor:
        cursor.execute(
            update_statement(PaperCancelDeadline, ("deadline",), ("account",)), [deadline, account_id]
        )
        if cursor.rowcount:
            return
    try:
        with transaction.atomic(), sql_cursor() as cursor:
            cursor.execute(
                insert_statement(PaperCancelDeadline, ("venue", "account", "deadline")),
                [venue_id, account_id, deadline],
            )
    except IntegrityError:  # armed at the same moment by another process: the later time wins
        with sql_cursor() as cursor:
            cursor.execute(_rearm(), [deadline, account_id, deadline])


@statement
def _rearm() -> str:
    deadline = column(PaperCancelDeadline, "deadline")
    return (
        f"UPDATE {table(PaperCancelDeadline)} SET {deadline} = %s "
        f"WHERE {column(PaperCancelDeadline, 'account')} = %s AND {deadline} < %s"
    )


def disarm_switch(account_id: int, deadline: int | None = None) -> None:
    """Remove the account's switch; with `deadline`, only if it was not armed again since."""
    params = [account_id] if deadline is None else [account_id, deadline]
    with sql_cursor() as cursor:
        cursor.execute(_disarm(deadline is not None), params)


@statement
def _disarm(if_deadline: bool) -> str:
    sql = (
        f"DELETE FROM {table(PaperCancelDeadline)} "
        f"WHERE {column(PaperCancelDeadline, 'account')} = %s"
    )
    return sql + f" AND {column(PaperCancelDeadline, 'deadline')} = %s" if if_deadline else sql
