"""What the detectors and proposals read of a live market: its own book, its users' recent
trades (the MM bot's fills, seen from the user's side), the reference and the MM account's base
against its band."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from bots.engine.interventions.detectors import Band, MarketView, UserTrade
from bots.engine.rules import dec, opposite
from bots.models import Fill, Market
from bots.treasury.inventory import read_inventory
from bots.venues import venue_for

BOOK_DEPTH = 50


def trade_venue(account):
    """The venue an intervention trades on, through the account named: the one seam, so tests
    and the simulation reach the same code."""
    return venue_for(account)


def user_trades(market: Market, since_ms: int) -> tuple[UserTrade, ...]:
    rows = Fill.objects.filter(market=market, timestamp__gt=since_ms).values_list(
        "timestamp", "side", "amount"
    )
    return tuple(UserTrade(ts, opposite(side), amount) for ts, side, amount in rows)


def recent_volume(market: Market, minutes: int) -> Decimal:
    """The users' trades on the own book over the last `minutes`: the volume the participation
    cap is a share of."""
    since = int((timezone.now() - timedelta(minutes=minutes)).timestamp() * 1000)
    return sum((t.amount for t in user_trades(market, since)), dec(0))


def market_view(market: Market, window_minutes: int = 60) -> MarketView:
    now_ms = int(timezone.now().timestamp() * 1000)
    book = venue_for(market.mm_account).fetch_order_book(market.symbol, BOOK_DEPTH)
    position = read_inventory().of(market.mm_account_id, market.base)
    band = None
    if position is not None and position.band is not None:
        band = Band(position.band.minimum, position.band.target, position.band.maximum)
    return MarketView(
        base=market.base,
        now_ms=now_ms,
        user_trades=user_trades(market, now_ms - window_minutes * 60_000),
        bids=[(dec(p), dec(a)) for p, a, *_ in book["bids"]],
        asks=[(dec(p), dec(a)) for p, a, *_ in book["asks"]],
        reference=market.reference_price,
        held=position.position if position is not None else dec(0),
        band=band,
    )
