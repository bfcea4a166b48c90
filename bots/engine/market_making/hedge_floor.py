"""The hedge-aware floor: the worst price each level may have and still earn after its hedge.

An ask the MM bot sells is hedged by buying the same size on a hedge venue, a bid by selling
there. So the reference is the hedge venues' books, never a last price: an ask of `amount`,
quoted beyond `before` already quoted nearer the mid, must cover

    what buying those units costs on the best hedge venue that has the balance for it
    (volume-weighted over the book, taker fee included) ... grossed up by the own venue's maker
    fee and the buffer,

and a bid must stay under what selling them there yields, less the same. The cost of "those
units" is the larger of the volume-weighted price of the whole cumulative size and the marginal
price of this level's slice: a user who sweeps several levels gets several fills, hedged one
after another against a book the earlier hedges already ate into.

Edge is the quote's profit per unit after both fees, as bps of the quote's price.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bots.engine.books import Levels, sweep
from bots.engine.rules import BPS, SELL, ZERO


@dataclass(frozen=True)
class HedgeVenue:
    """One hedge venue as a tick sees it: its book, its taker fee, the hedge account's funds."""

    name: str
    bids: Levels
    asks: Levels
    taker_fee: Decimal
    free_base: Decimal
    free_quote: Decimal

    def mid(self) -> Decimal | None:
        if not self.bids or not self.asks:
            return None
        return (self.bids[0][0] + self.asks[0][0]) / 2


@dataclass(frozen=True)
class HedgeCost:
    venue: str
    unit: Decimal  # per base unit, fees included: what hedging costs (asks) or yields (bids)


class HedgeFloor:
    def __init__(self, venues: list[HedgeVenue], own_maker_fee: Decimal, buffer_bps: Decimal):
        self.venues = [v for v in venues if v.bids and v.asks]
        self.maker_fee = own_maker_fee
        self.buffer = buffer_bps / BPS
        self._totals: dict[tuple[str, Decimal], tuple[Decimal, str] | None] = {}
        # A tick asks about the same levels several times (quote, plan, edges): answer once.
        self._costs: dict[tuple[str, Decimal, Decimal], HedgeCost | None] = {}

    def reference(self) -> Decimal | None:
        """The mid of the best bid and best ask across the hedge venues."""
        if not self.venues:
            return None
        best_bid = max(v.bids[0][0] for v in self.venues)
        best_ask = min(v.asks[0][0] for v in self.venues)
        return (best_bid + best_ask) / 2

    def _total(self, mm_side: str, size: Decimal) -> tuple[Decimal, str] | None:
        """(what hedging `size` costs or yields in total, venue) on the best venue able to."""
        if size <= 0:
            return ZERO, ""
        key = (mm_side, size)
        if key not in self._totals:
            self._totals[key] = self._best_total(mm_side, size)
        return self._totals[key]

    def _best_total(self, mm_side: str, size: Decimal) -> tuple[Decimal, str] | None:
        best: tuple[Decimal, str] | None = None
        for venue in self.venues:
            book = venue.asks if mm_side == SELL else venue.bids
            swept = sweep(book, size)
            if swept is None or swept[2] < size:
                continue  # the book is too thin for this size
            if mm_side == SELL:
                total = swept[0] * size * (1 + venue.taker_fee)
                if total > venue.free_quote:
                    continue  # the hedge account cannot pay for the buy
                if best is None or total < best[0]:
                    best = (total, venue.name)
            else:
                if size > venue.free_base:
                    continue  # the hedge account does not hold what it would sell
                total = swept[0] * size * (1 - venue.taker_fee)
                if best is None or total > best[0]:
                    best = (total, venue.name)
        return best

    def hedge_cost(self, mm_side: str, before: Decimal, amount: Decimal) -> HedgeCost | None:
        """Per unit, what hedging a level of `amount` quoted beyond `before` costs or yields."""
        key = (mm_side, before, amount)
        if key not in self._costs:
            self._costs[key] = self._hedge_cost(mm_side, before, amount)
        return self._costs[key]

    def _hedge_cost(self, mm_side: str, before: Decimal, amount: Decimal) -> HedgeCost | None:
        whole = self._total(mm_side, before + amount)
        nearer = self._total(mm_side, before)
        if whole is None or nearer is None or amount <= 0:
            return None
        average = whole[0] / (before + amount)
        marginal = (whole[0] - nearer[0]) / amount
        unit = max(average, marginal) if mm_side == SELL else min(average, marginal)
        return HedgeCost(whole[1], unit)

    def limit(self, mm_side: str, before: Decimal, amount: Decimal) -> Decimal | None:
        """The lowest ask (highest bid) price that keeps the buffer; None if it cannot be hedged."""
        cost = self.hedge_cost(mm_side, before, amount)
        if cost is None:
            return None
        if mm_side == SELL:
            keep = 1 - self.maker_fee - self.buffer
            return cost.unit / keep if keep > 0 else None
        return cost.unit / (1 + self.maker_fee + self.buffer)

    def edge_bps(self, mm_side: str, price: Decimal, before: Decimal, amount: Decimal) -> Decimal | None:
        cost = self.hedge_cost(mm_side, before, amount)
        if cost is None or price <= 0:
            return None
        if mm_side == SELL:
            gain = price * (1 - self.maker_fee) - cost.unit
        else:
            gain = cost.unit - price * (1 + self.maker_fee)
        return gain / price * BPS

    def respects(self, mm_side: str, price: Decimal, before: Decimal, amount: Decimal) -> bool:
        limit = self.limit(mm_side, before, amount)
        if limit is None:
            return False
        return price >= limit if mm_side == SELL else price <= limit

    def marked_up(self, mm_side: str, price: Decimal, venue: HedgeVenue) -> Decimal:
        """A hedge book price grossed up by that venue's taker fee, the own maker fee and the
        buffer: mirror mode's price for the level that copies it."""
        if mm_side == SELL:
            return price * (1 + venue.taker_fee) / (1 - self.maker_fee - self.buffer)
        return price * (1 - venue.taker_fee) / (1 + self.maker_fee + self.buffer)

    def mirror_source(self, mm_side: str) -> HedgeVenue | None:
        """The venue whose depth mirror mode shows: the best net price for a first unit, among
        the venues that can hedge it."""
        best: tuple[Decimal, HedgeVenue] | None = None
        for venue in self.venues:
            funded = venue.free_quote > 0 if mm_side == SELL else venue.free_base > 0
            if not funded:
                continue
            if mm_side == SELL:
                net = venue.asks[0][0] * (1 + venue.taker_fee)
                better = best is None or net < best[0]
            else:
                net = venue.bids[0][0] * (1 - venue.taker_fee)
                better = best is None or net > best[0]
            if better:
                best = (net, venue)
        return best[1] if best else None
