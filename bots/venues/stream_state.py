"""What the stream process shares with ticks, hedges and pages, in Redis: the freshest book of
each hedge venue, each account's balance, and whether an account's fills arrive by stream.

Readers are the tick (bots/market_making/quoter.py), the hedger (bots/hedging/hedger.py), the
health samples (bots/desk/health.py: the own venue's book) and the market page; a Redis that is
down reads as "nothing streamed", so they do what they did before streams: fetch the book, the
balance and the open orders by REST and poll the fills each tick.

Open orders (`streamed_open_orders`): the MM account's open orders of each symbol it makes, as
the stream process keeps them: a REST snapshot once the account's order stream is subscribed,
then every order update the exchange pushes laid over it. Used only while the account's order
stream is marked live (renewed every HEARTBEAT_SECONDS, lapsing after LIVE_SECONDS).

Balances (`read_balance`): one record per account on a real exchange, written by the stream
process on every change the exchange pushes (watch_balance) and by whoever had to read it by
REST. A record serves every market and process of the desk while it is fresh: it was read after
the desk's last order or cancel on the account (every send counts a "move" first), and either the
account's balance stream is live and the record is younger than BALLAST_STREAM_BALANCE_STALE_SECONDS
or it is younger than BALLAST_BALANCE_SHARE_SECONDS (a tick). Otherwise it is read by REST again.
The balance is a pre-check: the venue still refuses an order it cannot fund. Times are Redis's,
so processes on hosts whose clocks differ agree on ages.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal

import redis
from django.conf import settings

from bots.engine.market_making.protection import is_stale
from bots.platform.locks import client
from bots.venues import at_once

BOOK_LEVELS = 50
# The own venue's books are kept this deep: the health samples grade depth within 2% of the mid
# from them (bots/desk/health.py reads as many by REST).
DEEP_BOOK_LEVELS = 500
# A book no longer streamed (the process stopped) leaves Redis after this; readers judge age anyway.
BOOK_KEEP_SECONDS = 60
# The stream process renews an account's "fills streamed" mark this often, and the mark lapses
# after LIVE_SECONDS: a stream process that dies hands fills back to the tick's polling.
HEARTBEAT_SECONDS = 2.0
LIVE_SECONDS = 6.0
UNREACHABLE = (redis.RedisError, OSError)


def _book_key(venue_id: int, symbol: str) -> str:
    return f"ballast:stream:book:{venue_id}:{symbol}"


def _book_live_key(venue_id: int, symbol: str) -> str:
    return f"ballast:stream:booklive:{venue_id}:{symbol}"


def fills_key(account_id: int) -> str:
    return f"ballast:stream:fills:{account_id}"


def _orders_key(account_id: int, symbol: str = "") -> str:
    # Without a symbol: the account's order stream's live mark.
    return f"ballast:stream:orders:{account_id}:{symbol}" if symbol else f"ballast:stream:orders:{account_id}"


def balance_key(account_id: int, fingerprint: str) -> str:
    """An account's balance as reached with these keys and options (clients.fingerprint): a
    change of keys, or a venue pointed elsewhere, starts afresh."""
    return f"{account_id}:{fingerprint[:16]}"


def _balance_keys(key: str) -> list[str]:
    # The record, the count of the desk's sends on the account, the balance stream's live mark.
    return [f"ballast:balance:{key}", f"ballast:balance:moves:{key}", f"ballast:stream:balance:{key}"]


def now_ms() -> int:
    return int(time.time() * 1000)


def save_book(venue_id: int, symbol: str, bids, asks, timestamp: int | None, levels: int = BOOK_LEVELS) -> None:
    """The book as last streamed, with the venue's own time of it (or, for a snapshot the venue
    gave no time, when it arrived)."""
    book = {
        "bids": [[str(p), str(a)] for p, a in bids[:levels]],
        "asks": [[str(p), str(a)] for p, a in asks[:levels]],
        "timestamp": timestamp or now_ms(),
    }
    client().set(_book_key(venue_id, symbol), json.dumps(book), ex=BOOK_KEEP_SECONDS)


def streamed_book(venue_id: int, symbol: str, stale_after_seconds, quiet_ok: bool = False) -> dict | None:
    """The venue's streamed book, shaped as ccxt's fetch_order_book answers (Decimals), unless
    there is none or it is older than `stale_after_seconds` by the venue's time: then None, and
    the caller fetches the book by REST as before streams.

    `quiet_ok`: a reader that only watches the book (the health samples) takes it however old
    while its stream is live: an exchange sends nothing for a book that does not change, so a
    quiet book is old by its time and right all the same. A reader that prices from a book (a
    tick, a hedge) never does: the stale-reference protection holds to the venue's time."""
    try:
        raw, live = client().mget([_book_key(venue_id, symbol), _book_live_key(venue_id, symbol)])
    except UNREACHABLE:
        return None
    if raw is None:
        return None
    book = json.loads(raw)
    if is_stale(book["timestamp"], now_ms(), Decimal(str(stale_after_seconds))) and not (quiet_ok and live):
        return None
    return {
        "symbol": symbol,
        "bids": [[Decimal(p), Decimal(a)] for p, a in book["bids"]],
        "asks": [[Decimal(p), Decimal(a)] for p, a in book["asks"]],
        "timestamp": book["timestamp"],
        "streamed": True,
    }


