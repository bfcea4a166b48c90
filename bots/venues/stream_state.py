"""What the stream process shares with ticks, hedges and pages, in Redis: the freshest book of
each hedge venue, and whether an account's fills arrive by stream.

Readers are the tick (bots/market_making/quoter.py), the hedger (bots/hedging/hedger.py) and the
market page; a Redis that is down reads as "nothing streamed", so they do what they did before
streams: fetch the book by REST and poll the fills each tick.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal

import redis
from django.conf import settings

from bots.engine.market_making.protection import is_stale
from bots.platform.locks import client

BOOK_LEVELS = 50
# A book no longer streamed (the process stopped) leaves Redis after this; readers judge age anyway.
BOOK_KEEP_SECONDS = 60
# The stream process renews an account's "fills streamed" mark this often, and the mark lapses
# after LIVE_SECONDS: a stream process that dies hands fills back to the tick's polling.
HEARTBEAT_SECONDS = 2.0
LIVE_SECONDS = 6.0
UNREACHABLE = (redis.RedisError, OSError)


def _book_key(venue_id: int, symbol: str) -> str:
    return f"ballast:stream:book:{venue_id}:{symbol}"


def _fills_key(account_id: int) -> str:
    return f"ballast:stream:fills:{account_id}"


def now_ms() -> int:
    return int(time.time() * 1000)


def save_book(venue_id: int, symbol: str, bids, asks, timestamp: int | None) -> None:
    """The book as last streamed, with the venue's own time of it (or, for a snapshot the venue
    gave no time, when it arrived)."""
    book = {
        "bids": [[str(p), str(a)] for p, a in bids[:BOOK_LEVELS]],
        "asks": [[str(p), str(a)] for p, a in asks[:BOOK_LEVELS]],
        "timestamp": timestamp or now_ms(),
    }
    client().set(_book_key(venue_id, symbol), json.dumps(book), ex=BOOK_KEEP_SECONDS)


def streamed_book(venue_id: int, symbol: str, stale_after_seconds) -> dict | None:
    """The venue's streamed book, shaped as ccxt's fetch_order_book answers (Decimals), unless
    there is none or it is older than `stale_after_seconds` by the venue's time: then None, and
    the caller fetches the book by REST as before streams."""
    try:
        raw = client().get(_book_key(venue_id, symbol))
    except UNREACHABLE:
        return None
    if raw is None:
        return None
    book = json.loads(raw)
    if is_stale(book["timestamp"], now_ms(), Decimal(str(stale_after_seconds))):
        return None
    return {
        "symbol": symbol,
        "bids": [[Decimal(p), Decimal(a)] for p, a in book["bids"]],
        "asks": [[Decimal(p), Decimal(a)] for p, a in book["asks"]],
        "timestamp": book["timestamp"],
        "streamed": True,
    }


def read_book(venue, venue_id: int, symbol: str, limit: int, stale_after_seconds=None) -> dict:
    """The streamed book when fresh, else the venue's answer by REST."""
    if stale_after_seconds is None:
        stale_after_seconds = settings.STREAM_BOOK_STALE_SECONDS
    book = streamed_book(venue_id, symbol, stale_after_seconds)
    if book is not None:
        return {**book, "bids": book["bids"][:limit], "asks": book["asks"][:limit]}
    return venue.fetch_order_book(symbol, limit=limit)


def mark_fills_streamed(account_id: int, via: str) -> None:
    client().set(_fills_key(account_id), via, px=int(LIVE_SECONDS * 1000))


def mark_fills_polled(account_id: int) -> None:
    try:
        client().delete(_fills_key(account_id))
    except UNREACHABLE:
        pass  # the mark lapses by itself


def fills_streamed(account_id: int) -> str:
    """How the account's fills are streamed ("watch_my_trades", "watch_orders"), or "" when
    they are not and the tick polls them."""
    try:
        via = client().get(_fills_key(account_id))
    except UNREACHABLE:
        return ""
    return via.decode() if via else ""
