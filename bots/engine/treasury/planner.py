"""Rebalance planning: the fewest transfers that bring every account back inside its bands.

Perfect hedging still drains one asset from the market-making account and piles it up in the
hedge account; only a withdrawal from one venue to the other fixes that. This module decides
which withdrawals, as data; people approve them (bots.treasury.rebalancing) and exchanges carry them out.

The planner works one asset at a time on exact integers: every amount is a whole number of the
asset's withdrawal step, so rounding can never push a plan outside a limit it was checked
against. For a chosen set of transfers the amounts are found as a feasible flow (a circulation
with lower bounds, solved by max-flow); sets are tried smallest first, so the first size that
works is the smallest plan. The guarantees (tests/engine/test_rebalance_planner.py checks each
as a property, all but the tie-breaks):

- no account sends more than its free balance minus its reserve;
- no transfer is below its route's minimum, or pays a fee above `max_fee_share` of its amount;
- no account both sends and receives one asset in a plan (no cycle, no relaying that pays two
  fees), and no transfer runs against one already in flight or proposed (`forbidden`);
- when some plan can bring every account inside its band, the plan does, with as few transfers
  as any such plan; among those, the cheapest in fees, then the one that lands nearest to the
  targets;
- otherwise the best partial plan: every out-of-band account that some plan can help is moved
  the same largest possible fraction of the way back to its band, without pushing any in-band
  account out.

bench/rebalance_planner.py times it; docs/performance.md quotes the figures.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext
from itertools import combinations, product

from bots.engine.figures import in_asset

ZERO = Decimal("0")
# Each account pair can be joined by several networks, and the exact search below is
# exponential in the number of candidate routes: a desk spreads an asset over a handful of
# accounts, and this bound keeps one planning run under a second (bench/rebalance_planner.py).
MAX_ACCOUNTS_PER_ASSET = 5
MAX_CHECKS = 20_000  # sets of routes tried for one asset in one search, at most
# The searches below work in whole steps of a fraction: how far back towards its band an
# account must come (in thousandths: the partial plan), and how close to the targets a complete
# plan lands (in millionths: a thousandth of a wide USDT band would still be dollars).
RESOLUTION = 1000
TARGET_RESOLUTION = 1_000_000

BELOW, INSIDE, ABOVE = "below", "inside", "above"


# Per account, how much of the way back to its band may be left undone (in thousandths).
Relaxation = dict[str, int]


class PlannerLimit(ValueError):
    """The input is larger than the exact search is meant for."""


@dataclass(frozen=True)
class Band:
    """Where an account's holding of one asset should stay: minimum <= target <= maximum."""

    minimum: Decimal
    target: Decimal
    maximum: Decimal

    def __post_init__(self):
        if not ZERO <= self.minimum <= self.target <= self.maximum:
            raise ValueError(
                f"a band needs 0 <= minimum <= target <= maximum, not "
                f"{self.minimum} / {self.target} / {self.maximum}"
            )

    def status(self, amount: Decimal) -> str:
        if amount < self.minimum:
            return BELOW
        return ABOVE if amount > self.maximum else INSIDE


@dataclass(frozen=True)
class Holding:
    """One account's holding of one asset, as the planner sees it.

    `total` is what the venue reports (free plus in orders); `incoming` is what is already in
    flight towards the account, net of fees: it counts where it is going. Only `free` minus
    `reserve` may ever be sent.
    """

    account: str
    label: str
    asset: str
    free: Decimal
    total: Decimal
    band: Band | None
    incoming: Decimal = ZERO
    reserve: Decimal = ZERO
    note: str = ""  # why the band was tightened, e.g. a runway under its threshold
    set_band: Band | None = None  # the band as set, when `band` was tightened for this plan

    @property
    def position(self) -> Decimal:
        return self.total + self.incoming

    @property
    def sendable(self) -> Decimal:
        return max(ZERO, self.free - self.reserve)


@dataclass(frozen=True)
class Route:
    """A way to move `asset` from one account to another: the source venue's withdrawal terms
    on one network. Fees are charged in the asset and taken out of the amount sent."""

    source: str
    destination: str
    asset: str
    network: str
    fee: Decimal
    minimum: Decimal
    step: Decimal  # withdrawal precision: a power of ten, e.g. 0.00000001
    arrival_seconds: int


