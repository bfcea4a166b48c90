"""What a hedge run reads about its market: a few settings and the hedge accounts, fresh each run.

Two plain SQL statements instead of the ORM's select_related over the market and its settings,
which measured about 10 ms of query building and model loading per hedge (bench/hedge_latency):
more than the whole hedge may take. Names of tables and columns come from the models, values go
as parameters. The Market instance carries only the fields loaded here; others load on access.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import connection

from bots.models import Account, HedgeSettings, Market, QuoteSettings, Venue
from bots.platform import rows
from bots.venues.paper_store import num

# ruff: noqa: S608 - only model table/column names are formatted into the SQL

MARKET_FIELDS = ("id", "slug", "symbol", "mm_account_id", "hedge_account_id")
SETTING_FIELDS = ("id", "max_notional", "ladder_steps", "ladder_step_bps", "ladder_pause_ms")
VENUE_FIELDS = ("id", "name", "label", "kind", "exchange_id", "options", "fault")
ACCOUNT_FIELDS = ("id", "venue_id", "name", "role", "api_key_enc", "secret_enc", "password_enc")


@dataclass(frozen=True)
class MarketContext:
    market: Market
    slippage_bps: Decimal
    settings: HedgeSettings  # the market's, or the defaults when it has none
    accounts: list[Account]  # its hedge accounts, the primary first, each with its venue


def _q(model, field: str = "") -> str:
    name = model._meta.db_table if not field else model._meta.get_field(field).column
    return connection.ops.quote_name(name)


def _sql() -> tuple[str, str]:
    market_columns = ", ".join(f"m.{_q(Market, f.removesuffix('_id'))}" for f in MARKET_FIELDS)
    setting_columns = ", ".join(f"h.{_q(HedgeSettings, f)}" for f in SETTING_FIELDS)
    settings = (
        f"SELECT {market_columns}, q.{_q(QuoteSettings, 'hedge_slippage_bps')}, {setting_columns} "
        f"FROM {_q(Market)} m JOIN {_q(QuoteSettings)} q ON q.{_q(QuoteSettings, 'market')} = m.id "
        f"LEFT JOIN {_q(HedgeSettings)} h ON h.{_q(HedgeSettings, 'market')} = m.id WHERE m.id = %s"
    )
    through = Market.extra_hedge_accounts.through
    account_columns = ", ".join(f"a.{_q(Account, f.removesuffix('_id'))}" for f in ACCOUNT_FIELDS)
    venue_columns = ", ".join(f"v.{_q(Venue, f)}" for f in VENUE_FIELDS)
    accounts = (
        f"SELECT {account_columns}, {venue_columns} FROM {_q(Account)} a "
        f"JOIN {_q(Venue)} v ON v.id = a.{_q(Account, 'venue')} "
        f"WHERE a.id = %s OR a.id IN (SELECT {_q(through, 'account')} FROM {_q(through)} "
        f"WHERE {_q(through, 'market')} = %s)"
    )
    return settings, accounts


_statements: dict[str, tuple[str, str]] = {}


def load(market_id: int) -> MarketContext:
    if connection.vendor not in _statements:
        _statements[connection.vendor] = _sql()
    settings_sql, accounts_sql = _statements[connection.vendor]
    with connection.cursor() as cursor:
        cursor.execute(settings_sql, [market_id])
        row = cursor.fetchone()
        if row is None:
            raise Market.DoesNotExist(f"no market {market_id} with quote settings")
        market = rows.instance(Market, dict(zip(MARKET_FIELDS, row[: len(MARKET_FIELDS)], strict=True)))
        slippage = num(row[len(MARKET_FIELDS)])
        values = row[len(MARKET_FIELDS) + 1 :]
        if values[0] is None:
            settings = HedgeSettings(market=market)
        else:
            found = dict(zip(SETTING_FIELDS, values, strict=True))
            for name in ("max_notional", "ladder_step_bps"):
                found[name] = num(found[name])
            settings = rows.instance(HedgeSettings, {**found, "market_id": market.pk})
        cursor.execute(accounts_sql, [market.hedge_account_id, market_id])
        account_rows = cursor.fetchall()
    options = Venue._meta.get_field("options")
    accounts = []
    for row in sorted(account_rows, key=lambda r: (r[0] != market.hedge_account_id, r[0])):
        account = rows.instance(Account, dict(zip(ACCOUNT_FIELDS, row[: len(ACCOUNT_FIELDS)], strict=True)))
        venue = dict(zip(VENUE_FIELDS, row[len(ACCOUNT_FIELDS) :], strict=True))
        venue["options"] = options.from_db_value(venue["options"], None, connection)
        account.venue = rows.instance(Venue, venue)
        accounts.append(account)
    return MarketContext(market, slippage, settings, accounts)
