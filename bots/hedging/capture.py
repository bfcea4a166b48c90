"""Capturing the market-making bot's fills, each once, with its hedge intent beside it.

The fill and its Hedge row are written in one transaction (an outbox): a crash can lose
neither one without the other, and the hedge task is queued only after both are committed.

A fill is keyed on its venue and trade id. A venue adapter gives every trade an id (the
exchange's, or one derived from the trade: bots/venues/fill_identity.py); a trade that still has
none is refused loudly, logged and raised as an alert, never recorded under an id like "None"
that would make every later trade look already recorded.

Trades of a price-action intervention's orders through the MM account are not the MM bot's
fills: they are left out, unhedged (bots/interventions/execution.py).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from bots.desk.alerts import raise_alert
from bots.engine.rules import dec, opposite
from bots.hedging.hedge_context import ACCOUNT_FIELDS, VENUE_FIELDS, account_with_venue
from bots.hedging.hedger import TAKEN_AT_CAPTURE
from bots.models import Account, Alert, Fill, Hedge, InterventionOrder, Market
from bots.models import Venue as VenueRow
from bots.platform import events, sql
from bots.venues.base import Venue
from bots.venues.fill_identity import usable

log = logging.getLogger(__name__)

# How long an intervention's order being sent through the MM account holds capture back.
IN_FLIGHT_SECONDS = 60


def hedge_client_order_id(venue_name: str, trade_id: str) -> str:
    """Deterministic per fill: its orders are this plus "-1", "-2"... (36 characters at most, as
    binance allows), so a resent order is found on the venue by its id."""
    digest = hashlib.sha256(f"{venue_name}:{trade_id}".encode()).hexdigest()[:28]
    return f"bh-{digest}"


# The capture's reads, in plain SQL (bots/platform/sql.py): a pushed fill's capture is on the
# hedge's path, and building these queries through the ORM cost more than running them.
# tests/platform/test_plain_sql_matches_the_orm.py holds each to the ORM query it stands for.
CAPTURE_MARKET_FIELDS = ("id", "slug", "symbol", "kind", "mm_account_id", "hedge_account_id",
                         "last_fill_timestamp")


@sql.statement
def _capture_market() -> str:
    account_id = sql.column(Account, "id", "a")
    return (
        f"SELECT {sql.columns(Market, CAPTURE_MARKET_FIELDS, 'm')}, "  # noqa: S608
        f"{sql.columns(Account, ACCOUNT_FIELDS, 'a')}, {sql.columns(VenueRow, VENUE_FIELDS, 'v')} "
        f"FROM {sql.table(Market)} m "
        f"JOIN {sql.table(Account)} a ON {account_id} = {sql.column(Market, 'mm_account', 'm')} "
        f"JOIN {sql.table(VenueRow)} v ON {sql.column(VenueRow, 'id', 'v')} = "
        f"{sql.column(Account, 'venue', 'a')} WHERE {sql.column(Market, 'id', 'm')} = %s"
    )


def market_for_capture(market_id: int) -> Market:
    """Market.objects.select_related("mm_account__venue").get(pk=market_id), loading what
    capture_fills reads (other fields load on access)."""
    rows = sql.fetchall(_capture_market(), [market_id])
    if not rows:
        raise Market.DoesNotExist(f"no market {market_id}")
    width = len(CAPTURE_MARKET_FIELDS)
    market = sql.instance(Market, dict(zip(CAPTURE_MARKET_FIELDS, rows[0][:width], strict=True)))
    market.mm_account = account_with_venue(rows[0][width:])
    return market


@sql.statement
def _intervention_orders(count: int) -> str:
    state, exchange_id = (sql.column(InterventionOrder, n) for n in ("state", "exchange_order_id"))
    in_flight = f"({state} = %s AND {sql.column(InterventionOrder, 'sent_at')} > %s)"
    sent = f" OR {exchange_id} IN ({sql.marks(count)})" if count else ""
    return (
        f"SELECT {state}, {exchange_id} FROM {sql.table(InterventionOrder)} "  # noqa: S608
        f"WHERE {sql.column(InterventionOrder, 'account')} = %s AND ({in_flight}{sent})"
    )


@sql.statement
def _recorded(count: int) -> str:
    trade_id = sql.column(Fill, "trade_id")
    return (
        f"SELECT {trade_id} FROM {sql.table(Fill)} "  # noqa: S608
        f"WHERE {sql.column(Fill, 'venue')} = %s AND {trade_id} IN ({sql.marks(count)})"
    )


def recorded(venue_id: int, trade_ids: list[str]) -> set[str]:
    """Which of these trade ids are recorded as fills of the venue already:
    Fill.objects.filter(venue_id=..., trade_id__in=...).values_list("trade_id", flat=True)."""
    if not trade_ids:
        return set()
    return {row[0] for row in sql.fetchall(_recorded(len(trade_ids)), [venue_id, *trade_ids])}


def intervention_orders(account_id: int, order_ids: list[str]) -> set[str] | None:
    """Which of these orders a price-action intervention sent through the MM account (its trades
    are meant to move the position, so they are not hedged); None while one of its orders is
    being sent (recorded, its exchange id not yet known), so capture waits for the next try.
    An order stuck sending longer than IN_FLIGHT_SECONDS no longer holds capture up.

    InterventionOrder.objects.filter(account_id=...).filter(Q(state=SENDING, sent_at__gt=...)
    | Q(exchange_order_id__in=order_ids)).values_list("state", "exchange_order_id")."""
    since = timezone.now() - timedelta(seconds=IN_FLIGHT_SECONDS)
    rows = sql.fetchall(_intervention_orders(len(order_ids)), [
        account_id, InterventionOrder.SENDING,
        sql.prepared(InterventionOrder, "sent_at", since), *order_ids,
    ])
    found = set()
    for state, exchange_id in rows:
        if state == InterventionOrder.SENDING:
            return None
        found.add(exchange_id)
    return found


def capture_fills(
    market: Market, mm_venue: Venue, on_hedge: Callable[[int], None], since: int | None = None
) -> list[Fill]:
    """Record the MM account's trades since the newest one recorded (or since `since`, when that
    is earlier: a trade known to be missing from before it); return the new fills.

    `on_hedge(hedge_id)` runs after the commit of each new fill, to queue its hedge.
    """
    since = (market.last_fill_timestamp if since is None else min(since, market.last_fill_timestamp)) or None
    new: list[Fill] = []
    newest = market.last_fill_timestamp
    venue = market.mm_account.venue
    trades = mm_venue.fetch_my_trades(market.symbol, since=since)
    unidentified = [t for t in trades if not usable(t.get("id"))]
    if unidentified:
        refuse(market, unidentified)
        trades = [t for t in trades if usable(t.get("id"))]
    # Asked only when there are trades: a tick's capture that finds none costs no query more.
    own = (
        intervention_orders(market.mm_account_id, [str(t["order"]) for t in trades])
        if trades else set()
    )
    if own is None:
        return []  # an intervention's slice is on its way: its trades are told apart once recorded
    trades = [t for t in trades if str(t["order"]) not in own]
    # `since` is inclusive, so the newest trades come again: skip those recorded, in one query.
    known = recorded(venue.pk, [str(t["id"]) for t in trades])
    for trade in trades:
        newest = max(newest, trade["timestamp"])
        if str(trade["id"]) in known:
            continue
        fee = trade.get("fee") or {}
        fill = Fill(
            venue=venue,
            trade_id=str(trade["id"]),
            account=market.mm_account,
            market=market,
            order_id=str(trade["order"]),
            side=trade["side"],
            price=dec(trade["price"]),
            amount=dec(trade["amount"]),
            cost=dec(trade["cost"]),
            fee=dec(fee.get("cost") or 0),
            fee_currency=fee.get("currency") or "",
            timestamp=trade["timestamp"],
        )
        try:
            with transaction.atomic():
                hedge = record_with_hedge(market, fill, on_hedge)
        except IntegrityError:
            continue  # another capture recorded it first: the unique venue and trade id held
        fill.hedge = hedge
        new.append(fill)
    if newest > market.last_fill_timestamp:
        # Only ever forward, whatever another process wrote meanwhile.
        Market.objects.filter(pk=market.pk, last_fill_timestamp__lt=newest).update(
            last_fill_timestamp=newest
        )
        market.last_fill_timestamp = newest
    return new


def record_with_hedge(market: Market, fill: Fill, on_hedge: Callable[[int], None]) -> Hedge:
    """Insert `fill` and its hedge intent (the outbox); `on_hedge(hedge_id)` runs after the commit.

    The caller holds the transaction: a crash keeps both rows or neither. Captured fills come
    here, and so do a broker market's accepted quotes (bots/otc/quotes.py), so both are hedged
    by one path. IntegrityError when the venue and trade id are recorded already.
    """
    # Plain SQL, as the hedge path is measured from here (bots/platform/sql.py).
    sql.insert(fill)
    # A caller that runs the hedge itself right after the commit gets the intent claimed for
    # that run already, and the intent itself (hedger.TAKEN_AT_CAPTURE).
    takes = getattr(on_hedge, "takes_at_capture", False)
    hedge = sql.insert(Hedge(
        fill=fill,
        account_id=market.hedge_account_id,
        side=opposite(fill.side),
        amount=fill.amount,
        client_order_id=hedge_client_order_id(fill.venue.name, fill.trade_id),
        **(TAKEN_AT_CAPTURE if takes else {}),
    ))
    if takes:
        transaction.on_commit(lambda: on_hedge(hedge.pk, hedge))
    else:
        transaction.on_commit(lambda hedge_id=hedge.pk: on_hedge(hedge_id))
    events.fill_captured.emit_on_commit(market=market.slug, venue=fill.venue.name)
    return hedge


def refuse(market: Market, trades: list[dict]) -> None:
    """Trades no id can key: not recorded (so not hedged), and an operator told at once."""
    venue = market.mm_account.venue
    sample = trades[0]
    message = (
        f"{venue.label}: {len(trades)} trade(s) without an id Ballast can key a fill on, not "
        f"captured nor hedged; the first: order {sample.get('order')}, {sample.get('side')} "
        f"{sample.get('amount')} at {sample.get('price')}, time {sample.get('timestamp')}"
    )
    log.error("%s", message)
    raise_alert(Alert.VENUE_ERROR, market, message, reverse("market", args=[market.slug]),
                key=f"fill-identity-{venue.name}")


# The paper venue's push asks this for every trade, the hedge's own included: plain SQL
# (bots/platform/sql.py), as the tick's reads are.
@sql.statement
def _markets_quoted_by(count: int) -> str:
    pk, account = sql.column(Market, "id"), sql.column(Market, "mm_account")
    symbol, enabled = sql.column(Market, "symbol"), sql.column(Market, "enabled")
    kind = sql.column(Market, "kind")
    # Only the model's table and column names and placeholders go into the text.
    return (
        f"SELECT {pk}, {account} FROM {sql.table(Market)} WHERE {account} IN ({sql.marks(count)}) "  # noqa: S608
        f"AND {symbol} = %s AND {enabled} = %s AND {kind} = %s ORDER BY {pk}"
    )


def markets_quoted_by(account_ids: list[int], symbol: str) -> list[tuple[int, int]]:
    """(market id, MM account id) of the enabled book markets of `symbol` whose MM account is
    among `account_ids` (a paper trade's accounts): Market.objects.filter(mm_account_id__in=...,
    symbol=..., enabled=True, kind=Market.BOOK).values_list("id", "mm_account_id"). A broker
    market's inventory account makes no venue trades to capture."""
    if not account_ids:
        return []
    found = sql.fetchall(_markets_quoted_by(len(account_ids)), [*account_ids, symbol, True, Market.BOOK])
    return [(row[0], row[1]) for row in found]
