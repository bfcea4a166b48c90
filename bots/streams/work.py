"""The stream process's database side, run in its sync thread: what to watch, and the fills
handed to the one capture there is (bots/hedging/capture.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connections

from bots.engine.market_making.quote_config import InvalidSettings
from bots.hedging.capture import capture_fills, market_for_capture
from bots.models import Account, Fill, Market, QuoteSettings, Venue
from bots.models.fields import ExactSum
from bots.platform.locks import market_lock
from bots.venues import venue_for
from bots.venues.fill_identity import PREFIX, derived_id, with_ids
from bots.venues.stream_state import balance_key

log = logging.getLogger(__name__)

# A REST answer this long may have been cut by the venue's page (the kit's default is 50 trades,
# the smallest of the venues streamed), so the read goes on from its newest trade.
PAGE = 50
MOST_PAGES = 20


def connection_checked() -> None:
    """Close this thread's database connections that broke (a database restart), so that the
    work that follows connects afresh; keep the healthy ones. Django's close_old_connections
    would also close a connection for its age, which with CONN_MAX_AGE 0 is at every call: each
    streamed capture connected again, about 2 ms of CPU on SQLite (bench/hedge_latency.py,
    instrumented; more over the network to PostgreSQL). The stream process is one long-lived
    client, as a worker between tasks is not."""
    for connection in connections.all(initialized_only=True):
        if connection.connection is None:
            continue
        if connection.get_autocommit() != connection.settings_dict["AUTOCOMMIT"]:
            connection.close()  # left inside a transaction by a failed call
        elif connection.errors_occurred:
            if connection.is_usable():
                connection.errors_occurred = False
            else:
                connection.close()


@dataclass
class AccountPlan:
    """One connection set: an account on a ccxt venue, the markets it makes (whose fills it
    streams) and the symbols whose book it streams for the markets hedging there; or an account
    on a paper venue (`paper`), whose fills it streams from the venue's push and nothing else."""

    account_id: int
    venue_id: int
    venue: str  # the venue's name in Ballast
    exchange_id: str
    options: dict
    credentials: dict
    fill_markets: dict[str, int] = field(default_factory=dict)  # symbol -> market id
    book_symbols: set[str] = field(default_factory=set)
    deep_books: set[str] = field(default_factory=set)  # own venues' books: kept deeper
    hedge_books: set[str] = field(default_factory=set)  # books markets price and hedge from
    paper: bool = False
    # Every account a market makes or hedges with has its balance streamed (where the exchange
    # can), so that ticks and hedges need not read it by REST (stream_state.read_balance).

    @property
    def balance_key(self) -> str:
        """Where the account's balance is shared: as its REST venue names it (CcxtVenue)."""
        # Here, not at the top: the web process reads plans (its health check) without ccxt.
        from bots.venues.clients import fingerprint

        return balance_key(self.account_id, fingerprint(self.exchange_id, self.options, self.credentials))

    def key(self) -> tuple:
        return (self.account_id, self.exchange_id, repr(self.options), tuple(sorted(self.fill_markets.items())),
                tuple(sorted(self.book_symbols)), tuple(sorted(self.deep_books)),
                tuple(sorted(self.hedge_books)), self.paper)


@dataclass(frozen=True)
class MarketWatch:
    """What event-driven quoting needs of a market: its hedge venues and when to tick."""

    market_id: int
    symbol: str
    venue_ids: tuple[int, ...]
    reference: Decimal | None  # the last tick's, as the database had it when read
    tolerance_bps: Decimal
    reference_ms: int | None = None  # that tick's time


def plan() -> list[AccountPlan]:
    """The connection sets the enabled markets need. A paper venue's books and balances are read
    from the database; its MM accounts' fills are streamed from its push (paper_stream)."""
    connection_checked()
    return planned()


def planned() -> list[AccountPlan]:
    """plan(), on the caller's database connection as it is (a request's: /metrics)."""
    plans: dict[int, AccountPlan] = {}
    book_venues: dict[tuple[int, str], AccountPlan] = {}  # a book is public: one stream per venue

    def of(account) -> AccountPlan:
        if account.pk not in plans:
            plans[account.pk] = AccountPlan(
                account.pk, account.venue_id, account.venue.name, account.venue.exchange_id,
                account.venue.options or {}, account.credentials(),
                paper=account.venue.kind == Venue.PAPER,
            )
        return plans[account.pk]

    def book(account, symbol: str, deep: bool = False) -> None:
        streams = book_venues.setdefault((account.venue_id, symbol), of(account))
        streams.book_symbols.add(symbol)
        (streams.deep_books if deep else streams.hedge_books).add(symbol)

    markets = Market.objects.filter(enabled=True).select_related("mm_account__venue", "hedge_account__venue")
    for market in markets.order_by("pk"):
        mm_kind = market.mm_account.venue.kind
        if mm_kind in (Venue.CCXT, Venue.PAPER) and market.kind == Market.BOOK:
            of(market.mm_account).fill_markets[market.symbol] = market.pk
            if mm_kind == Venue.CCXT:  # a paper book is read from the venue
                book(market.mm_account, market.symbol, deep=True)  # its health samples read it
        for account in market.hedge_accounts():
            if account.venue.kind != Venue.CCXT:
                continue
            of(account)  # its balance, even when another account streams the book
            book(account, market.symbol)
    return list(plans.values())


