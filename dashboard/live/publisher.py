"""What a market page shows, as one JSON snapshot, and pushing it to the pages that watch.

Workers call publish_market after anything that changes a market. A throttle in Redis lets
one snapshot a market go out at once and queues one more for the end of the interval, so a
busy market sends a few snapshots a second and the last change is never held back; the
consumer coalesces again per page.
"""

from __future__ import annotations

import json
import logging
from decimal import Decimal

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

from bots.engine.treasury.exposure import net_exposure
from bots.hedging.report import hedging_snapshot, tape_fields, venues_of
from bots.models import Fill, Market
from bots.platform.locks import client, throttle
from bots.treasury.balances import latest_balances
from bots.treasury.inventory import in_flight
from bots.venues import ccxt_errors as ccxt
from bots.venues import stream_state, venue_for
from bots.venues.errors import describe
from dashboard.market_making.market_history import history_tail
from dashboard.market_making.quote_panel import quoting_snapshot

log = logging.getLogger(__name__)

PUBLISH_EVERY_MS = 200
# A page appends a point to its history charts at most every 5 s (HISTORY_STEP_MS in
# static/js/market.js) and ignores a tail it has seen, while a busy market pushes a few snapshots
# a second: the tail, rebuilt from the market's records (nearly half of a push's CPU in the demo,
# 28% of its ticks worker's), rides along at most this often, a little more often than a page
# draws, so that each point is on time. Snapshots in between carry none.
HISTORY_TAIL_EVERY_MS = 4000
TAPE_LENGTH = 20
BOOK_LEVELS = 40


def group_name(market_id: int) -> str:
    return f"market-{market_id}"


def on_market_changed(sender, market_id: int, force: bool, **kwargs) -> None:
    """Listener of `market_changed` (wired in dashboard/apps.py)."""
    publish_market(market_id, force=force)


def market_snapshot(market: Market, history: bool = True) -> dict:
    """What the page shows now; `history`: with the history charts' tail (else None)."""
    accounts = [market.mm_account, *market.hedge_accounts()]
    balances = latest_balances(accounts, [market.base, market.quote])
    snapshot = {
        "market": market.slug,
        "symbol": market.symbol,
        "base": market.base,
        "quote": market.quote,
        "state": market.state,
        "state_reason": market.state_reason,
        "last_tick_at": market.last_tick_at,
        "balances": [
            {
                "account": account.name,
                "venue": str(account.venue),  # a testnet says so
                "role": account.get_role_display(),
                "asset": asset,
                "free": row.free,
                "used": row.used,
                "total": row.total,
            }
            for account in accounts
            for asset in (market.base, market.quote)
            if (row := balances.get((account.pk, asset)))
        ],
        # A transfer between the accounts counts where it is going (bots.treasury.inventory), or the
        # exposure would dip by its amount while it travels.
        "exposure": net_exposure(
            [row.total for (_, asset), row in balances.items() if asset == market.base]
            + [
                amount
                for (account_id, asset), amount in in_flight().items()
                if asset == market.base and account_id in {a.pk for a in accounts}
            ],
            market.target_base,
        ),
        "target_base": market.target_base,
        "tape": _tape(market),
        **quoting_snapshot(market),
        **hedging_snapshot(market),
    }
    snapshot["hedge_books"] = _hedge_books(market)
    snapshot["history"] = history_tail(market) if history else None
    try:
        book, orders, orders_streamed = _own_book_and_orders(market)
        snapshot["book"] = {"bids": book["bids"], "asks": book["asks"]}
        snapshot["quotes"] = [
            {"side": o["side"], "price": o["price"], "amount": o["remaining"]} for o in orders
        ]
        snapshot["read_from"] = {
            "book": "stream" if book.get("streamed") else "rest",
            "quotes": "stream" if orders_streamed else "rest",
        }
    except ccxt.BaseError as exc:
        snapshot["book"] = {"bids": [], "asks": []}
        snapshot["quotes"] = []
        snapshot["book_error"] = describe(exc)
    return snapshot


