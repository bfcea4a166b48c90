"""Capturing the market-making bot's fills, each once, with its hedge intent beside it.

The fill and its Hedge row are written in one transaction (an outbox): a crash can lose
neither one without the other, and the hedge task is queued only after both are committed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.db import transaction

from bots.engine.rules import dec, opposite
from bots.models import Fill, Hedge, Market
from bots.venues.base import Venue


def hedge_client_order_id(venue_name: str, trade_id: str) -> str:
    """Deterministic per fill, so a resent hedge can be found on the venue by it (36 chars max)."""
    digest = hashlib.sha256(f"{venue_name}:{trade_id}".encode()).hexdigest()[:30]
    return f"bh-{digest}"


def capture_fills(market: Market, mm_venue: Venue, on_hedge: Callable[[int], None]) -> list[Fill]:
    """Record the MM account's trades since the newest one recorded; return the new fills.

    `on_hedge(hedge_id)` runs after the commit of each new fill, to queue its hedge.
    """
    since = market.last_fill_timestamp or None
    new: list[Fill] = []
    newest = market.last_fill_timestamp
    for trade in mm_venue.fetch_my_trades(market.symbol, since=since):
        newest = max(newest, trade["timestamp"])
        with transaction.atomic():
            fill, created = Fill.objects.get_or_create(
                venue=market.mm_account.venue,
                trade_id=str(trade["id"]),
                defaults={
                    "account": market.mm_account,
                    "market": market,
                    "order_id": str(trade["order"]),
                    "side": trade["side"],
                    "price": dec(trade["price"]),
                    "amount": dec(trade["amount"]),
                    "cost": dec(trade["cost"]),
                    "fee": dec((trade.get("fee") or {}).get("cost") or 0),
                    "fee_currency": (trade.get("fee") or {}).get("currency") or "",
                    "timestamp": trade["timestamp"],
                },
            )
            if not created:
                continue
            hedge = Hedge.objects.create(
                fill=fill,
                account=market.hedge_account,
                side=opposite(fill.side),
                amount=fill.amount,
                client_order_id=hedge_client_order_id(market.mm_account.venue.name, fill.trade_id),
            )
            transaction.on_commit(lambda hedge_id=hedge.pk: on_hedge(hedge_id))
        new.append(fill)
    if newest > market.last_fill_timestamp:
        # Only ever forward, whatever another process wrote meanwhile.
        Market.objects.filter(pk=market.pk, last_fill_timestamp__lt=newest).update(
            last_fill_timestamp=newest
        )
        market.last_fill_timestamp = newest
    return new
