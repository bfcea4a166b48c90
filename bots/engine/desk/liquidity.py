"""How liquid a market's book is, and how each figure stands against the targets it is held to.

The figures are the liquidity playbook's: the spread in bps, the depth a side holds within
+/-0.5%, 1% and 2% of the mid (in quote currency), whether both sides are quoted, the share of
the day they were, and the daily volume. Each is graded green (meets its target), amber (misses
the target but not the alarm line) or red (past the alarm line, or short of a listing rule of
the exchange). Plain Decimal arithmetic on [(price, amount)] levels, best first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from bots.engine.books import Levels, mid_price
from bots.engine.rules import BPS, BUY, SELL

GREEN = "green"
AMBER = "amber"
RED = "red"
SEVERITY = {GREEN: 0, AMBER: 1, RED: 2}

DEPTH_BANDS_PCT = (Decimal("0.5"), Decimal("1"), Decimal("2"))
HUNDRED = Decimal("100")
DAY_SECONDS = Decimal(86400)

# The HollaEx playbook's pairs with the tightest targets (DOMAIN.md).
FLAGSHIP_SYMBOLS = frozenset({"BTC/USDT", "ETH/USDT"})


def spread_bps(bids: Levels, asks: Levels) -> Decimal | None:
    """Best ask minus best bid, in bps of the mid; None unless both sides are quoted."""
    mid = mid_price(bids, asks)
    if mid is None or mid <= 0:
        return None
    return (asks[0][0] - bids[0][0]) / mid * BPS


def depth_within(levels: Levels, mid: Decimal, pct: Decimal, side: str) -> Decimal:
    """Quote currency resting on one side within `pct` percent of `mid`."""
    edge = mid * (1 - pct / HUNDRED) if side == BUY else mid * (1 + pct / HUNDRED)
    total = Decimal("0")
    for price, amount in levels:
        if (side == BUY and price < edge) or (side == SELL and price > edge):
            break  # levels are best first: everything after is further out
        total += price * amount
    return total


@dataclass(frozen=True)
class BookHealth:
    mid: Decimal | None
    spread_bps: Decimal | None
    depth: dict[tuple[str, Decimal], Decimal]  # (side, pct) -> quote currency
    two_sided: bool


def measure(bids: Levels, asks: Levels) -> BookHealth:
    mid = mid_price(bids, asks)
    depth = {
        (side, pct): depth_within(levels, mid, pct, side) if mid else Decimal("0")
        for side, levels in ((BUY, bids), (SELL, asks))
        for pct in DEPTH_BANDS_PCT
    }
    return BookHealth(mid=mid, spread_bps=spread_bps(bids, asks), depth=depth, two_sided=bool(bids and asks))


@dataclass(frozen=True)
class Band:
    """Green at or better than `target`, amber up to `alarm`, red past it."""

    target: Decimal
    alarm: Decimal
    higher_is_better: bool

    def describe(self, unit: str = "") -> str:
        better, worse = ("≥", "<") if self.higher_is_better else ("≤", ">")
        return f"target {better} {self.target.normalize():,f}{unit}, red {worse} {self.alarm.normalize():,f}{unit}"


def grade(value: Decimal | None, band: Band) -> str:
    """A missing figure (no book, no samples) is red: nobody can show the market meets it."""
    if value is None:
        return RED
    if band.higher_is_better:
        return GREEN if value >= band.target else AMBER if value >= band.alarm else RED
    return GREEN if value <= band.target else AMBER if value <= band.alarm else RED


def worst(statuses: Iterable[str]) -> str:
    return max(statuses, key=SEVERITY.__getitem__, default=GREEN)


@dataclass(frozen=True)
class ListingRules:
    """What the exchange requires of a listed market; missing one can mean delisting."""

    max_spread_bps: Decimal
    min_depth: Decimal  # quote currency per side, within depth_pct of the mid
    depth_pct: Decimal
    min_daily_volume: Decimal  # quote currency


@dataclass(frozen=True)
class Targets:
    spread: Band
    depth: dict[Decimal, Band]  # pct -> band, held by each side on its own
    uptime_pct: Band
    listing: ListingRules


def default_targets(symbol: str) -> Targets:
    """The playbook's numbers: flagship pairs at most 10 bps and $50k within 0.5% per side;
    long-tail pairs 30-50 bps and $10k. A flagship pair turns red only where a long-tail one
    would (50 bps). The wider bands, red lines and listing rules are starting points for an
    admin to set to the exchange's own rules."""
    flagship = symbol in FLAGSHIP_SYMBOLS
    spread = Band(Decimal(10), Decimal(50), False) if flagship else Band(Decimal(30), Decimal(50), False)
    depth_05 = Decimal(50_000) if flagship else Decimal(10_000)
    # A wider band holds at least what a narrower one does, so its target is higher; red is
    # the same line for all three: half the 0.5% target.
    depth = {
        pct: Band(depth_05 * factor, depth_05 / 2, True)
        for pct, factor in zip(DEPTH_BANDS_PCT, (Decimal(1), Decimal("1.5"), Decimal(2)), strict=True)
    }
    listing = ListingRules(
        max_spread_bps=Decimal(50) if flagship else Decimal(100),
        min_depth=depth_05 / 2,
        depth_pct=Decimal(2),
        min_daily_volume=Decimal(1_000_000) if flagship else Decimal(50_000),
    )
    return Targets(spread, depth, Band(Decimal(99), Decimal(95), True), listing)


