"""The bots' most frequent reads, as plain SQL.

Every market ticks every second, and each of these reads runs once per tick or once per trade. Django spends
0.3-0.5 ms compiling a query, far more than SQLite or PostgreSQL take to answer one of these, so
the tick reads them as plain values here (as the paper venue's store does), and the ORM keeps
everything written, and everything read rarely. Each function says which ORM query it stands
for; tests/market_making/test_tick_reads.py checks the two agree.
"""
# The statements are built from the models' table and column names and "%s" placeholders only;
# every value goes to the database as a parameter.
# ruff: noqa: S608

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from django.db import connection
from django.utils.dateparse import parse_datetime

from bots.models import Fill, Hedge, KillSwitch, Market, Order
from bots.platform.rows import table
from bots.venues.paper_store import num


def _rows(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _marks(values) -> str:
    return ", ".join(["%s"] * len(values))


def _moment(value) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return parse_datetime(value).replace(tzinfo=UTC)  # SQLite keeps UTC as naive text


def recent_fills(market_id: int, since_ms: int) -> list[tuple[str, int]]:
    """Fill.objects.filter(market=..., timestamp__gte=since).values_list("side", "timestamp")"""
    return _rows(
        f"SELECT side, timestamp FROM {table(Fill)} WHERE market_id = %s AND timestamp >= %s",
        [market_id, since_ms],
    )


def open_hedges(market_id: int) -> list[tuple[str, Decimal, Decimal, str, datetime]]:
    """(fill side, amount, filled, state, created at) of the market's hedges not yet closed."""
    closed = list(Hedge.CLOSED)
    rows = _rows(
        f"SELECT f.side, h.amount, h.filled, h.state, h.created_at FROM {table(Hedge)} h "
        f"JOIN {table(Fill)} f ON f.id = h.fill_id "
        f"WHERE f.market_id = %s AND h.state NOT IN ({_marks(closed)})",
        [market_id, *closed],
    )
    return [(side, num(a), num(f), state, _moment(c)) for side, a, f, state, c in rows]


def live_orders(market_id: int, account_id: int) -> list[tuple[int, str, str, str]]:
    """(pk, client order id, exchange order id, state) of the records still open or sending."""
    return _rows(
        f"SELECT id, client_order_id, exchange_order_id, state FROM {table(Order)} "
        "WHERE market_id = %s AND account_id = %s AND state IN (%s, %s)",
        [market_id, account_id, Order.OPEN, Order.SENDING],
    )


def extra_hedge_account_ids(market_id: int) -> list[int]:
    through = Market.extra_hedge_accounts.through
    return [
        row[0]
        for row in _rows(
            f"SELECT account_id FROM {table(through)} WHERE market_id = %s ORDER BY account_id",
            [market_id],
        )
    ]


def stopped(market_id: int) -> bool:
    """The market is paused or killed, or the desk's kill switch is engaged."""
    paused = list(Market.STOPPED)
    return bool(
        _rows(
            f"SELECT 1 FROM {table(Market)} WHERE id = %s AND state IN ({_marks(paused)}) "
            f"UNION ALL SELECT 1 FROM {table(KillSwitch)} WHERE id = 1 AND engaged = %s",
            [market_id, *paused, True],
        )
    )


def markets_quoted_by(account_ids: list[int], symbol: str) -> list[int]:
    """Enabled markets of `symbol` whose MM account is among `account_ids` (a paper trade's
    accounts): Market.objects.filter(mm_account_id__in=..., symbol=..., enabled=True)."""
    if not account_ids:
        return []
    return [
        row[0]
        for row in _rows(
            f"SELECT id FROM {table(Market)} WHERE mm_account_id IN ({_marks(account_ids)}) "
            "AND symbol = %s AND enabled = %s ORDER BY id",
            [*account_ids, symbol, True],
        )
    ]