def read_book(venue, venue_id: int, symbol: str, limit: int, stale_after_seconds=None,
              quiet_ok: bool = False) -> dict:
    """The streamed book when fresh (`quiet_ok`: streamed_book's), else the venue's answer by
    REST. A venue whose books no stream watches (paper: `books_streamed` False) is asked at once,
    without a Redis round trip for a book that cannot be there: on a paper hedge that round trip
    was a tenth of its cost."""
    if not getattr(venue, "books_streamed", True):
        return venue.fetch_order_book(symbol, limit=limit)
    if stale_after_seconds is None:
        stale_after_seconds = settings.STREAM_BOOK_STALE_SECONDS
    book = streamed_book(venue_id, symbol, stale_after_seconds, quiet_ok)
    if book is not None:
        return {**book, "bids": book["bids"][:limit], "asks": book["asks"][:limit]}
    return venue.fetch_order_book(symbol, limit=limit)


# --- the venue's time of each stream's last message (the metrics' stream lag) ----------------

SEEN_KEY = "ballast:stream:seen"


def seen_key(stream: str, account_id: int, venue_id: int, symbol: str = "") -> str:
    """One stream's field: an account's fills or balance, or a venue's book of a symbol."""
    return f"book:{venue_id}:{symbol}" if stream == "book" else f"{stream}:{account_id}"


def saw(marks: dict[str, int]) -> None:
    """Streams received their last messages at these venue times (ms), by field: written in one
    round trip. Kept without expiry: a stream that falls silent is exactly what the lag must
    show."""
    if not marks:
        return
    try:
        client().hset(SEEN_KEY, mapping=marks)
    except UNREACHABLE:
        pass  # only the lag goes unmeasured; the streams' own writes say why


def last_seen() -> dict[str, int]:
    """Every stream's field and the venue's time of its last message (empty: Redis down)."""
    try:
        return {k.decode(): int(v) for k, v in client().hgetall(SEEN_KEY).items()}
    except UNREACHABLE:
        return {}


# --- references ---------------------------------------------------------------------------

# The stream process tells a move from the reference the market's last tick quoted from; a tick
# writes it here as it ends, so a move is told against that at once instead of against the
# stream's copy from the database, read at most once a second (bots/streams/runner.py).
REFERENCE_KEEP_SECONDS = 3600


def _reference_key(market_id: int) -> str:
    return f"ballast:stream:reference:{market_id}"


def save_reference(market_id: int, reference: Decimal, reference_ms: int) -> None:
    """The reference a tick of the market quoted from, and the tick's time. A Redis that is down
    leaves the stream with the database's copy, as before."""
    try:
        client().set(_reference_key(market_id), f"{reference} {reference_ms}", ex=REFERENCE_KEEP_SECONDS)
    except UNREACHABLE:
        pass