def _own_book_and_orders(market: Market) -> tuple[dict, list[dict], bool]:
    """The own venue's book and the MM account's open orders (and whether those were streamed):
    what the stream process keeps while it is fresh, else the venue's answer by REST. An open
    page pushes up to five snapshots a second: by REST that is request weight the venue counts
    against the desk's limit.

    The orders as a tick reads them (while the account's order stream is live). The book as the
    health samples read it, the other reader that only watches it: younger than the stale limit
    by the venue's time, or however quiet while its stream is live (an exchange sends nothing for
    a book that does not change; a gap or a lost connection drops the live mark). A tick, which
    prices from a book, never takes a quiet one."""
    mm = venue_for(market.mm_account)
    book = stream_state.read_book(mm, market.mm_account.venue_id, market.symbol, BOOK_LEVELS,
                                  quiet_ok=True)
    orders = stream_state.streamed_open_orders(market.mm_account_id, market.symbol)
    if orders is not None:
        return book, orders, True
    return book, mm.fetch_open_orders(market.symbol), False


def _hedge_books(market: Market) -> list[dict]:
    """Each hedge venue's book as the last tick read it (the web process calls no venue for it)."""
    return (market.quote_summary or {}).get("hedge_books", [])


def _tape(market: Market) -> list[dict]:
    fills = (
        Fill.objects.filter(market=market)
        .select_related("hedge__account__venue")
        .order_by("-timestamp", "-id")[:TAPE_LENGTH]
    )
    fills = list(fills)
    venues = venues_of([f.hedge.pk for f in fills if getattr(f, "hedge", None)])
    rows = []
    for fill in fills:
        hedge = getattr(fill, "hedge", None)
        rows.append(
            {
                "trade_id": fill.trade_id,
                "edge_bps": _edge_bps(fill, hedge),
                "timestamp": fill.timestamp,
                # The user's side is the opposite of the MM bot's.
                "user_side": "buy" if fill.side == "sell" else "sell",
                "mm_side": fill.side,
                "amount": fill.amount,
                "price": fill.price,
                "hedge": None if hedge is None else tape_fields(hedge, venues.get(hedge.pk, [])),
            }
        )
    return rows


def _edge_bps(fill: Fill, hedge) -> Decimal | None:
    """What the exchange kept per unit, before fees: the MM price against the hedge's price."""
    if hedge is None or not hedge.average_price:
        return None
    gain = fill.price - hedge.average_price if fill.side == "sell" else hedge.average_price - fill.price
    return (gain / fill.price * 10000).quantize(Decimal("0.1"))


def snapshot_json(market: Market, history: bool = True) -> str:
    return json.dumps(market_snapshot(market, history), cls=DjangoJSONEncoder)


def watched(group: str) -> bool:
    """Whether any page listens to `group` now. Each Daphne process subscribes to a group's
    Redis channel while one of its sockets is in the group (channels_redis's pub/sub layer),
    so Redis counts the listening processes: one command instead of building a snapshot
    (10-20 ms of queries) for nobody."""
    prefix = settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("prefix", "asgi")
    [(_, count)] = client().pubsub_numsub(f"{prefix}__group__{group}")
    return count > 0


def publish_market(market_id: int, force: bool = False) -> bool:
    """Send the market's snapshot to its pages now, or (throttled) in a moment; True if now.
    Nothing is built while no page shows the market."""
    if not watched(group_name(market_id)):
        return False
    if not force and not throttle(f"publish:{market_id}", PUBLISH_EVERY_MS):
        if throttle(f"publish-later:{market_id}", PUBLISH_EVERY_MS):

            from dashboard.live.tasks import publish_later  # that module imports this one

            publish_later.apply_async((market_id,), countdown=PUBLISH_EVERY_MS / 1000)
        return False
    market = Market.objects.select_related("mm_account__venue", "hedge_account__venue").get(pk=market_id)
    text = snapshot_json(market, history=throttle(f"history-tail:{market_id}", HISTORY_TAIL_EVERY_MS))
    async_to_sync(get_channel_layer().group_send)(
        group_name(market_id), {"type": "market.update", "text": text}
    )
    return True
