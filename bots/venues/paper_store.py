"""The paper venue's hot reads and writes, in plain SQL.

A hedge is measured from the fill to the order accepted, and the paper venue is on that path
three times: the book, the balance and the order itself. Through the ORM each statement cost
0.5 to 1 ms of query building here against 0.05 ms for the SQL it builds (bench/hedge_latency),
so the statements on that path are written out once, below, with the tables' and columns' names
taken from the models. Everything else in the paper venue stays on the ORM.

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


def num(value) -> Decimal | None:
    """A money column's value as a Decimal: numeric on PostgreSQL, text on SQLite."""
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(value)


def _each(cursor, sql: str, rows: list) -> None:
    """One statement per row. A request touches a handful of rows, and psycopg 3 runs
    executemany through its pipeline mode, which measured twice the time of a few executes."""
    for row in rows:
        cursor.execute(sql, row)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _exact(model, field: str, value: Decimal):
    return model._meta.get_field(field).get_db_prep_value(value, connection)


def _money(model, fields: tuple[str, ...], values) -> list:
    """Amounts as their columns hold them (on SQLite, the canonical text)."""
    return [_exact(model, field, value) for field, value in zip(fields, values, strict=True)]


PROGRESS = ("filled", "cost", "fee")
TRADE_MONEY = ("price", "amount", "cost", "fee")


ORDER_COLUMNS = (
    "order_id", "account_id", "side", "type", "amount", "price", "client_order_id",
    "time_in_force", "timestamp", "seq", "filled", "cost", "fee", "status",
)
TRADE_COLUMNS = (
    "venue_id", "symbol", "trade_id", "order_id", "client_order_id", "account_id", "side",
    "price", "amount", "cost", "fee", "fee_currency", "taker_or_maker", "timestamp",
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


def market(venue_id: int, symbol: str, lock: bool = False) -> MarketRow | None:
    sql = (
        f"SELECT {', '.join(MARKET_COLUMNS)} FROM {_table(PaperMarket)} "
        "WHERE venue_id = %s AND symbol = %s"
    )
    if lock and connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    with connection.cursor() as cursor:
        cursor.execute(sql, [venue_id, symbol])
        row = cursor.fetchone()
    return MarketRow(row) if row else None


def depth(venue_id: int, symbol: str) -> tuple[list, list]:
    """[(price, amount)] per side, best first, summed per price."""
    levels: dict[str, dict[Decimal, Decimal]] = {"buy": {}, "sell": {}}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT side, price, amount, filled FROM {_table(PaperOrder)} "
            "WHERE venue_id = %s AND symbol = %s AND status = 'open'",
            [venue_id, symbol],
        )
        for side, price, amount, filled in cursor.fetchall():
            price = num(price)
            levels[side][price] = levels[side].get(price, Decimal(0)) + num(amount) - num(filled)
    return sorted(levels["buy"].items(), reverse=True), sorted(levels["sell"].items())


def open_orders(
    venue_id: int, symbol: str, side: str | None = None, price_bound=None,
    account_id: int | None = None, order_id: str | None = None,
) -> list[matching.Order]:
    """Resting orders, in time priority; for a taker, only one side, only those within its
    limit; with `account_id`, only that account's; with `order_id`, only that one."""
    sql = (
        f"SELECT {', '.join(ORDER_COLUMNS)} FROM {_table(PaperOrder)} "
        "WHERE venue_id = %s AND symbol = %s AND status = 'open'"
    )
    params: list = [venue_id, symbol]
    if account_id is not None:
        sql += " AND account_id = %s"
        params.append(account_id)
    if order_id is not None:
        sql += " AND order_id = %s"
        params.append(order_id)
    if side is not None:
        sql += " AND side = %s"
        params.append(side)
        if price_bound is not None:
            sql += " AND price <= %s" if side == "sell" else " AND price >= %s"
            params.append(price_bound)
    with connection.cursor() as cursor:
        cursor.execute(sql + " ORDER BY seq", params)
        rows = cursor.fetchall()
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


def my_trades(venue_id: int, account_id: int, symbol: str | None, since: int | None, limit: int | None):
    """One account's trades as (symbol, matching.Trade, its order's type), oldest first (then by
    row id). Without `since` the newest `limit` of them, as ccxt's exchanges answer; from
    `since` on, the oldest `limit`."""
    where = "t.venue_id = %s AND t.account_id = %s"
    params: list = [venue_id, account_id]
    if symbol:
        where += " AND t.symbol = %s"
        params.append(symbol)
    if since is not None:
        where += " AND t.timestamp >= %s"
        params.append(since)
    newest = since is None and bool(limit)
    order = " ORDER BY t.timestamp DESC, t.id DESC" if newest else " ORDER BY t.timestamp, t.id"
    if limit:
        order += " LIMIT %s"
        params.append(int(limit))
    found = _trades(where, params, order)
    return found[::-1] if newest else found


def order_trades(venue_id: int, order_ids: list[str]) -> dict[str, list[matching.Trade]]:
    """The trades of these orders (theirs, not their counterparties'), oldest first per order."""
    if not order_ids:
        return {}
    where = f"t.venue_id = %s AND t.order_id IN ({', '.join(['%s'] * len(order_ids))})"
    found: dict[str, list[matching.Trade]] = {order_id: [] for order_id in order_ids}
    for _, trade, _ in _trades(where, [venue_id, *order_ids], " ORDER BY t.timestamp, t.id"):
        found[trade.order_id].append(trade)
    return found