def tick_references(market_ids: list[int]) -> dict[int, tuple[Decimal, int]]:
    """The last tick's (reference, ms) of each market that has one here, in one round trip."""
    if not market_ids:
        return {}
    found = client().mget([_reference_key(m) for m in market_ids])
    references = {}
    for market_id, text in zip(market_ids, found, strict=True):
        if text:
            price, ms = text.decode().split()
            references[market_id] = (Decimal(price), int(ms))
    return references


# --- live marks: what the stream process keeps up to date now ---------------------------------

def mark_book_streamed(venue_id: int, symbol: str) -> None:
    client().set(_book_live_key(venue_id, symbol), "1", px=int(LIVE_SECONDS * 1000))


def mark_book_polled(venue_id: int, symbol: str) -> None:
    try:
        client().delete(_book_live_key(venue_id, symbol))
    except UNREACHABLE:
        pass  # the mark lapses by itself


def mark_fills_streamed(account_id: int, via: str) -> None:
    client().set(fills_key(account_id), via, px=int(LIVE_SECONDS * 1000))


def mark_fills_polled(account_id: int) -> None:
    try:
        client().delete(fills_key(account_id))
    except UNREACHABLE:
        pass  # the mark lapses by itself


def fills_streamed(account_id: int) -> str:
    """How the account's fills are streamed ("watch_my_trades", "watch_orders"), or "" when
    they are not and the tick polls them."""
    try:
        via = client().get(fills_key(account_id))
    except UNREACHABLE:
        return ""
    return via.decode() if via else ""


# --- open orders ----------------------------------------------------------------------------

ORDER_FIELDS = ("id", "clientOrderId", "symbol", "side", "status", "timestamp")
ORDER_FIGURES = ("price", "amount", "filled", "remaining")


def save_open_orders(account_id: int, symbol: str, orders: list[dict]) -> None:
    """The account's open orders of `symbol` as the stream process keeps them."""
    plain = [
        {**{k: o.get(k) for k in ORDER_FIELDS},
         **{k: None if o.get(k) is None else str(o[k]) for k in ORDER_FIGURES}}
        for o in orders
    ]
    # Kept without expiry: it changes only when the orders do, and is read only while the
    # order stream's live mark says it is kept up to date.
    client().set(_orders_key(account_id, symbol), json.dumps(plain))


def streamed_open_orders(account_id: int, symbol: str) -> list[dict] | None:
    """The account's open orders of `symbol`, shaped as ccxt's fetch_open_orders answers
    (Decimals), while its order stream is live; else None, and the caller asks by REST."""
    try:
        live, raw = client().mget([_orders_key(account_id), _orders_key(account_id, symbol)])
    except UNREACHABLE:
        return None
    if not live or raw is None:
        return None
    return [
        {**o, **{k: None if o[k] is None else Decimal(o[k]) for k in ORDER_FIGURES}}
        for o in json.loads(raw)
    ]


def mark_orders_streamed(account_id: int) -> None:
    client().set(_orders_key(account_id), "1", px=int(LIVE_SECONDS * 1000))


def mark_orders_polled(account_id: int) -> None:
    try:
        client().delete(_orders_key(account_id))
    except UNREACHABLE:
        pass  # the mark lapses by itself


# --- balances -----------------------------------------------------------------------------

# Answers the record (or false), the account's move count, whether its stream is live, Redis's ms.
_READ_BALANCE = """
local t = redis.call('TIME')
return {redis.call('GET', KEYS[1]), tonumber(redis.call('GET', KEYS[2]) or '0'),
        redis.call('EXISTS', KEYS[3]), tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)}
"""
# Writes the record unless one read later is there; `moves` is the count the reading began
# after (-1: now, for a pushed balance, which follows the sends it reflects).
_SAVE_BALANCE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local moves = tonumber(ARGV[2])
if moves < 0 then moves = tonumber(redis.call('GET', KEYS[2]) or '0') end
local old = redis.call('GET', KEYS[1])
if old then
  local seen = cjson.decode(old)['moves']
  if seen > moves then return 0 end