def figure_key(side: str, pct: Decimal) -> str:
    return f"depth_{'bid' if side == BUY else 'ask'}_{pct.normalize():f}"


SPREAD = "spread"
TWO_SIDED = "two_sided"
UPTIME = "uptime"
VOLUME = "volume"
BOOK_FIGURES = (SPREAD, TWO_SIDED) + tuple(
    figure_key(side, pct) for pct in DEPTH_BANDS_PCT for side in (BUY, SELL)
)


def grade_book(health: BookHealth, targets: Targets) -> dict[str, str]:
    """Each figure of the book against its band, a listing rule missed counting as red."""
    listing = targets.listing
    spread = grade(health.spread_bps, targets.spread)
    if health.spread_bps is None or health.spread_bps > listing.max_spread_bps:
        spread = RED
    grades = {SPREAD: spread, TWO_SIDED: GREEN if health.two_sided else RED}
    for (side, pct), amount in health.depth.items():
        status = grade(amount, targets.depth[pct])
        if pct == listing.depth_pct and amount < listing.min_depth:
            status = RED
        grades[figure_key(side, pct)] = status
    return grades


def day_share(observed_seconds: Decimal) -> Decimal:
    """The share of a day the desk has watched a market, at most 1."""
    return min(Decimal(1), max(Decimal(0), observed_seconds) / DAY_SECONDS)


def daily_volume_due(listing: ListingRules, share: Decimal = Decimal(1)) -> Decimal:
    """The volume the listing rule asks of the last 24 h, pro rata while the market has been
    watched for less than a day: a market an hour old is held to an hour's share of the rule
    (on pace), not found in breach for the 23 hours it has not traded yet."""
    return listing.min_daily_volume * share


def meets_listing(health: BookHealth, listing: ListingRules, volume_24h: Decimal | None,
                  share: Decimal = Decimal(1)) -> bool:
    return (
        health.spread_bps is not None
        and health.spread_bps <= listing.max_spread_bps
        and all(health.depth.get((side, listing.depth_pct), Decimal(0)) >= listing.min_depth for side in (BUY, SELL))
        and volume_24h is not None
        and volume_24h >= daily_volume_due(listing, share)
    )


def grade_volume(volume_24h: Decimal | None, listing: ListingRules, share: Decimal = Decimal(1)) -> str:
    return GREEN if volume_24h is not None and volume_24h >= daily_volume_due(listing, share) else RED


def share_pct(part: int, whole: int) -> Decimal | None:
    """`part` of `whole` in percent, one decimal; None when there is nothing to measure."""
    if whole <= 0:
        return None
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class BreachChanges:
    opened: frozenset[str]
    closed: frozenset[str]


def breach_changes(open_figures: Iterable[str], grades: dict[str, str]) -> BreachChanges:
    """Which figures start a breach (red now, none open) and which end one (open, red no more)."""
    red = {figure for figure, status in grades.items() if status == RED}
    already = set(open_figures)
    return BreachChanges(frozenset(red - already), frozenset(already - red))
