"""Driving the market maker on the demo's paper venues: tick it, move or empty the outside book,
read what rests, and break one venue call on purpose (the venue seam)."""

from __future__ import annotations

import time
from decimal import Decimal

from bots.engine.market_making.quoting import quote_levels
from bots.market_making import quoter
from bots.models import Account, Market, Order, PaperMarket
from bots.simulation.paper_flow import OUTSIDE_BOOK
from bots.venues import venue_for
from bots.venues.paper import PaperVenue, rules_of


def now_ms() -> int:
    return int(time.time() * 1000)


def tick(market: Market, now: int | None = None) -> str:
    return quoter.run_tick(market.pk, on_hedge=lambda hedge_id: None, now_ms=now)


def market_row(market: Market) -> Market:
    return Market.objects.get(pk=market.pk)


def outside_liquidity(market: Market) -> PaperVenue:
    account = Account.objects.get(venue=market.hedge_account.venue, role=Account.LIQUIDITY)
    return PaperVenue(account)


def set_outside_mid(market: Market, mid: Decimal) -> None:
    """Rest the outside market's usual deep book around `mid`."""
    row = PaperMarket.objects.get(venue=market.hedge_account.venue, symbol=market.symbol)
    outside_liquidity(market).replace_orders(market.symbol, quote_levels(mid, OUTSIDE_BOOK, rules_of(row)))


def outside_mid(market: Market) -> Decimal:
    book = venue_for(market.hedge_account).fetch_order_book(market.symbol)
    return (book["bids"][0][0] + book["asks"][0][0]) / 2


def empty_outside_book(market: Market) -> None:
    outside_liquidity(market).replace_orders(market.symbol, [])


def resting(market: Market) -> list[dict]:
    """The MM account's open orders on the venue, oldest first."""
    return venue_for(market.mm_account).fetch_open_orders(market.symbol)


def quoted(market: Market) -> set[tuple[str, Decimal, Decimal]]:
    return {(o["side"], o["price"], o["remaining"]) for o in resting(market)}


def sides(market: Market) -> set[str]:
    return {o["side"] for o in resting(market)}


def records(market: Market, state: str) -> int:
    return Order.objects.filter(market=market, state=state).count()


class PassThrough:
    """A real venue, every call passed through untouched but those a subclass defines (the
    venue seam): `self.venue` is the venue wrapped."""

    def __init__(self, venue):
        self.venue = venue

    def __getattr__(self, name):
        return getattr(self.venue, name)


def wrap_venue(monkeypatch, account_id: int, wrapper) -> None:
    """The tick's venue of the account `account_id` wrapped as `wrapper(venue)`; every other
    account's as it is."""

    def wrapped_venue_for(account):
        venue = venue_for(account)
        return wrapper(venue) if account.pk == account_id else venue

    monkeypatch.setattr(quoter, "venue_for", wrapped_venue_for)


class Faulty:
    """A real venue with one method broken: it raises `error` while `budget["left"]` lasts.

    Everything else passes through to the wrapped venue untouched."""

    def __init__(self, venue, method: str, error: type[Exception], budget: dict):
        self._venue, self._method, self._error, self._budget = venue, method, error, budget

    def __getattr__(self, name):
        attribute = getattr(self._venue, name)
        if not callable(attribute):
            return attribute

        def call(*args, **kwargs):
            self._budget["calls"].append(name)
            if name == self._method and self._budget["left"] > 0:
                self._budget["left"] -= 1
                raise self._error(f"{self._venue.id}: {self._error.__name__} (injected)")
            return attribute(*args, **kwargs)

        return call


def break_venue(monkeypatch, account: Account, method: str, error, times: int = 1) -> dict:
    """Make `account`'s venue raise `error` from `method` the next `times` calls the tick makes.

    Returns the shared budget: {"left": calls still to fail, "calls": every call made}."""
    budget = {"left": times, "calls": []}
    wrap_venue(monkeypatch, account.pk, lambda venue: Faulty(venue, method, error, budget))
    return budget
