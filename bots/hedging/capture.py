"""Capturing the market-making bot's fills, each once, with its hedge intent beside it.

The fill and its Hedge row are written in one transaction (an outbox): a crash can lose
neither one without the other, and the hedge task is queued only after both are committed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.db import IntegrityError, transaction

from bots.engine.rules import dec, opposite
from bots.models import Fill, Hedge, Market
from bots.platform import rows
from bots.venues.base import Venue


def hedge_client_order_id(venue_name: str, trade_id: str) -> str:
    """Deterministic per fill: its orders are this plus "-1", "-2"... (36 characters at most, as
    binance allows), so a resent order is found on the venue by its id."""
    digest = hashlib.sha256(f"{venue_name}:{trade_id}".encode()).hexdigest()[:28]
    return f"bh-{digest}"


def capture_fills(market: Market, mm_venue: Venue, on_hedge: Callable[[int], None]) -> list[Fill]:
    """Record the MM account's trades since the newest one recorded; return the new fills.

    `on_hedge(hedge_id)` runs after the commit of each new fill, to queue its hedge.
    """
    since = market.last_fill_timestamp or None
    new: list[Fill] = []
    newest = market.last_fill_timestamp
    venue = market.mm_account.venue
    trades = mm_venue.fetch_my_trades(market.symbol, since=since)
    # `since` is inclusive, so the newest trades come again: skip those recorded, in one query.
    known = set(
        Fill.objects.filter(venue=venue, trade_id__in=[str(t["id"]) for t in trades]).values_list(
            "trade_id", flat=True
        )
    )
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
                # Plain SQL, as the hedge path is measured from here (bots/platform/rows.py).
                rows.insert(fill)
                hedge = rows.insert(Hedge(
                    fill=fill,
                    account=market.hedge_account,
                    side=opposite(fill.side),
                    amount=fill.amount,
                    client_order_id=hedge_client_order_id(venue.name, fill.trade_id),
                ))
                transaction.on_commit(lambda hedge_id=hedge.pk: on_hedge(hedge_id))
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
