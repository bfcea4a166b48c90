"""A market's recent past for its page: inventory, exposure and the P&L split by what made it.

Rebuilt from the desk's records as plain values: each account's holding known at one moment (a
balance reading), the trades and transfers that moved it, the reference price as sampled. No
history table is needed: a level at any moment is the known level moved back (or forward) by the
dated changes in between.

P&L attribution over (start, t], in quote currency. Each trade i has a signed base amount d
(+ bought, - sold), a price p, fees paid in quote f_q and in base f_b, and a reference rho: the
reference at the time of the fill it belongs to (an MM fill's own time; a hedge's, the time of
the fill it answers). R(t) is the reference at t; q(t) the desk's position: the net exposure at
the window's start, moved by the trades since (a transfer is not a trade).

- spread captured  = sum over MM fills     of -d * (p - rho)
- hedge P&L        = sum over hedge trades of -d * (p - rho)
- interventions    = sum over price-action intervention trades of -d * (p - rho), rho the
                     reference at the trade's own time (bots.engine.interventions)
- fees             = sum over all trades   of -(f_q + f_b * R(t_i))
- mark-to-market   = sum over reference moves of q * (R_new - R_old)
                     + sum over trades of d * (R(t_i) - rho) (the hedge P&L carries that move)
- total            = cash in - cash out + q(t) * R(t) - q(start) * R(start)

The parts add up to the total exactly (summation by parts); `total` is computed from the
cash and the position only, so the identity is a check, not a definition.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, localcontext

from bots.engine.rules import BUY, ZERO

MM = "mm"
HEDGE = "hedge"
INTERVENTION = "intervention"
# Sums of products of 8-decimal prices and amounts need more than the default 28 digits to
# stay exact over thousands of trades.
PRECISION = 60


@dataclass(frozen=True)
class Trade:
    """One trade of the desk: an MM fill, a hedge order's fill, a hedge done elsewhere, or an
    intervention's slice."""

    at_ms: int
    leg: str  # MM, HEDGE or INTERVENTION
    side: str  # the desk's side
    amount: Decimal
    price: Decimal
    fee_quote: Decimal = ZERO
    fee_base: Decimal = ZERO
    # The fill whose reference it is judged against; None: its own time.
    reference_ms: int | None = None
    # The followed account whose holding it moves; None: one not followed (a manual hedge).
    account: str | None = None

    @property
    def delta(self) -> Decimal:
        return self.amount if self.side == BUY else -self.amount

    @property
    def position_change(self) -> Decimal:
        return self.delta - self.fee_base


@dataclass(frozen=True)
class Transfer:
    """Base moved between accounts: it leaves `source` when sent, and `amount - fee` reaches
    `destination` when it arrives. Until then it is in flight, counted where it is going, as
    the live exposure counts it. A transfer that failed stops being in flight when it failed."""

    sent_ms: int
    amount: Decimal
    fee: Decimal = ZERO
    source: str | None = None
    destination: str | None = None
    arrived_ms: int | None = None
    failed_ms: int | None = None

    def in_flight_at(self, t: int) -> Decimal:
        if self.destination is None or t < self.sent_ms:
            return ZERO
        end = self.arrived_ms if self.arrived_ms is not None else self.failed_ms
        return ZERO if end is not None and t >= end else self.amount - self.fee


@dataclass(frozen=True)
class Change:
    at_ms: int
    amount: Decimal


class Walk:
    """A level known at one moment, moved by dated changes: its value at any other moment.

    A change at t counts from t on (the level "at t" includes it).
    """

    def __init__(self, value: Decimal, at_ms: int, changes: Iterable[Change]):
        ordered = sorted(changes, key=lambda c: c.at_ms)
        self.times = [c.at_ms for c in ordered]
        self.sums = [ZERO]
        for c in ordered:
            self.sums.append(self.sums[-1] + c.amount)
        self.base = value - self._upto(at_ms)

    def _upto(self, t: int) -> Decimal:
        return self.sums[bisect_right(self.times, t)]

    def at(self, t: int) -> Decimal:
        return self.base + self._upto(t)


class Reference:
    """The reference price as sampled: the latest sample at or before a moment, the earliest one
    before any."""

    def __init__(self, samples: Iterable[tuple[int, Decimal]]):
        ordered = sorted(samples, key=lambda s: s[0])
        self.times = [t for t, _ in ordered]
        self.prices = [p for _, p in ordered]

    def __bool__(self) -> bool:
        return bool(self.times)

    def at(self, t: int) -> Decimal:
        i = bisect_right(self.times, t)
        return self.prices[max(i - 1, 0)]

    def moves(self, after: int, upto: int) -> list[tuple[int, Decimal]]:
        i, j = bisect_right(self.times, after), bisect_right(self.times, upto)
        return list(zip(self.times[i:j], self.prices[i:j], strict=True))


def bucket_ends(now_ms: int, bucket_ms: int, points: int) -> tuple[int, list[int]]:
    """A window of whole clock buckets (k*B, (k+1)*B], the last one ending now: its start and
    each bucket's end. Whole buckets, so every page and every push agree on where they fall."""
    if bucket_ms <= 0 or points < 1:
        raise ValueError("a bucket must last a while and a window hold at least one")
    current = (now_ms - 1) // bucket_ms
    first = current - points + 1
    ends = [(j + 1) * bucket_ms for j in range(first, current)] + [now_ms]
    return first * bucket_ms, ends