@dataclass(frozen=True)
class Transfer:
    source: str
    destination: str
    asset: str
    network: str
    amount: Decimal  # leaves the source
    fee: Decimal
    arrival_seconds: int
    reason: str
    source_before: Decimal
    source_after: Decimal
    destination_before: Decimal
    destination_after: Decimal

    @property
    def received(self) -> Decimal:
        return self.amount - self.fee


@dataclass(frozen=True)
class Outcome:
    account: str
    label: str
    band: Band
    before: Decimal
    after: Decimal

    @property
    def status_before(self) -> str:
        return self.band.status(self.before)

    @property
    def status_after(self) -> str:
        return self.band.status(self.after)


@dataclass(frozen=True)
class AssetPlan:
    asset: str
    transfers: tuple[Transfer, ...]
    outcomes: tuple[Outcome, ...]

    @property
    def complete(self) -> bool:
        """Every account inside its band once the transfers (and those in flight) arrive."""
        return all(o.status_after == INSIDE for o in self.outcomes)

    @property
    def out_of_band(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.status_after != INSIDE)


# --- the plan ---------------------------------------------------------------------------------


def plan(
    holdings: Iterable[Holding],
    routes: Iterable[Route],
    max_fee_share: Decimal,
    forbidden: Iterable[tuple[str, str, str]] = (),
) -> list[AssetPlan]:
    """One plan per asset that has banded holdings, assets in name order.

    `forbidden` lists (source, destination, asset) triples no transfer may take: the reverse
    of every transfer in flight or awaiting approval, so the desk never sends an asset back
    the way it is coming.
    """
    if not ZERO < max_fee_share < 1:
        raise ValueError(f"max_fee_share must be between 0 and 1, not {max_fee_share}")
    by_asset: dict[str, list[Holding]] = {}
    for holding in holdings:
        if holding.band is not None:
            by_asset.setdefault(holding.asset, []).append(holding)
    routes = list(routes)
    blocked = set(forbidden)
    return [
        plan_asset(
            by_asset[asset],
            [r for r in routes if r.asset == asset],
            max_fee_share,
            {(s, d) for s, d, a in blocked if a == asset},
        )
        for asset in sorted(by_asset)
    ]


def plan_asset(
    holdings: Sequence[Holding],
    routes: Sequence[Route],
    max_fee_share: Decimal,
    forbidden: set[tuple[str, str]] = frozenset(),
) -> AssetPlan:
    holdings = sorted(holdings, key=lambda h: h.account)
    if len({h.asset for h in holdings}) > 1:
        raise ValueError("plan_asset takes the holdings of one asset")
    if len({h.account for h in holdings}) != len(holdings):
        raise ValueError("one holding per account")
    if len(holdings) > MAX_ACCOUNTS_PER_ASSET:
        raise PlannerLimit(
            f"{len(holdings)} accounts hold {holdings[0].asset} with a band; the planner "
            f"searches exactly and takes at most {MAX_ACCOUNTS_PER_ASSET}"
        )
    asset = holdings[0].asset if holdings else ""
    with localcontext() as context:
        # Balances of 11 integer digits with 18 decimals overflow the default 28 digits.
        context.prec = 80
        problem = _Problem(holdings, routes, max_fee_share, forbidden)
        flows = problem.solve()
    return _describe(asset, holdings, flows, problem.unit)


# --- the search -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Edge:
    source: str
    destination: str
    route: Route
    lower: int  # the smallest amount this route may carry, in units