end
redis.call('SET', KEYS[1], cjson.encode({moves = moves, seen = now, balance = ARGV[1]}), 'EX', ARGV[3])
return 1
"""
BALANCE_KEEP_SECONDS = 300


def _scripts():
    redis_client = client()
    found = getattr(redis_client, "_ballast_balance_scripts", None)
    if found is None:
        found = (redis_client.register_script(_READ_BALANCE), redis_client.register_script(_SAVE_BALANCE))
        redis_client._ballast_balance_scripts = found
    return found


def balance_moving(key: str | None) -> None:
    """The desk is about to send an order or cancel on the account: a balance read before this
    is no longer fresh."""
    if key is None:
        return
    wave = at_once.current()
    if wave is not None:  # orders or cancels sent at once: one move before any of them
        wave.once(("moves", key), lambda: _count_move(key))
    else:
        _count_move(key)


def _count_move(key: str) -> None:
    try:
        client().incr(_balance_keys(key)[1])
    except UNREACHABLE:
        pass  # no balance is shared while Redis is down either


def _plain_balance(balance: dict) -> str:
    figures = {kind: {asset: str(value) for asset, value in (balance.get(kind) or {}).items()
                      if value is not None} for kind in ("free", "used", "total")}
    return json.dumps({**figures, "timestamp": balance.get("timestamp")})


def _ccxt_balance(text: str) -> dict:
    """The record shaped as ccxt's fetch_balance answers, with Decimals."""
    figures = json.loads(text)
    balance = {kind: {asset: Decimal(v) for asset, v in figures[kind].items()}
               for kind in ("free", "used", "total")}
    for asset in set().union(*balance.values()):
        balance[asset] = {kind: balance[kind].get(asset) for kind in ("free", "used", "total")}
    balance["timestamp"] = figures.get("timestamp")
    return balance


def save_balance(key: str, balance: dict, moves: int = -1) -> None:
    """Share the balance: `moves` is the account's move count its reading began after (-1, a
    pushed balance: now)."""
    _scripts()[1](keys=_balance_keys(key), args=[_plain_balance(balance), moves, BALANCE_KEEP_SECONDS])


def shared_balance(key: str, recording: bool = False) -> tuple[dict | None, int]:
    """The account's shared balance when fresh (else None), and the move count to read after.
    `recording`: see read_balance."""
    raw, moves, live, now = _scripts()[0](keys=_balance_keys(key))
    if not raw:
        return None, moves
    record = json.loads(raw)
    age_ms = now - record["seen"]
    if record["moves"] < moves and not (recording and live):
        return None, moves
    limit = settings.STREAM_BALANCE_STALE_SECONDS if live else settings.BALANCE_SHARE_SECONDS
    if age_ms > limit * 1000:
        return None, moves
    return {**_ccxt_balance(record["balance"]), "shared": "stream" if live else "rest"}, moves


def read_balance(venue, recording: bool = False) -> dict:
    """The venue account's balance: the shared record when fresh, else the venue's by REST
    (shared for the next reader). A venue that shares none (paper: a database read) is asked.

    `recording`: the reader only records the balance (the snapshot after a tick), and takes the
    streamed one while the account's balance stream is live even if it has not told of the
    desk's last order yet: its push follows within moments, and the next snapshot has it. A
    reader that decides (a tick's funds, a hedge's) never does."""
    key = getattr(venue, "balance_key", None)
    if key is None:
        return venue.fetch_balance()
    try:
        balance, moves = shared_balance(key, recording)
    except UNREACHABLE:
        return venue.fetch_balance()
    if balance is not None:
        return balance
    balance = venue.fetch_balance()
    try:
        save_balance(key, balance, moves)
    except UNREACHABLE:
        pass
    return balance


def mark_balance_streamed(key: str) -> None:
    client().set(_balance_keys(key)[2], "1", px=int(LIVE_SECONDS * 1000))


def mark_balance_polled(key: str) -> None:
    try:
        client().delete(_balance_keys(key)[2])
    except UNREACHABLE:
        pass  # the mark lapses by itself