@dataclass
class Attribution:
    """Cumulative P&L from the window's start to each end, by part; `total` from cash and
    position alone."""

    spread: list[Decimal] = field(default_factory=list)
    hedge: list[Decimal] = field(default_factory=list)
    intervention: list[Decimal] = field(default_factory=list)
    fees: list[Decimal] = field(default_factory=list)
    mtm: list[Decimal] = field(default_factory=list)
    total: list[Decimal] = field(default_factory=list)

    PARTS = ("spread", "hedge", "intervention", "fees", "mtm")


def attribute(
    trades: Sequence[Trade],
    reference: Reference,
    position_now: Decimal,
    now_ms: int,
    start_ms: int,
    ends: Sequence[int],
) -> Attribution | None:
    """The P&L of the trades in (start, end] and of the position held, for each end (ascending,
    none after now). `trades` must hold every trade after `start_ms`: the position at any moment
    is `position_now` moved back by them. None without a reference price to judge against."""
    if not reference:
        return None
    out = Attribution()
    with localcontext() as ctx:
        ctx.prec = PRECISION
        position = Walk(position_now, now_ms, [Change(t.at_ms, t.position_change) for t in trades])
        last = ends[-1] if ends else start_ms
        # At one moment the reference moves first: a trade is judged against its own moment's.
        events = [(at, 0, price) for at, price in reference.moves(start_ms, last)]
        events += [(t.at_ms, 1, t) for t in trades if start_ms < t.at_ms <= last]
        events.sort(key=lambda e: (e[0], e[1]))
        q, r = position.at(start_ms), reference.at(start_ms)
        opening = q * r
        cash = spread = hedge = intervention = fees = mtm = ZERO
        i = 0
        for end in ends:
            while i < len(events) and events[i][0] <= end:
                at, kind, item = events[i]
                i += 1
                if kind == 0:
                    mtm += q * (item - r)
                    r = item
                    continue
                rho = r if item.reference_ms is None else reference.at(item.reference_ms)
                gain = -item.delta * (item.price - rho)
                if item.leg == MM:
                    spread += gain
                elif item.leg == INTERVENTION:
                    intervention += gain
                else:
                    hedge += gain
                fees -= item.fee_quote + item.fee_base * r
                mtm += item.delta * (r - rho)
                cash -= item.delta * item.price + item.fee_quote
                q += item.position_change
            out.spread.append(spread)
            out.hedge.append(hedge)
            out.intervention.append(intervention)
            out.fees.append(fees)
            out.mtm.append(mtm)
            out.total.append(cash + q * r - opening)
    return out


@dataclass
class History:
    start_ms: int
    ends: list[int]
    holdings: dict[str, list[Decimal]]  # per followed account with a known holding
    in_flight: list[Decimal]
    held: list[Decimal]  # every holding plus what is in flight
    exposure: list[Decimal]  # held minus the target
    unhedged: list[Decimal]  # MM fills' base not yet hedged: MM buys minus MM sells
    pnl: Attribution | None


def market_history(
    *,
    now_ms: int,
    start_ms: int,
    ends: Sequence[int],
    target: Decimal,
    anchors: dict[str, tuple[Decimal, int]],
    trades: Sequence[Trade],
    transfers: Sequence[Transfer] = (),
    unhedged_now: Decimal = ZERO,
    unhedged_changes: Sequence[Change] = (),
    references: Iterable[tuple[int, Decimal]] = (),
) -> History:
    """Every series of the market page's history at `ends` (the last one `now_ms`).

    `anchors`: per followed account, its base holding and when it was read. `trades` and
    `transfers`: everything after `start_ms` and after the oldest anchor. The P&L position is
    the net exposure at the window's start, moved by the trades since and by nothing else: a
    transfer (and its fee) moves holdings and exposure but is not trading, so it never moves
    the P&L.
    """
    holdings: dict[str, list[Decimal]] = {}
    opening = ZERO  # the exposure at the window's start
    for key, (value, at) in anchors.items():
        changes = [Change(t.at_ms, t.position_change) for t in trades if t.account == key]
        for tr in transfers:
            if tr.source == key:
                changes.append(Change(tr.sent_ms, -tr.amount))
            if tr.destination == key and tr.arrived_ms is not None:
                changes.append(Change(tr.arrived_ms, tr.amount - tr.fee))
        walk = Walk(value, at, changes)
        holdings[key] = [walk.at(e) for e in ends]
        opening += walk.at(start_ms)
    opening += sum((tr.in_flight_at(start_ms) for tr in transfers), ZERO) - target
    in_flight = [sum((tr.in_flight_at(e) for tr in transfers), ZERO) for e in ends]
    held = [sum((h[i] for h in holdings.values()), ZERO) + in_flight[i] for i in range(len(ends))]
    unhedged_walk = Walk(unhedged_now, now_ms, unhedged_changes)
    # The P&L's position: the exposure at the start, moved by the trades since (not transfers).
    position_now = opening + sum(
        (t.position_change for t in trades if start_ms < t.at_ms <= now_ms), ZERO
    )
    return History(
        start_ms=start_ms,
        ends=list(ends),
        holdings=holdings,
        in_flight=in_flight,
        held=held,
        exposure=[h - target for h in held],
        unhedged=[unhedged_walk.at(e) for e in ends],
        pnl=attribute(trades, Reference(references), position_now, now_ms, start_ms, ends),
    )