class _Problem:
    def __init__(self, holdings, routes, max_fee_share, forbidden):
        self.holdings = {h.account: h for h in holdings}
        accounts = set(self.holdings)
        usable = [
            r
            for r in routes
            if r.source in accounts
            and r.destination in accounts
            and r.source != r.destination
            and (r.source, r.destination) not in forbidden
        ]
        coarsest = max((r.step for r in usable), default=Decimal(1))
        for r in usable:
            if r.step <= 0 or coarsest % r.step:
                raise ValueError(f"withdrawal steps must be powers of ten, not {r.step}")
        # A route whose source cannot send even its smallest amount carries nothing in any plan:
        # left out before the unit is chosen, or its coarse step would hold every other route to
        # whole multiples of it (a 0.01 transfer made impossible by an empty account's 0.1 route).
        usable = [
            r for r in usable
            if _least(r, r.step, max_fee_share) * r.step <= self.holdings[r.source].sendable
        ]
        # One unit for the whole asset: the coarsest step, a multiple of every finer one.
        self.unit = max((r.step for r in usable), default=Decimal(1))
        self.max_fee_share = max_fee_share
        edges = []
        for r in sorted(usable, key=lambda r: (r.source, r.destination, r.fee, r.network)):
            lower = _least(r, self.unit, max_fee_share)
            source = self.holdings[r.source]
            if lower * self.unit <= source.sendable:
                edges.append(_Edge(r.source, r.destination, r, lower))
        self.edges = edges

    # The interval an account's holding must end in. mu relaxes an out-of-band account towards
    # where it is (RESOLUTION: no improvement asked); lam tightens towards the target.
    def interval(self, account: str, mu: Relaxation, lam: int) -> tuple[Decimal, Decimal]:
        h = self.holdings[account]
        band, p = h.band, h.position
        lo, hi = band.minimum, band.maximum
        keep = RESOLUTION - mu.get(account, 0)
        if p < lo:
            lo = p + (lo - p) * keep / RESOLUTION
        elif p > hi:
            hi = p - (p - hi) * keep / RESOLUTION
        if lam:
            lo = lo + (max(band.target, lo) - lo) * lam / TARGET_RESOLUTION
            hi = hi - (hi - min(band.target, hi)) * lam / TARGET_RESOLUTION
        return lo, hi

    def solve(self) -> dict[_Edge, int]:
        exact: Relaxation = {}
        if self._feasible_without(exact):
            return {}
        flows = self._smallest(exact)
        if flows is not None:
            return self._nearest_target(flows)
        # No complete plan. Accounts no plan can improve at all stay where they are; the
        # others are moved back the same largest fraction of their way that any plan allows.
        out = [a for a in self.holdings if not self._contains(a, exact)]
        left = {a: RESOLUTION for a in out}
        some = RESOLUTION - 1  # a thousandth of the way back: any transfer at all
        group: list[str] = []
        for account in sorted(out, key=self._gap_share, reverse=True):
            trial = {**left, **{a: some for a in [*group, account]}}
            if self._smallest(trial, cheapest=False) is not None:
                group.append(account)
        if not group:
            return {}

        def relaxed(mu: int) -> Relaxation:
            return {**left, **{a: mu for a in group}}

        low, high = -1, some  # infeasible at low (or unknown), feasible at high
        while high - low > 1:
            middle = (low + high) // 2
            if self._smallest(relaxed(middle), cheapest=False) is not None:
                high = middle
            else:
                low = middle
        return self._smallest(relaxed(high)) or {}

    def _gap_share(self, account: str) -> Decimal:
        """How far out of its band an account is, relative to the band's width (worst first)."""
        h = self.holdings[account]
        gap = max(h.band.minimum - h.position, h.position - h.band.maximum)
        return gap / max(h.band.maximum - h.band.minimum, self.unit)

    def _feasible_without(self, mu: Relaxation) -> bool:
        return all(self._contains(a, mu) for a in self.holdings)

    def _contains(self, account: str, mu: Relaxation) -> bool:
        lo, hi = self.interval(account, mu, 0)
        return lo <= self.holdings[account].position <= hi

    def _smallest(self, mu: Relaxation, cheapest: bool = True) -> dict[_Edge, int] | None:
        """The cheapest feasible plan among those with the fewest transfers, or None; with
        `cheapest` False, any plan of the fewest transfers (all a search probe needs)."""
        if not self._relaxation_feasible(mu):
            return None
        bounds = {a: self.interval(a, mu, 0) for a in self.holdings}
        must_receive = {a for a, h in self.holdings.items() if bounds[a][0] > h.position}
        must_send = {a for a, h in self.holdings.items() if bounds[a][1] < h.position}
        by_pair: dict[tuple[str, str], list[_Edge]] = {}
        for e in self.edges:
            s, d = self.holdings[e.source], self.holdings[e.destination]
            least = e.lower * self.unit
            if (
                e.source in must_receive
                or e.destination in must_send
                or least > s.position - bounds[e.source][0]
                or least - e.route.fee > bounds[e.destination][1] - d.position
            ):
                continue  # this route cannot be part of any plan at this mu
            by_pair.setdefault((e.source, e.destination), []).append(e)
        pairs = sorted(by_pair)
        n = len(self.holdings)
        most = (n // 2) * ((n + 1) // 2)  # a bipartite graph on n accounts has no more edges
        checks = 0
        for size in range(max(1, len(must_receive), len(must_send)), most + 1):
            found = []
            for chosen in combinations(pairs, size):
                sources = {s for s, _ in chosen}
                destinations = {d for _, d in chosen}
                if sources & destinations or not (
                    must_receive <= destinations and must_send <= sources
                ):
                    continue
                options = [by_pair[pair] for pair in chosen]
                if len(options) != sum(map(len, options)) and not self._any_network(options, mu):
                    continue
                for edges in product(*options):
                    checks += 1
                    if checks > MAX_CHECKS:
                        raise PlannerLimit(
                            f"the search over {n} accounts tried {MAX_CHECKS} sets of routes "
                            "without an answer; give the accounts fewer networks"
                        )
                    flows = self._flows(edges, mu, 0)
                    if flows is not None:
                        if not cheapest:
                            return flows
                        found.append(flows)
            if found:
                return min(
                    found,
                    key=lambda f: (
                        sum(e.route.fee for e in f),
                        max(e.route.arrival_seconds for e in f),
                    ),
                )
        return None

    def _nearest_target(self, flows: dict[_Edge, int]) -> dict[_Edge, int]:
        """Among feasible amounts on these routes, those that land closest to the targets."""
        edges = tuple(flows)
        low, high = 0, TARGET_RESOLUTION
        best = flows
        while high - low > 1:
            middle = (low + high) // 2
            tighter = self._flows(edges, {}, middle)
            if tighter is None:
                high = middle
            else:
                low, best = middle, tighter
        return best

    def _any_network(self, options: list[list[_Edge]], mu: Relaxation) -> bool:
        """Whether any choice of networks on these pairs could work: one max-flow for them all,
        each pair at its smallest minimum and each destination paying between its cheapest and
        its dearest fees. Spares trying every combination of networks of a hopeless set."""
        stand_ins = tuple(
            _Edge(o[0].source, o[0].destination, o[0].route, min(e.lower for e in o))
            for o in options
        )
        fees: dict[str, tuple[Decimal, Decimal]] = {}
        for o in options:
            least, most = fees.get(o[0].destination, (ZERO, ZERO))
            fees[o[0].destination] = (
                least + min(e.route.fee for e in o),
                most + max(e.route.fee for e in o),
            )
        return self._flows(stand_ins, mu, 0, fees) is not None

    def _flows(
        self,
        edges: tuple[_Edge, ...],
        mu: Relaxation,
        lam: int,
        fees: dict[str, tuple[Decimal, Decimal]] | None = None,
    ) -> dict[_Edge, int] | None:
        """Whole-unit amounts on `edges` that leave every account in its interval, or None.

        `fees` gives each destination's (least, most) total fee when the edges stand for several
        networks at once; by default each edge pays its own route's fee.
        """
        unit = self.unit
        touched = {e.source for e in edges} | {e.destination for e in edges}
        for account in self.holdings:
            if account not in touched and not self._contains(account, mu):
                return None
        nodes: dict[str, tuple[int, int]] = {}
        for account in touched:
            h = self.holdings[account]
            lo, hi = self.interval(account, mu, lam)
            if any(e.source == account for e in edges):
                low = _ceil(max(ZERO, h.position - hi) / unit)
                high = _floor(min(h.sendable, h.position - lo) / unit)
            else:
                paid = sum((e.route.fee for e in edges if e.destination == account), ZERO)
                least, most = fees[account] if fees else (paid, paid)
                low = max(0, _ceil((lo - h.position + least) / unit))
                high = _floor((hi - h.position + most) / unit)
            if high < low:
                return None
            nodes[account] = (low, high)
        return _circulation(edges, nodes)

    def _relaxation_feasible(self, mu: Relaxation) -> bool:
        """A necessary condition, one max-flow: every route open at once, no minimums, each
        destination credited anywhere between no fee and every fee. Spares the search the
        many sets of routes that cannot work."""
        unit = self.unit
        nodes = {}
        for account, h in self.holdings.items():
            lo, hi = self.interval(account, mu, 0)
            fees = sum((e.route.fee for e in self.edges if e.destination == account), ZERO)
            send_low = _ceil(max(ZERO, h.position - hi) / unit)
            send_high = _floor(max(ZERO, min(h.sendable, h.position - lo)) / unit)
            take_low = max(0, _ceil((lo - h.position) / unit))
            take_high = max(0, _floor((hi - h.position + fees) / unit))
            if send_high < send_low or take_high < take_low:
                return False
            nodes[account] = (send_low, send_high, take_low, take_high)
        return _relaxed_circulation(self.edges, nodes)


def _least(route: Route, unit: Decimal, max_fee_share: Decimal) -> int:
    """The smallest amount the route may carry, in whole `unit`s: at least its minimum, more
    than its fee (something must arrive), and enough that the fee stays within its share."""
    return max(
        _ceil(route.minimum / unit),
        _floor(route.fee / unit) + 1,
        _ceil(route.fee / max_fee_share / unit),
    )


# --- flows ------------------------------------------------------------------------------------


def _circulation(
    edges: tuple[_Edge, ...], nodes: dict[str, tuple[int, int]]
) -> dict[_Edge, int] | None:
    """A circulation with lower bounds: source -> each sender [low, high], sender -> receiver
    [edge minimum, unbounded], receiver -> sink [low, high], sink -> source unbounded."""
    graph = _Graph()
    infinite = sum(high for _, high in nodes.values()) + 1
    for account, (low, high) in nodes.items():
        if any(e.source == account for e in edges):
            graph.bounded("S", ("out", account), low, high)
        else:
            graph.bounded(("in", account), "T", low, high)
    handles = {
        e: graph.bounded(("out", e.source), ("in", e.destination), e.lower, infinite) for e in edges
    }
    graph.bounded("T", "S", 0, infinite)
    if not graph.feasible():
        return None
    return {e: e.lower + graph.flow(handle) for e, handle in handles.items()}


def _relaxed_circulation(edges: list[_Edge], nodes: dict[str, tuple[int, int, int, int]]) -> bool:
    graph = _Graph()
    infinite = sum(v[1] + v[3] for v in nodes.values()) + 1
    for account, (send_low, send_high, take_low, take_high) in nodes.items():
        graph.bounded("S", ("out", account), send_low, send_high)
        graph.bounded(("in", account), "T", take_low, take_high)
    for e in edges:
        graph.bounded(("out", e.source), ("in", e.destination), 0, infinite)
    graph.bounded("T", "S", 0, infinite)
    return graph.feasible()


class _Graph:
    """Max-flow (Edmonds-Karp) on integers, with the textbook reduction for lower bounds."""

    def __init__(self):
        self.capacity: dict[tuple, int] = {}
        self.neighbours: dict[object, set] = {}
        self.excess: dict[object, int] = {}
        self.initial: dict[tuple, int] = {}

    def _arc(self, u, v, capacity: int):
        self.capacity[(u, v)] = self.capacity.get((u, v), 0) + capacity
        self.capacity.setdefault((v, u), 0)
        self.neighbours.setdefault(u, set()).add(v)
        self.neighbours.setdefault(v, set()).add(u)

    def bounded(self, u, v, low: int, high: int) -> tuple:
        key = ("edge", len(self.initial))
        # Each bounded edge gets a node of its own in the middle, so parallel edges between
        # the same two nodes stay apart and the flow on each one can be read back.
        self._arc(u, key, high - low)
        self._arc(key, v, high - low)
        self.initial[(u, key)] = high - low
        self.excess[v] = self.excess.get(v, 0) + low
        self.excess[u] = self.excess.get(u, 0) - low
        return (u, key)

    def feasible(self) -> bool:
        demand = 0
        for node, excess in self.excess.items():
            if excess > 0:
                self._arc("S*", node, excess)
                demand += excess
            elif excess < 0:
                self._arc(node, "T*", -excess)
        return self._max_flow("S*", "T*") == demand

    def flow(self, handle: tuple) -> int:
        return self.initial[handle] - self.capacity[handle]

    def _max_flow(self, source, sink) -> int:
        total = 0
        while True:
            parent = {source: None}
            queue = deque([source])
            while queue and sink not in parent:
                u = queue.popleft()
                for v in self.neighbours.get(u, ()):
                    if v not in parent and self.capacity[(u, v)] > 0:
                        parent[v] = u
                        queue.append(v)
            if sink not in parent:
                return total
            path, v = [], sink
            while parent[v] is not None:
                path.append((parent[v], v))
                v = parent[v]
            push = min(self.capacity[arc] for arc in path)
            for u, v in path:
                self.capacity[(u, v)] -= push
                self.capacity[(v, u)] += push
            total += push


# --- describing the result --------------------------------------------------------------------


def _describe(asset: str, holdings: Sequence[Holding], flows: dict, unit: Decimal) -> AssetPlan:
    after = {h.account: h.position for h in holdings}
    by_account = {h.account: h for h in holdings}
    transfers = []
    for edge, units in sorted(flows.items(), key=lambda kv: (kv[0].source, kv[0].destination)):
        amount = (units * unit).normalize()
        fee = edge.route.fee
        after[edge.source] -= amount
        after[edge.destination] += amount - fee
        source, destination = by_account[edge.source], by_account[edge.destination]
        transfers.append(
            Transfer(
                source=edge.source,
                destination=edge.destination,
                asset=asset,
                network=edge.route.network,
                amount=amount,
                fee=fee,
                arrival_seconds=edge.route.arrival_seconds,
                reason=f"{why(destination)}; {why(source)}",
                source_before=source.position,
                source_after=source.position - amount,
                destination_before=destination.position,
                destination_after=destination.position + amount - fee,
            )
        )
    outcomes = tuple(
        Outcome(h.account, h.label, h.band, h.position, after[h.account]) for h in holdings
    )
    return AssetPlan(asset, tuple(transfers), outcomes)


def why(h: Holding) -> str:
    """What an account's holding says about its band, for a proposal's reason, every figure
    with the asset's decimals as the page shows it."""
    band, asset = h.set_band or h.band, h.asset
    status = band.status(h.position)
    text = f"{h.label} holds {in_asset(h.position, asset)} {asset}, "
    if status == BELOW:
        text += f"below its minimum {in_asset(band.minimum, asset)}"
    elif status == ABOVE:
        text += f"above its maximum {in_asset(band.maximum, asset)}"
    else:
        text += "inside its band"
    if h.incoming:
        text += f" (counting {in_asset(h.incoming, asset)} in flight)"
    return f"{text}; {h.note}" if h.note else text


def _ceil(value: Decimal) -> int:
    return int(value.to_integral_value(ROUND_CEILING))


def _floor(value: Decimal) -> int:
    return int(value.to_integral_value(ROUND_FLOOR))


# --- keeping proposals honest -----------------------------------------------------------------


def review(
    source: str,
    destination: str,
    amount: Decimal,
    fee: Decimal,
    holdings: dict[str, Holding],
    needed: bool = True,
) -> str:
    """Why a proposed transfer has become moot on `holdings`, or "" while it still does its job.

    `holdings` are the accounts' holdings of the transfer's asset with every other committed
    transfer already applied. A transfer is moot when its source can no longer send it, when
    it would push either account out of its band, or (if `needed`) when neither account is out
    of its band any more.
    """
    s, d = holdings.get(source), holdings.get(destination)
    if s is None or d is None:
        return "an account of this transfer no longer has a band for the asset"
    asset = s.asset
    if amount > s.sendable:
        return (
            f"{s.label} can send only {in_asset(s.sendable, asset)} {asset} now "
            f"(free minus reserve), less than {in_asset(amount, asset)}"
        )
    if d.band.maximum < d.position + amount - fee:
        return (
            f"{d.label} would end at {in_asset(d.position + amount - fee, asset)} {asset}, "
            f"above its maximum {in_asset(d.band.maximum, asset)}"
        )
    if s.position - amount < s.band.minimum:
        return (
            f"{s.label} would end at {in_asset(s.position - amount, asset)} {asset}, "
            f"below its minimum {in_asset(s.band.minimum, asset)}"
        )
    if needed and d.band.status(d.position) != BELOW and s.band.status(s.position) != ABOVE:
        return f"both accounts are inside their {s.asset} bands without it"
    return ""


def apply(
    holdings: dict[str, Holding], source: str, destination: str, amount: Decimal, fee: Decimal
) -> dict[str, Holding]:
    """Holdings as they will be once a committed transfer has left and arrived."""
    result = dict(holdings)
    if source in result:
        s = result[source]
        result[source] = replace(s, free=s.free - amount, total=s.total - amount)
    if destination in result:
        d = result[destination]
        result[destination] = replace(d, incoming=d.incoming + amount - fee)
    return result
