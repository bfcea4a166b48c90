"""A broker market's quotes: priced on the hedge venues' books, accepted once, booked against the
inventory account and hedged like any fill.

Asking reads the hedge venues as a tick does (bots.market_making.quoter.read_hedge_venues) and
lets the pure engine price the size (bots.engine.otc.pricing). Accepting re-reads them, lets the
engine say whether the quote still stands, then, in one transaction: the quote goes from open to
accepted by a conditional UPDATE that must change exactly one row (so a second or concurrent
acceptance, or one after the expiry, changes nothing), and the fill with its hedge intent is
written by the capture's own bots.hedging.capture.record_with_hedge (the outbox). From there the
hedge is the market-making fill's: the same task, once-only orders, netting and routing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from bots.desk.audit import record
from bots.engine.market_making.quote_config import InvalidSettings
from bots.engine.otc import pricing
from bots.engine.otc.pricing import Priced, Refusal
from bots.engine.rules import dec
from bots.hedging.capture import record_with_hedge
from bots.market_making.quoter import market_rules, read_hedge_venues
from bots.models import (
    ApiClient,
    BrokerQuote,
    BrokerSettings,
    Fill,
    KillSwitch,
    Market,
    QuoteSettings,
    Venue,
)
from bots.platform import events
from bots.venues import ccxt_errors as ccxt
from bots.venues import stream_state as streams
from bots.venues import venue_for
from bots.venues.errors import describe
from bots.venues.paper import PaperVenue

# What each refusal means to an HTTP client (the API answers with it; 400 otherwise).
STATUS = {
    "not_found": 404,
    "market_closed": 409,
    "no_liquidity": 409,
    "short_of_inventory": 409,
    "venue_error": 503,
    "price_moved": 409,
    "already_accepted": 409,
    "already_refused": 409,
    "expired": 410,
    "over_daily_limit": 422,
}


class QuoteRefused(Exception):
    def __init__(self, refusal: Refusal):
        super().__init__(refusal.message)
        self.code = refusal.code
        self.message = refusal.message

    @property
    def status(self) -> int:
        return STATUS.get(self.code, 400)


def broker_markets():
    return Market.objects.filter(kind=Market.BROKER).select_related(
        "mm_account__venue", "hedge_account__venue", "quote_settings"
    )


def broker_settings(market: Market) -> BrokerSettings:
    return BrokerSettings.objects.get_or_create(market=market)[0]


def _day_start(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def used_today(market: Market, client: ApiClient, user_ref: str, now: datetime) -> Decimal:
    """What the user accepted through this client on this market since 00:00 UTC, in quote."""
    accepted = BrokerQuote.objects.filter(
        market=market, client=client, user_ref=user_ref, state=BrokerQuote.ACCEPTED,
        decided_at__gte=_day_start(now),
    )
    # Per quote in Python: SQLite's arithmetic on these columns would go through floats.
    return sum((q.price * q.amount for q in accepted.only("price", "amount")), Decimal(0))


@dataclass(frozen=True)
class _Fresh:
    priced: Priced | Refusal
    floor: object


def _price_now(market: Market, side: str, amount: Decimal, terms: pricing.BrokerTerms) -> _Fresh:
    if not market.enabled or market.state in Market.STOPPED or KillSwitch.is_engaged():
        raise QuoteRefused(Refusal("market_closed", f"{market.symbol} is not quoting now"))
    try:
        config = market.quote_settings.config()
    except (QuoteSettings.DoesNotExist, InvalidSettings) as exc:
        raise QuoteRefused(Refusal("market_closed", f"{market.symbol} has no usable settings")) from exc
    try:
        rules = market_rules(venue_for(market.mm_account), market.symbol)
    except ccxt.BaseError as exc:
        raise QuoteRefused(Refusal("venue_error", f"the inventory's venue cannot be read: {describe(exc)}")) from exc
    refusal = pricing.check_request(side, amount, terms, rules)
    if refusal:
        raise QuoteRefused(refusal)
    read = read_hedge_venues(market.hedge_accounts(), market.symbol, rules, config)
    if read.errors and not read.floor.venues:
        raise QuoteRefused(Refusal("venue_error", f"the hedge venues cannot be read: {describe(read.errors[0])}"))
    return _Fresh(pricing.price(read.floor, side, amount, terms, rules), read.floor)


def _covers(market: Market, priced: Priced) -> None:
    """The inventory account holds what the desk's side gives away."""
    try:
        balance = streams.read_balance(venue_for(market.mm_account))
    except ccxt.BaseError as exc:
        raise QuoteRefused(Refusal("venue_error", f"the inventory account cannot be read: {describe(exc)}")) from exc
    gives, need = (market.base, priced.amount) if priced.user_side == "buy" else (market.quote, priced.notional)
    free = dec((balance.get(gives) or {}).get("free") or 0)
    if free < need:
        raise QuoteRefused(Refusal("short_of_inventory", f"the desk cannot source {need.normalize():f} {gives} now"))


