"""What a hedge run reads about its market: a few settings and the hedge accounts, fresh each run.

Two plain SQL statements instead of the ORM's select_related over the market and its settings,
which measured about 10 ms of query building and model loading per hedge (bench/hedge_latency):
more than the whole hedge may take. Names of tables and columns come from the models through
bots/platform/sql.py, values go as parameters. The Market instance carries only the fields loaded here; others load on access.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import connection

from bots.models import Account, HedgeSettings, Market, QuoteSettings, Venue
from bots.platform import sql
from bots.platform.sql import column, columns, num, statement, table

# ruff: noqa: S608 - only model table/column names are formatted into the SQL

MARKET_FIELDS = ("id", "slug", "symbol", "mm_account_id", "hedge_account_id")
SETTING_FIELDS = ("id", "max_notional", "ladder_steps", "ladder_step_bps", "ladder_pause_ms")
VENUE_FIELDS = ("id", "name", "label", "kind", "exchange_id", "options", "fault", "sandbox")
ACCOUNT_FIELDS = ("id", "venue_id", "name", "role", "api_key_enc", "secret_enc", "password_enc")


@dataclass(frozen=True)
class MarketContext:
    market: Market
    slippage_bps: Decimal
    settings: HedgeSettings  # the market's, or the defaults when it has none
    accounts: list[Account]  # its hedge accounts, the primary first, each with its venue


@statement
def _settings_sql() -> str:
    market_id = column(Market, "id", "m")
    return (
        f"SELECT {columns(Market, MARKET_FIELDS, 'm')}, "
        f"{column(QuoteSettings, 'hedge_slippage_bps', 'q')}, "
        f"{columns(HedgeSettings, SETTING_FIELDS, 'h')} FROM {table(Market)} m "
        f"JOIN {table(QuoteSettings)} q ON {column(QuoteSettings, 'market', 'q')} = {market_id} "
        f"LEFT JOIN {table(HedgeSettings)} h ON {column(HedgeSettings, 'market', 'h')} = {market_id} "
        f"WHERE {market_id} = %s"
    )


@statement
def _accounts_sql() -> str:
    through = Market.extra_hedge_accounts.through
    account_id = column(Account, "id", "a")
    return (
        f"SELECT {columns(Account, ACCOUNT_FIELDS, 'a')}, {columns(Venue, VENUE_FIELDS, 'v')} "
        f"FROM {table(Account)} a "
        f"JOIN {table(Venue)} v ON {column(Venue, 'id', 'v')} = {column(Account, 'venue', 'a')} "
        f"WHERE {account_id} = %s OR {account_id} IN (SELECT {column(through, 'account')} "
        f"FROM {table(through)} WHERE {column(through, 'market')} = %s)"
    )


def load(market_id: int) -> MarketContext:
    """Market.objects.select_related("quote_settings", "hedge_settings") and the market's hedge
    accounts (the primary, then the extra ones by id), each with select_related("venue")."""
    with sql.cursor() as cursor:
        cursor.execute(_settings_sql(), [market_id])
        row = cursor.fetchone()
        if row is None:
            raise Market.DoesNotExist(f"no market {market_id} with quote settings")
        market = sql.instance(Market, dict(zip(MARKET_FIELDS, row[: len(MARKET_FIELDS)], strict=True)))
        slippage = num(row[len(MARKET_FIELDS)])
        values = row[len(MARKET_FIELDS) + 1 :]
        if values[0] is None:
            settings = HedgeSettings(market=market)
        else:
            found = dict(zip(SETTING_FIELDS, values, strict=True))
            for name in ("max_notional", "ladder_step_bps"):
                found[name] = num(found[name])
            settings = sql.instance(HedgeSettings, {**found, "market_id": market.pk})
        cursor.execute(_accounts_sql(), [market.hedge_account_id, market_id])
        account_rows = cursor.fetchall()
    accounts = [
        account_with_venue(row)
        for row in sorted(account_rows, key=lambda r: (r[0] != market.hedge_account_id, r[0]))
    ]
    return MarketContext(market, slippage, settings, accounts)


def account_with_venue(row) -> Account:
    """An Account and its Venue from a row of ACCOUNT_FIELDS then VENUE_FIELDS (as
    `columns(Account, ACCOUNT_FIELDS, ...)` and `columns(Venue, VENUE_FIELDS, ...)` select them)."""
    account = sql.instance(Account, dict(zip(ACCOUNT_FIELDS, row[: len(ACCOUNT_FIELDS)], strict=True)))
    venue = dict(zip(VENUE_FIELDS, row[len(ACCOUNT_FIELDS) :], strict=True))
    venue["options"] = Venue._meta.get_field("options").from_db_value(venue["options"], None, connection)
    venue["sandbox"] = bool(venue["sandbox"])  # SQLite answers 0 or 1
    account.venue = sql.instance(Venue, venue)
    return account