def market_watches(venue_ids: set[int]) -> list[MarketWatch]:
    """Enabled markets hedging on any of these venues, with their last reference."""
    connection_checked()
    watches = []
    markets = Market.objects.filter(enabled=True).select_related("hedge_account", "quote_settings")
    for market in markets:
        venues = tuple(a.venue_id for a in market.hedge_accounts())
        if not venue_ids.intersection(venues):
            continue
        try:
            tolerance = market.quote_settings.config().refresh_tolerance_bps
        except (QuoteSettings.DoesNotExist, InvalidSettings):
            continue  # the tick says why; nothing to quote from a stream either
        reference_ms = None if market.reference_at is None else int(market.reference_at.timestamp() * 1000)
        watches.append(MarketWatch(market.pk, market.symbol, venues, market.reference_price, tolerance,
                                   reference_ms))
    return watches


class _Pushed:
    """The trades a stream delivered, offered to the capture as a venue's answer would be."""

    def __init__(self, trades: list[dict]):
        self.trades = trades

    def fetch_my_trades(self, symbol=None, since=None, limit=None) -> list[dict]:
        return [t for t in self.trades if symbol is None or t["symbol"] == symbol]


def _split(market: Market, trades: list[dict]) -> tuple[list[dict], list[dict]]:
    """The streamed trades the capture can take as they are, and those only a REST read can tell.

    A derived id (fill_identity.py) counts a trade's place among identical trades of one answer.
    A REST answer holds them all; a stream message may not, and one message seen twice (a
    duplicate) looks like two identical trades. So a streamed trade with a derived id is taken at
    once only when it is the first of its kind in the batch and no fill has that first id yet:
    then REST would give it the same id (the first identical one REST lists gets it; which of two
    identical trades carries it does not matter). Any other, a repeat or a second one alike, is
    left to REST, which counts them in one answer."""
    derived = {id(t) for t in trades if _derived(t)}
    firsts = _firsts(trades)
    recorded = set(
        Fill.objects.filter(venue_id=market.mm_account.venue_id, trade_id__in=firsts)
        .values_list("trade_id", flat=True)
    )
    clear, doubtful = [], []
    for trade in trades:
        if id(trade) not in derived or (trade["id"] in firsts and trade["id"] not in recorded):
            clear.append(trade)
        else:
            doubtful.append(trade)
    return clear, doubtful


def _firsts(trades: list[dict]) -> set[str]:
    """The derived ids of the batch's trades that are the first of their kind in it."""
    return {
        str(t["id"]) for t in trades
        if _derived(t) and t["id"] == derived_id(t, 1, t.get("orderFilled"))
    }


def _derived(trade: dict) -> bool:
    return str(trade.get("id") or "").startswith(PREFIX)


def capture_streamed(market_id: int, trades: list[dict], on_hedge: Callable[[int], None]) -> int:
    """Record streamed trades through the once-only capture; returns how many were new. Trades
    whose derived id a stream cannot settle (`_split`) are read again by REST instead."""
    connection_checked()
    market = market_for_capture(market_id)
    # As the REST adapter does: a trade the venue gave no id gets the derived one.
    trades = with_ids(trades)
    if not any(_derived(t) for t in trades):
        # The venue's own trade ids (paper, binance): nothing to settle, and the unique venue
        # and trade id records each trade once whoever else captures it meanwhile (a resync,
        # the capture task). No lock to take on the way to the hedge, a Redis round trip.
        return len(capture_fills(market, _Pushed(trades), on_hedge))
    # A derived id is settled against what is recorded: the lock keeps that read and the
    # write together, as the capture task's does (the unique key would refuse a second anyway).
    with market_lock("capture", market_id, wait_seconds=5):
        clear, doubtful = _split(market, trades)
        new = len(capture_fills(market, _Pushed(clear), on_hedge))
        if doubtful:
            # From the doubtful trades' time: the clear ones may have moved the last fill past it.
            new += _read(market, on_hedge, _earliest(doubtful)).new
        return new


