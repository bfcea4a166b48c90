"""The bots' most frequent reads, as plain SQL.

Every market ticks every second, and each of these reads runs once per tick or once per trade. Django spends
0.3-0.5 ms compiling a query, far more than SQLite or PostgreSQL take to answer one of these, so
the tick reads them as plain values here (as the paper venue's store does), and the ORM keeps
everything written, and everything read rarely. Names and values go through bots/platform/sql.py.
Each function says which ORM query it stands for; tests/platform/test_plain_sql_matches_the_orm.py
checks the two agree.
"""
# The statements are built from the models' table and column names and "%s" placeholders only;
# every value goes to the database as a parameter.
# ruff: noqa: S608

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from bots.models import Fill, Hedge, KillSwitch, Market, Order
from bots.platform.sql import column, columns, fetchall, marks, moment, num, statement, table


@statement
def _recent_fills() -> str:
    return (
        f"SELECT {columns(Fill, ('side', 'timestamp'))} FROM {table(Fill)} "
        f"WHERE {column(Fill, 'market')} = %s AND {column(Fill, 'timestamp')} >= %s"
    )


def recent_fills(market_id: int, since_ms: int) -> list[tuple[str, int]]:
    """Fill.objects.filter(market=..., timestamp__gte=since).values_list("side", "timestamp")"""
    return fetchall(_recent_fills(), [market_id, since_ms])


@statement
def _open_hedges() -> str:
    return (
        f"SELECT {column(Fill, 'side', 'f')}, "
        f"{columns(Hedge, ('amount', 'filled', 'state', 'created_at'), 'h')} FROM {table(Hedge)} h "
        f"JOIN {table(Fill)} f ON {column(Fill, 'id', 'f')} = {column(Hedge, 'fill', 'h')} "
        # The unary plus keeps SQLite off the fills' market index, which it would otherwise
        # prefer and then read every fill of the market; the state index finds the few open
        # hedges instead. PostgreSQL reads it as the plain column and plans by its statistics.
        f"WHERE +{column(Fill, 'market', 'f')} = %s "
        f"AND {column(Hedge, 'state', 'h')} IN ({marks(Hedge.OPEN)})"
    )


def open_hedges(market_id: int) -> list[tuple[str, Decimal, Decimal, str, datetime]]:
    """(fill side, amount, filled, state, created at) of the market's hedges not yet closed:
    Hedge.objects.filter(fill__market=..., state__in=Hedge.OPEN)
    .values_list("fill__side", "amount", "filled", "state", "created_at")"""
    rows = fetchall(_open_hedges(), [market_id, *Hedge.OPEN])
    return [(side, num(a), num(f), state, moment(c)) for side, a, f, state, c in rows]


@statement
def _live_orders() -> str:
    return (
        f"SELECT {columns(Order, ('id', 'client_order_id', 'exchange_order_id', 'state'))} "
        f"FROM {table(Order)} WHERE {column(Order, 'market')} = %s "
        f"AND {column(Order, 'account')} = %s AND {column(Order, 'state')} IN (%s, %s)"
    )


def live_orders(market_id: int, account_id: int) -> list[tuple[int, str, str, str]]:
    """(pk, client order id, exchange order id, state) of the records still open or sending:
    Order.objects.filter(market=..., account=..., state__in=[Order.OPEN, Order.SENDING])
    .values_list("pk", "client_order_id", "exchange_order_id", "state")"""
    return fetchall(_live_orders(), [market_id, account_id, Order.OPEN, Order.SENDING])


@statement
def _extra_hedge_account_ids() -> str:
    through = Market.extra_hedge_accounts.through
    account = column(through, "account")
    return (
        f"SELECT {account} FROM {table(through)} WHERE {column(through, 'market')} = %s "
        f"ORDER BY {account}"
    )


def extra_hedge_account_ids(market_id: int) -> list[int]:
    """The market's extra hedge accounts' ids, in order:
    Market.extra_hedge_accounts.through.objects.filter(market=...).order_by("account_id")
    .values_list("account_id", flat=True)"""
    return [row[0] for row in fetchall(_extra_hedge_account_ids(), [market_id])]


@statement
def _stopped() -> str:
    return (
        f"SELECT 1 FROM {table(Market)} WHERE {column(Market, 'id')} = %s "
        f"AND {column(Market, 'state')} IN ({marks(Market.STOPPED)}) "
        f"UNION ALL SELECT 1 FROM {table(KillSwitch)} WHERE {column(KillSwitch, 'id')} = 1 "
        f"AND {column(KillSwitch, 'engaged')} = %s"
    )


def stopped(market_id: int) -> bool:
    """The market is paused or killed, or the desk's kill switch is engaged:
    Market.objects.filter(pk=..., state__in=Market.STOPPED).exists()
    or KillSwitch.objects.filter(pk=1, engaged=True).exists()"""
    return bool(fetchall(_stopped(), [market_id, *Market.STOPPED, True]))