def ask(market: Market, client: ApiClient, user_ref: str, side: str, amount: Decimal,
        now: datetime | None = None) -> BrokerQuote:
    """A firm quote for `amount`, valid for the market's quote seconds; QuoteRefused if none."""
    now = now or timezone.now()
    settings = broker_settings(market)
    terms = settings.terms()
    fresh = _price_now(market, side, amount, terms)
    if isinstance(fresh.priced, Refusal):
        raise QuoteRefused(fresh.priced)
    priced = fresh.priced
    refusal = pricing.over_daily_limit(used_today(market, client, user_ref, now), priced.notional, terms)
    if refusal:
        raise QuoteRefused(refusal)
    _covers(market, priced)
    return BrokerQuote.objects.create(
        market=market, client=client, user_ref=user_ref, side=side, amount=amount,
        price=priced.price, reference_price=priced.reference, floor_price=priced.floor,
        hedge_venue=priced.venue, expires_at=now + timedelta(seconds=settings.quote_seconds),
    )


def _hedge_due(hedge_id: int) -> None:
    events.hedge_due.emit(hedge_id=hedge_id)


def find(client: ApiClient, ref: str) -> BrokerQuote:
    try:
        return BrokerQuote.objects.select_related("market").get(ref=UUID(str(ref)), client=client)
    except (ValueError, BrokerQuote.DoesNotExist):
        raise QuoteRefused(Refusal("not_found", f"no quote {ref} of this client")) from None


def _end(quote: BrokerQuote, state: str, reason: str, now: datetime) -> bool:
    """Close an open quote as expired or refused; False if it was no longer open."""
    return 1 == BrokerQuote.objects.filter(pk=quote.pk, state=BrokerQuote.OPEN).update(
        state=state, reason=reason[:300], decided_at=now
    )


def _not_open(quote: BrokerQuote, now: datetime) -> QuoteRefused | None:
    if quote.state == BrokerQuote.OPEN and quote.expires_at <= now:
        _end(quote, BrokerQuote.EXPIRED, "not accepted in time", now)
        quote.state = BrokerQuote.EXPIRED
    if quote.state == BrokerQuote.EXPIRED:
        return QuoteRefused(Refusal("expired", f"the quote expired at {quote.expires_at.isoformat()}: ask for a new one"))
    if quote.state != BrokerQuote.OPEN:
        return QuoteRefused(Refusal(f"already_{quote.state}", f"the quote was {quote.state} already"))
    return None


def accept(client: ApiClient, ref: str, now: datetime | None = None, on_hedge=_hedge_due) -> BrokerQuote:
    """Accept an open quote in time: the fill is booked and its hedge queued; else QuoteRefused."""
    now = now or timezone.now()  # the moment the user accepted: the expiry is judged against it
    quote = find(client, ref)
    market = Market.objects.get_for_work(quote.market_id)
    problem = _not_open(quote, now)
    if problem:
        raise problem
    terms = broker_settings(market).terms()
    fresh = _price_now(market, quote.side, quote.amount, terms)
    refusal = pricing.accept(quote.price, fresh.priced, fresh.floor, quote.side, quote.amount, terms)
    with transaction.atomic():
        # One acceptance per client at a time, so two quotes cannot both fit the daily limit.
        list(ApiClient.objects.select_for_update().filter(pk=client.pk).values_list("pk", flat=True))
        if refusal is None:
            refusal = pricing.over_daily_limit(
                used_today(market, client, quote.user_ref, now), quote.notional, terms
            )
        if refusal is not None:
            decided = _end(quote, BrokerQuote.REFUSED, refusal.message, now)
        else:
            decided = 1 == BrokerQuote.objects.filter(
                pk=quote.pk, state=BrokerQuote.OPEN, expires_at__gt=now
            ).update(state=BrokerQuote.ACCEPTED, decided_at=now)
            if decided:
                fill = _book(market, quote, now, on_hedge)
                BrokerQuote.objects.filter(pk=quote.pk).update(fill=fill)
                record(
                    "otc_quote_accepted", actor=f"api client {client.name}", market=market,
                    subject=str(quote.ref), user_ref=quote.user_ref, side=quote.side,
                    amount=quote.amount, price=quote.price, hedge_id=fill.hedge.pk,
                )
                events.market_changed.emit_on_commit(market_id=market.pk, force=False)
    # Raised after the commit, so a refusal's record stays.
    if not decided:  # another request decided it first: say what happened to it
        quote.refresh_from_db()
        raise _not_open(quote, now) or QuoteRefused(Refusal("already_accepted", "the quote was decided already"))
    if refusal is not None:
        raise QuoteRefused(refusal)
    quote.refresh_from_db()
    return quote


def _book(market: Market, quote: BrokerQuote, now: datetime, on_hedge) -> Fill:
    """The accepted quote as the inventory account's fill, with its hedge intent (the outbox)."""
    account = market.mm_account
    side = pricing.desk_side(quote.side)
    fill = Fill(
        venue=account.venue, account=account, market=market,
        trade_id=f"otc-{quote.ref}", order_id=f"otc-{quote.ref}",
        side=side, price=quote.price, amount=quote.amount, cost=quote.price * quote.amount,
        timestamp=int(now.timestamp() * 1000),
    )
    fill.hedge = record_with_hedge(market, fill, on_hedge)
    if account.venue.kind == Venue.PAPER:
        PaperVenue(account).settle_off_book(market.base, market.quote, side, quote.amount, fill.cost)
    return fill
