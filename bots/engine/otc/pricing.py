"""A broker market's firm quote for a size: priced off the hedge venues' books, never below the
hedge floor the market-making quotes keep, and checked again when the user accepts it.

The user names a side and a size. The desk takes the other side from its inventory account and
hedges it on the hedge venues exactly as it hedges a market-making fill, so the price starts
from what that hedge will cost: the volume-weighted price of the size on the hedge venue the
floor chooses (bots.engine.market_making.hedge_floor: the best venue whose book and balance can
take the whole size), moved by the market's spread, then held at or beyond the floor (taker fee,
own fee and buffer) so the hedge never loses. Prices are rounded away from the user.

At acceptance the same price is worked out again on fresh books: the quote stands when the fresh
price is no more than `tolerance_bps` worse for the desk than the quoted one and the quoted price
still clears the fresh floor; otherwise it is refused, and the user asks again.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bots.engine.books import sweep
from bots.engine.market_making.hedge_floor import HedgeFloor
from bots.engine.rules import BPS, BUY, SELL, MarketRules, opposite


@dataclass(frozen=True)
class BrokerTerms:
    """A broker market's settings as the engine reads them."""

    spread_bps: Decimal
    max_amount: Decimal  # base, per quote
    daily_limit: Decimal  # quote currency, per user per UTC day
    tolerance_bps: Decimal


@dataclass(frozen=True)
class Priced:
    """A price the desk can give: what the user pays (buys) or gets (sells) per unit."""

    user_side: str
    amount: Decimal
    price: Decimal
    reference: Decimal  # the hedge venue's volume-weighted price for the size
    floor: Decimal  # the worst price the hedge still earns at
    venue: str  # the hedge venue it was priced on

    @property
    def notional(self) -> Decimal:
        return self.price * self.amount


@dataclass(frozen=True)
class Refusal:
    """Why no quote (or no acceptance): a sentence the API returns as it is."""

    code: str
    message: str


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def desk_side(user_side: str) -> str:
    """The side the inventory account takes: the other one."""
    return opposite(user_side)


def check_request(user_side: str, amount: Decimal, terms: BrokerTerms, rules: MarketRules) -> Refusal | None:
    """What is wrong with a request before any book is read, or None."""
    if user_side not in (BUY, SELL):
        return Refusal("bad_side", "side must be 'buy' or 'sell'")
    if amount <= 0:
        return Refusal("bad_amount", "amount must be more than 0")
    if rules.round_amount(amount) != amount:
        return Refusal("bad_amount", f"amount must be a multiple of {_plain(rules.amount_step)}")
    if amount > terms.max_amount:
        return Refusal("over_quote_limit", f"amount is over this market's limit of {_plain(terms.max_amount)} a quote")
    if amount < rules.min_amount:
        return Refusal("under_minimum", f"amount is under this market's minimum of {_plain(rules.min_amount)}")
    return None


def price(floor: HedgeFloor, user_side: str, amount: Decimal, terms: BrokerTerms,
          rules: MarketRules) -> Priced | Refusal:
    """The firm price for `amount`, or why there is none (no hedge venue can take the size)."""
    side = desk_side(user_side)
    cost = floor.hedge_cost(side, Decimal(0), amount)
    limit = floor.limit(side, Decimal(0), amount)
    if cost is None or limit is None:
        return Refusal("no_liquidity", "no hedge venue can take this size now: try a smaller amount")
    venue = next(v for v in floor.venues if v.name == cost.venue)
    swept = sweep(venue.asks if side == SELL else venue.bids, amount)
    if swept is None:  # the floor found the size on this very book: cannot happen
        return Refusal("no_liquidity", "no hedge venue can take this size now: try a smaller amount")
    reference = swept[0]
    if side == SELL:  # the user buys: at the reference plus the spread, and at least the floor
        quoted = max(reference * (1 + terms.spread_bps / BPS), limit)
    else:
        quoted = min(reference * (1 - terms.spread_bps / BPS), limit)
    # The desk's order side decides the rounding: its ask up, its bid down (away from the user).
    quoted = rules.round_price(quoted, side)
    if quoted <= 0:
        return Refusal("no_liquidity", "the hedge venues' prices leave no positive price")
    if amount * quoted < rules.min_cost:
        return Refusal("under_minimum", f"the quote is under this market's minimum value of {_plain(rules.min_cost)}")
    return Priced(user_side, amount, quoted, reference, limit, cost.venue)


def worse_by_bps(user_side: str, quoted: Decimal, fresh: Decimal) -> Decimal:
    """How much worse for the desk the quoted price is than a fresh one, in bps of the quoted
    price (negative: the market moved the desk's way)."""
    if user_side == BUY:  # the desk sells at `quoted`: a higher fresh price means it sold cheap
        return (fresh - quoted) / quoted * BPS
    return (quoted - fresh) / quoted * BPS


def accept(quoted: Decimal, fresh: Priced | Refusal, floor: HedgeFloor, user_side: str,
           amount: Decimal, terms: BrokerTerms) -> Refusal | None:
    """Whether a quote still stands against fresh books: None when it does."""
    if isinstance(fresh, Refusal):
        return fresh
    moved = worse_by_bps(user_side, quoted, fresh.price)
    if moved > terms.tolerance_bps:
        return Refusal(
            "price_moved",
            f"the price moved {moved.quantize(Decimal('0.1'))} bps against the quote (the "
            f"tolerance is {_plain(terms.tolerance_bps)} bps): ask for a new quote",
        )
    if not floor.respects(desk_side(user_side), quoted, Decimal(0), amount):
        return Refusal("price_moved", "the hedge would now lose at the quoted price: ask for a new quote")
    return None


def over_daily_limit(used_today: Decimal, notional: Decimal, terms: BrokerTerms) -> Refusal | None:
    """A user's accepted quotes of the UTC day, plus this one, against the market's daily limit."""
    if used_today + notional > terms.daily_limit:
        left = max(terms.daily_limit - used_today, Decimal(0))
        return Refusal(
            "over_daily_limit",
            f"this quote's value {_plain(notional)} is over what is left of the user's daily "
            f"limit: {_plain(left)} of {_plain(terms.daily_limit)}",
        )
    return None