def capture_checked(market_id: int, trades: list[dict], on_hedge: Callable[[int], None]) -> tuple[int, bool | None]:
    """For a stream whose derived ids are not trusted yet: the trades are read by REST and
    captured from there, and the answer says whether the ids the stream would have given them
    are the ones REST's read recorded (None when the batch had none to compare)."""
    connection_checked()
    market = market_for_capture(market_id)
    trades = with_ids(trades)
    with market_lock("capture", market_id, wait_seconds=5):
        # Every first of its kind counts, recorded already or not: a fill REST recorded before
        # its message came (a resync racing the stream) shows the ids agree as well as a new one.
        ids = _firsts(trades)
        new = _read(market, on_hedge, _earliest(trades)).new
        if not ids:
            return new, None
        found = Fill.objects.filter(venue_id=market.mm_account.venue_id, trade_id__in=ids).count()
        return new, found == len(ids)


def _earliest(trades: list[dict]) -> int | None:
    return min((t["timestamp"] for t in trades if t.get("timestamp") is not None), default=None)


def last_fills(market_ids: list[int]) -> dict[int, int]:
    """Each market's newest fill time recorded (0 for none)."""
    connection_checked()
    return dict(Market.objects.filter(pk__in=market_ids).values_list("pk", "last_fill_timestamp"))


def shortfall(market_id: int, order_id: str, filled: Decimal) -> int | None:
    """None when the fills recorded for this order of the MM account add up to its `filled`; else
    the market's last fill time now (the caller reads a missing trade from no later than that)."""
    connection_checked()
    market = Market.objects.select_related("mm_account").get(pk=market_id)
    recorded = Fill.objects.filter(venue_id=market.mm_account.venue_id, order_id=order_id).aggregate(
        total=ExactSum("amount"))["total"]
    return None if (recorded or Decimal(0)) >= filled else market.last_fill_timestamp


def catch_up(market_id: int, since: int, on_hedge: Callable[[int], None]) -> Read:
    """An order filled more than its streamed trades said (their message was lost), or the fill
    audit's turn: the trades are read by REST from `since`. Not asked again whether they add up
    by now: fills of the order's later trades, streamed meanwhile, would hide the missing one."""
    connection_checked()
    market = market_for_capture(market_id)
    with market_lock("capture", market_id, wait_seconds=5):
        return _read(market, on_hedge, since)


def rest_balance(account_id: int) -> dict:
    """The account's whole balance by REST, through the desk's client and request budget."""
    connection_checked()
    return venue_for(Account.objects.select_related("venue").get(pk=account_id)).fetch_balance()


def rest_open_orders(account_id: int, symbol: str) -> list[dict]:
    """The account's open orders of `symbol` by REST, through the desk's client and budget."""
    connection_checked()
    return venue_for(Account.objects.select_related("venue").get(pk=account_id)).fetch_open_orders(symbol)


def resync(market_id: int, on_hedge: Callable[[int], None]) -> Read:
    """The REST read of the account's trades since the last fill recorded, through the same
    capture: what a stream missed while it was away is recorded now, and only once (after an
    absence longer than MOST_PAGES pages of trades, the rest by the fill audit: `Read`)."""
    connection_checked()
    market = market_for_capture(market_id)
    with market_lock("capture", market_id, wait_seconds=5):
        return _read(market, on_hedge)


class _Counted:
    """The MM venue, remembering how many trades its last answer held and the newest's time."""

    def __init__(self, venue):
        self.venue, self.answered, self.newest = venue, 0, None

    def fetch_my_trades(self, symbol=None, since=None, limit=None) -> list[dict]:
        trades = self.venue.fetch_my_trades(symbol, since, limit)
        self.answered = len(trades)
        self.newest = max((t["timestamp"] for t in trades if t.get("timestamp") is not None), default=None)
        return trades


@dataclass(frozen=True)
class Read:
    """What a REST read of the account's trades recorded, and where it stopped short: a read
    ends after MOST_PAGES pages (its requests come out of the venue's budget), and `more_from`
    is then the newest trade time it reached, from which the next read must go on; None when
    it reached the newest trade. Once streamed trades move the last fill forward, nothing but
    a read from that time would find what lay beyond (the fill audit reads on from it)."""

    new: int
    more_from: int | None = None


def _read(market: Market, on_hedge: Callable[[int], None], since: int | None = None) -> Read:
    """Capture the trades REST lists from `since` (else the last fill recorded) on, page after
    page, at most MOST_PAGES of them. The caller holds the capture lock."""
    venue = _Counted(venue_for(market.mm_account))
    new = 0
    for _ in range(MOST_PAGES):
        new += len(capture_fills(market, venue, on_hedge, since))
        if venue.answered < PAGE or venue.newest is None or venue.newest == since:
            return Read(new)
        since = venue.newest  # inclusive: the newest millisecond's trades come again, known
    return Read(new, since)
