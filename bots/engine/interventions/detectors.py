"""When the desk should step in on a market's price, and which way: the four detectors.

Passive quotes are not always enough (seed 002's price-action service): under heavy one-sided
selling the book empties and the price slides; after a rally the MM bot sits on excess
inventory. Each detector reads plain figures and answers a Finding or None:

- flow: the users' net flow over a window (their buys minus their sells, in base) beyond a
  threshold;
- mid move: the own book's mid away from the hedge venues' reference by more than a percentage;
- book imbalance: within +/-1% of the mid, one side's depth over the other's beyond a ratio;
- inventory: the MM account's base outside its band.

A Finding says which intervention would answer it: a BUYBACK (buy base: the users are selling,
the own mid is under the reference, the asks outweigh the bids, the account holds too little) or
an UNWIND (sell base: the mirror images). Every threshold at 0 switches its detector off.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from bots.engine.books import Levels
from bots.engine.figures import plain
from bots.engine.rules import BUY, ZERO

BUYBACK = "buyback"
UNWIND = "unwind"
KINDS = (BUYBACK, UNWIND)

FLOW = "flow"
MID_MOVE = "mid_move"
IMBALANCE = "imbalance"
INVENTORY = "inventory"
DETECTORS = (FLOW, MID_MOVE, IMBALANCE, INVENTORY)

IMBALANCE_BAND_PCT = Decimal("1")  # the book is read within +/-1% of its mid
MINUTE_MS = 60_000


@dataclass(frozen=True)
class DetectorSettings:
    """One market's detector thresholds (0: that detector is off)."""

    flow_window_minutes: int = 15
    flow_threshold: Decimal = ZERO  # base, users' net flow either way
    mid_move_pct: Decimal = ZERO  # own mid against the hedge venues' reference
    imbalance_ratio: Decimal = ZERO  # the heavier side's depth over the lighter one's, > 1
    inventory_check: bool = True  # the MM account's base against its band (where it has one)


@dataclass(frozen=True)
class Finding:
    detector: str
    kind: str  # BUYBACK or UNWIND
    reason: str
    measured: Decimal  # the figure that crossed its threshold
    threshold: Decimal


@dataclass(frozen=True)
class UserTrade:
    """One user trade on the own book: the user's side (the MM bot took the other)."""

    timestamp_ms: int
    side: str
    amount: Decimal


def net_user_flow(trades: Iterable[UserTrade], now_ms: int, window_minutes: int) -> Decimal:
    """Users' buys minus their sells within the last `window_minutes`, in base."""
    start = now_ms - window_minutes * MINUTE_MS
    return sum(
        (t.amount if t.side == BUY else -t.amount for t in trades if start < t.timestamp_ms <= now_ms),
        ZERO,
    )


def flow_finding(net: Decimal, threshold: Decimal, window_minutes: int, base: str) -> Finding | None:
    if threshold <= 0 or abs(net) <= threshold:
        return None
    selling = net < 0
    return Finding(
        FLOW,
        BUYBACK if selling else UNWIND,
        f"users {'sold' if selling else 'bought'} a net {plain(abs(net))} {base} in "
        f"{window_minutes} min (threshold {plain(threshold)})",
        net,
        threshold,
    )


def mid_move_pct(own_mid: Decimal, reference: Decimal) -> Decimal:
    """How far the own mid sits from the reference, in percent (negative: below it)."""
    return (own_mid - reference) / reference * 100


def mid_move_finding(
    own_mid: Decimal | None, reference: Decimal | None, limit_pct: Decimal
) -> Finding | None:
    if limit_pct <= 0 or own_mid is None or reference is None or reference <= 0:
        return None
    moved = mid_move_pct(own_mid, reference)
    if abs(moved) <= limit_pct:
        return None
    below = moved < 0
    return Finding(
        MID_MOVE,
        BUYBACK if below else UNWIND,
        f"the own mid {plain(own_mid)} is {plain(abs(moved).quantize(Decimal('0.01')))}% "
        f"{'below' if below else 'above'} the hedge venues' {plain(reference)} "
        f"(limit {plain(limit_pct)}%)",
        moved,
        limit_pct,
    )


def depth_near_mid(levels: Levels, mid: Decimal, band_pct: Decimal = IMBALANCE_BAND_PCT) -> Decimal:
    """Base resting within `band_pct` of the mid on one side of the book."""
    edge = mid * band_pct / 100
    return sum((amount for price, amount in levels if abs(price - mid) <= edge), ZERO)


def imbalance_finding(bids: Levels, asks: Levels, ratio_limit: Decimal) -> Finding | None:
    """One side outweighs the other near the mid. An empty side against a full one counts as
    beyond any ratio: that is the book a slide leaves behind."""
    if ratio_limit <= 0 or not bids or not asks:
        return None
    mid = (bids[0][0] + asks[0][0]) / 2
    bid_depth, ask_depth = depth_near_mid(bids, mid), depth_near_mid(asks, mid)
    if bid_depth == ask_depth:
        return None
    heavy, light = max(bid_depth, ask_depth), min(bid_depth, ask_depth)
    if light > 0 and heavy / light <= ratio_limit:
        return None
    asks_heavy = ask_depth > bid_depth
    ratio = heavy / light if light > 0 else heavy
    against = plain(light) if light > 0 else "nothing"
    return Finding(
        IMBALANCE,
        BUYBACK if asks_heavy else UNWIND,
        f"within ±{plain(IMBALANCE_BAND_PCT)}% of the mid the {'asks' if asks_heavy else 'bids'} "
        f"hold {plain(heavy)} against {against} on the other side (limit {plain(ratio_limit)}×)",
        ratio,
        ratio_limit,
    )


@dataclass(frozen=True)
class Band:
    minimum: Decimal
    target: Decimal
    maximum: Decimal


def inventory_finding(held: Decimal, band: Band | None, base: str) -> Finding | None:
    if band is None or band.minimum <= held <= band.maximum:
        return None
    short = held < band.minimum
    edge = band.minimum if short else band.maximum
    return Finding(
        INVENTORY,
        BUYBACK if short else UNWIND,
        f"the MM account holds {plain(held)} {base}, {'under' if short else 'over'} its band's "
        f"{'minimum' if short else 'maximum'} {plain(edge)}",
        held,
        edge,
    )


@dataclass(frozen=True)
class MarketView:
    """What the detectors read of one market at one moment."""

    base: str
    now_ms: int
    user_trades: tuple[UserTrade, ...]
    bids: Levels
    asks: Levels
    reference: Decimal | None  # the hedge venues' mid
    held: Decimal  # the MM account's base
    band: Band | None


def detect(view: MarketView, settings: DetectorSettings) -> list[Finding]:
    """Every detector's finding, in DETECTORS order (none when the market is calm)."""
    own_mid = (view.bids[0][0] + view.asks[0][0]) / 2 if view.bids and view.asks else None
    net = net_user_flow(view.user_trades, view.now_ms, settings.flow_window_minutes)
    found = [
        flow_finding(net, settings.flow_threshold, settings.flow_window_minutes, view.base),
        mid_move_finding(own_mid, view.reference, settings.mid_move_pct),
        imbalance_finding(view.bids, view.asks, settings.imbalance_ratio),
        inventory_finding(view.held, view.band, view.base) if settings.inventory_check else None,
    ]
    return [f for f in found if f is not None]


def verdict(findings: list[Finding]) -> str | None:
    """The one kind of intervention the findings agree on; None when there are none or they pull
    both ways (then a person should look, not a proposal)."""
    kinds = {f.kind for f in findings}
    return kinds.pop() if len(kinds) == 1 else None