_TRADE_READ = [c for c in TRADE_COLUMNS if c != "venue_id"]


def _trades(where: str, params: list, order: str) -> list[tuple[str, matching.Trade, str | None]]:
    # Each trade row belongs to one account's order; the join brings that order's type.
    sql = (
        f"SELECT {', '.join('t.' + c for c in _TRADE_READ)}, o.type FROM {_table(PaperTrade)} t "
        f"LEFT JOIN {_table(PaperOrder)} o ON o.venue_id = t.venue_id AND o.order_id = t.order_id "
        f"WHERE {where}{order}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    trades = []
    for row in found:
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
    ids, wanted = list(account_ids), list(assets) if assets is not None else None
    sql = (
        f"SELECT account_id, asset, free, used FROM {_table(PaperBalance)} "
        f"WHERE account_id IN ({', '.join(['%s'] * len(ids))})"
    )
    params: list = list(ids)
    if wanted is not None:
        sql += f" AND asset IN ({', '.join(['%s'] * len(wanted))})"
        params += wanted
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(a, asset, num(free), num(used)) for a, asset, free, used in cursor.fetchall()]


def save(
    venue_id: int, market: MarketRow, book: matching.Book, orders, trades, loaded: dict, funded: set
) -> None:
    """Write back one request: the id counter, changed and new orders, trades, balances.

    `loaded` maps the ids of the orders read from the table to their (filled, cost, fee, status);
    `funded` holds the (account id, asset) balance rows that exist. Call inside the transaction
    that read them.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_table(PaperMarket)} SET last_id = %s WHERE id = %s", [market.last_id, market.id]
        )
        changed, new = [], []
        for order in orders:
            progress = (order.filled, order.cost, order.fee, order.status)
            if order.id in loaded:
                if progress != loaded[order.id]:
                    changed.append(
                        [*_money(PaperOrder, PROGRESS, progress[:3]), order.status, venue_id, order.id]
                    )
            else:
                new.append([
                    venue_id, market.symbol, order.id, order.client_order_id, int(order.account),
                    order.side, order.type, order.time_in_force,
                    *_money(PaperOrder, ("price", "amount"), (order.price, order.amount)),
                    *_money(PaperOrder, PROGRESS, progress[:3]),
                    order.status, order.seq, order.timestamp,
                ])
        if changed:
            _each(
                cursor,
                f"UPDATE {_table(PaperOrder)} SET filled = %s, cost = %s, fee = %s, status = %s "
                "WHERE venue_id = %s AND order_id = %s",
                changed,
            )
        if new:
            columns = ("venue_id", "symbol", "order_id", "client_order_id", "account_id", "side",
                       "type", "time_in_force", "price", "amount", "filled", "cost", "fee",
                       "status", "seq", "timestamp")
            _each(
                cursor,
                f"INSERT INTO {_table(PaperOrder)} ({', '.join(columns)}) "
                f"VALUES ({', '.join(['%s'] * len(columns))})",
                new,
            )
        if trades:
            _each(
                cursor,
                f"INSERT INTO {_table(PaperTrade)} ({', '.join(TRADE_COLUMNS)}) "
                f"VALUES ({', '.join(['%s'] * len(TRADE_COLUMNS))})",
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
    updates = [[_exact(PaperBalance, "free", f), _exact(PaperBalance, "used", u), a, asset]
               for a, asset, f, u in rows if (a, asset) in existing]
    inserts = [[a, asset, _exact(PaperBalance, "free", f), _exact(PaperBalance, "used", u)]
               for a, asset, f, u in rows if (a, asset) not in existing]
    if updates:
        _each(
                cursor,
            f"UPDATE {_table(PaperBalance)} SET free = %s, used = %s WHERE account_id = %s AND asset = %s",
            updates,
        )
    if inserts:
        _each(
                cursor,
            f"INSERT INTO {_table(PaperBalance)} (account_id, asset, free, used) VALUES (%s, %s, %s, %s)",
            inserts,
        )


# --- the dead man's switch (ccxt's cancelAllOrdersAfter) --------------------------------------
# Read before every request the venue serves, written by every market-making tick.


def due_switches(venue_id: int, now: int) -> list[tuple[int, int]]:
    """(account id, deadline) of every switch on the venue whose deadline has passed."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT account_id, deadline FROM {_table(PaperCancelDeadline)} "
            "WHERE venue_id = %s AND deadline <= %s ORDER BY account_id",
            [venue_id, now],
        )
        return list(cursor.fetchall())


def arm_switch(venue_id: int, account_id: int, deadline: int) -> None:
    table = _table(PaperCancelDeadline)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET deadline = %s WHERE account_id = %s", [deadline, account_id])
        if cursor.rowcount:
            return
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (venue_id, account_id, deadline) VALUES (%s, %s, %s)",
                [venue_id, account_id, deadline],
            )
    except IntegrityError:  # armed at the same moment by another process: the later time wins
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET deadline = %s WHERE account_id = %s AND deadline < %s",
                [deadline, account_id, deadline],
            )


def disarm_switch(account_id: int, deadline: int | None = None) -> None:
    """Remove the account's switch; with `deadline`, only if it was not armed again since."""
    sql, params = f"DELETE FROM {_table(PaperCancelDeadline)} WHERE account_id = %s", [account_id]
    if deadline is not None:
        sql += " AND deadline = %s"
        params.append(deadline)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
