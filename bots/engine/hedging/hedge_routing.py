"""Where a hedge goes: among the market's hedge venues, the best price net of taker fee.

Each venue is seen as its book, rules, free balances and health. The hedge goes to the venue
whose price for the size, net of its taker fee, is best; when that venue's balance covers only
part, the part goes there and the rest to the next best, and so on. A venue that failed lately
is left out while any other is healthy. What no venue can take now is left unplaced, with the
reason: below every venue's minimum (the pending hedge position nets it), short of balance
(kept pending and shown to the rebalance panel), no book, or a notional cap too small to split.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bots.engine.books import Levels, sweep
from bots.engine.figures import plain
from bots.engine.hedging.hedge_order import MAX_PIECES, HedgeParams, protection_price, split_amount
from bots.engine.rules import BUY, ZERO, MarketRules

# Why part of a hedge was left unplaced.
BELOW_MINIMUM = "below_minimum"
SHORT_OF_BALANCE = "short_of_balance"
NO_BOOK = "no_book"
CAP_TOO_SMALL = "cap_too_small"


@dataclass(frozen=True)
class VenueView:
    """One hedge venue as the router sees it, named as the driver likes (an account id)."""

    name: str
    rules: MarketRules
    bids: Levels
    asks: Levels
    free_base: Decimal
    free_quote: Decimal
    healthy: bool = True
    label: str = ""  # for messages; the name when empty


@dataclass(frozen=True)
class ChildOrder:
    venue: str
    side: str
    amount: Decimal
    limit_price: Decimal  # the protection price
    expected_price: Decimal  # the book's volume-weighted price for the venue's whole share


@dataclass(frozen=True)
class Shortfall:
    """A venue that would have taken more of the hedge with more of `asset`."""

    venue: str
    asset: str
    needed: Decimal
    free: Decimal
    label: str = ""


@dataclass(frozen=True)
class Route:
    orders: tuple[ChildOrder, ...]
    unplaced: Decimal
    reason: str  # one of the constants above when `unplaced` > 0, else ""
    note: str  # the reason in words, for operators
    shortfalls: tuple[Shortfall, ...] = ()


def net_price(side: str, vwap: Decimal, taker_fee: Decimal) -> Decimal:
    """What one unit really costs (buy) or yields (sell) after the taker fee."""
    return vwap * (1 + taker_fee) if side == BUY else vwap * (1 - taker_fee)


def _levels(view: VenueView, side: str) -> Levels:
    return view.asks if side == BUY else view.bids


def plan_route(
    side: str, amount: Decimal, venues: list[VenueView], params: HedgeParams, step: int = 0
) -> Route:
    """Orders that hedge `amount` on `side` at ladder `step`, best net price first."""
    usable = [v for v in venues if v.healthy] or list(venues)
    ranked = []
    for rank, view in enumerate(usable):
        levels = _levels(view, side)
        if not levels:
            continue
        size = max(view.rules.round_amount(amount), view.rules.amount_step)
        vwap = sweep(levels, size)[0]
        price = net_price(side, vwap, view.rules.taker_fee)
        ranked.append((price if side == BUY else -price, rank, view))
    ranked.sort(key=lambda item: (item[0], item[1]))

    orders: list[ChildOrder] = []
    shortfalls: list[Shortfall] = []
    cap_too_small = False
    left = amount
    for _, _, view in ranked:
        rules = view.rules
        size = rules.round_amount(left)
        if size <= 0:
            break
        levels = _levels(view, side)
        limit = protection_price(side, sweep(levels, size)[0], params.slippage_at(step), rules)
        if side == BUY:
            affordable = rules.round_amount(view.free_quote / limit) if limit > 0 else ZERO
        else:
            affordable = rules.round_amount(view.free_base)
        take = min(size, affordable)
        if take < size:
            asset, needed, free = (
                (rules.quote, size * limit, view.free_quote)
                if side == BUY
                else (rules.base, size, view.free_base)
            )
            shortfalls.append(Shortfall(view.name, asset, needed, free, view.label or view.name))
        if take <= 0:
            continue
        # The smaller share may sweep a shallower, better part of the book.
        expected = sweep(levels, take)[0]
        limit = protection_price(side, expected, params.slippage_at(step), rules)
        if not rules.is_tradable(take, limit):
            continue
        pieces = split_amount(take, limit, params.max_notional, rules)
        if not pieces or not all(rules.is_tradable(p, limit) for p in pieces):
            cap_too_small = True
            continue
        orders += [ChildOrder(view.name, side, p, limit, expected) for p in pieces]
        left -= take

    if left <= 0:
        return Route(tuple(orders), ZERO, "", "", tuple(shortfalls))
    reason, note = _why_unplaced(side, left, usable, shortfalls, cap_too_small, params)
    return Route(tuple(orders), left, reason, note, tuple(shortfalls))


def _why_unplaced(side, left, usable, shortfalls, cap_too_small, params) -> tuple[str, str]:
    books = [v for v in usable if _levels(v, side)]
    if not books:
        return NO_BOOK, f"no hedge venue has {'asks' if side == BUY else 'bids'}"
    tradable = any(
        v.rules.is_tradable(v.rules.round_amount(left), _levels(v, side)[0][0]) for v in books
    )
    base = books[0].rules.base
    amount = f"{plain(left)} {base}"
    if not tradable:
        return BELOW_MINIMUM, f"{amount} is below every hedge venue's minimum order"
    if shortfalls:
        short = "; ".join(
            f"{s.label or s.venue} needs {plain(s.needed)} {s.asset}, has {plain(s.free)}"
            for s in shortfalls
        )
        return SHORT_OF_BALANCE, f"{amount} not hedged: short of balance ({short})"
    if cap_too_small:
        return CAP_TOO_SMALL, (
            f"the max notional per order ({plain(params.max_notional)}) is below a venue's "
            f"minimum order, or would split {amount} into more than {MAX_PIECES} orders"
        )
    return BELOW_MINIMUM, f"{amount} is below every hedge venue's minimum order"
