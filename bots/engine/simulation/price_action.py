"""Price-action interventions inside the simulation: the same detectors, proposal and slice plan
as the live desk (bots.engine.interventions), on the simulation's books.

Every few simulated seconds the detectors read the own book, the users' trades of the last
minute and the outside mid; when they agree, a buyback or an unwind is proposed for the visitor
to approve (on the live desk, operators approve it). Approved, its slices go on the external
exchange through the hedge account, one limit IOC at the price limit when each is due, capped by
the users' recent volume. Only scenarios that say so watch for it ("selling pressure").
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

from bots.engine.figures import plain
from bots.engine.interventions import detectors, proposal, slicing
from bots.engine.rules import BUY, SELL, ZERO

D = Decimal
WATCH_EVERY = 5  # seconds between detector rounds
WINDOW_MS = 60_000
SETTINGS = detectors.DetectorSettings(
    flow_window_minutes=1, flow_threshold=D("1.5"), mid_move_pct=D("0.5"), imbalance_ratio=D("0"),
    inventory_check=False,
)
SIZING = proposal.Sizing(default_amount=D("1"), duration_minutes=2, limit_bps=D("50"))
LIMITS = slicing.SliceLimits(slice_seconds=10, jitter=D("0.5"), participation_pct=D("50"))


@dataclass
class Intervention:
    kind: str
    amount: Decimal
    limit: Decimal
    reason: str
    proposed_at: int  # second
    state: str = "proposed"  # proposed, running, completed
    plan: list[slicing.Slice] = field(default_factory=list)
    started_ms: int = 0
    filled: Decimal = ZERO
    cost: Decimal = ZERO
    fee: Decimal = ZERO
    slices: int = 0

    def view(self) -> dict:
        return {
            "kind": self.kind, "amount": plain(self.amount), "limit": plain(self.limit),
            "reason": self.reason, "state": self.state, "filled": plain(self.filled),
            "slices": self.slices, "planned": len(self.plan),
            "average": plain((self.cost / self.filled).quantize(D("0.01"))) if self.filled else "",
            "fee": plain(self.fee.quantize(D("0.01"))),
        }


def user_flow(sim) -> list[detectors.UserTrade]:
    """The users' filled trades of the last minute, from the simulation's chain reactions."""
    return [
        detectors.UserTrade(c["t"] * 1000 + 1000, c["side"], D(c["filled"]))
        for c in sim.chains
        if c["filled"] != "0" and sim.now_ms - (c["t"] * 1000 + 1000) < WINDOW_MS
    ]


def watch(sim, account: str, base: str, quote: str) -> str:
    """A detector round, every WATCH_EVERY seconds while nothing is open: propose what the
    detectors agree on (once; the visitor approves it). Returns what to note ("" for nothing)."""
    current = sim.intervention
    if sim.second % WATCH_EVERY or (current is not None and current.state != "completed"):
        return ""
    book = sim.own
    view = detectors.MarketView(
        base, sim.now_ms, tuple(user_flow(sim)),
        [(o.price, o.remaining) for o in book.bids], [(o.price, o.remaining) for o in book.asks],
        sim.mid, ZERO, None,
    )
    findings = detectors.detect(view, SETTINGS)
    kind = detectors.verdict(findings)
    if kind is None:
        return ""
    limit = proposal.price_limit(kind, sim.mid, SIZING.limit_bps, sim.out_rules)
    balances = sim.out.balances
    amount = proposal.amount_for(
        kind, findings, ZERO, None, balances.free(account, base), balances.free(account, quote),
        limit, SIZING, sim.out_rules,
    )
    if amount <= 0:
        return ""
    reason = "; ".join(f.reason for f in findings)
    sim.intervention = Intervention(kind, amount, limit, reason, sim.second)
    return (f"the detectors propose a {kind} of {plain(amount)} {base} over "
            f"{SIZING.duration_minutes} min, limit {plain(limit)}: {reason}")


def approve(sim, seed: int) -> str:
    """The visitor approves the proposal: its slices are planned (seeded: a run replays) and
    start."""
    iv = sim.intervention
    rules = sim.out_rules
    iv.plan = slicing.plan_slices(
        iv.amount, SIZING.duration_minutes, LIMITS, rules.amount_step, rules.min_amount,
        random.Random(f"{seed}|intervention|{iv.proposed_at}"),  # noqa: S311 - a simulation source
    )
    iv.state, iv.started_ms = "running", sim.now_ms
    return (f"you approved the {iv.kind}: {len(iv.plan)} slices at random times over "
            f"{SIZING.duration_minutes} min")


def step(sim, account: str) -> str:
    """Send the running intervention's due slice, if any; what to note when it ends."""
    iv = sim.intervention
    if iv is None or iv.state != "running":
        return ""
    elapsed = sim.now_ms - iv.started_ms
    volume = sum((t.amount for t in user_flow(sim)), ZERO)
    rules = sim.out_rules
    amount = slicing.next_amount(
        slicing.due_now(iv.plan, elapsed), iv.filled, iv.amount, volume, LIMITS,
        rules.amount_step, rules.min_amount,
    )
    if amount > 0:
        side = BUY if iv.kind == detectors.BUYBACK else SELL
        execution = sim.out.submit(account, side, "limit", amount, iv.limit, time_in_force="IOC")
        for trade in (t for t in execution.trades if t.account == account):
            iv.filled += trade.amount
            iv.cost += trade.cost
            iv.fee += trade.fee * (trade.price if side == BUY else 1)  # buyers pay fees in base
        iv.slices += 1
    over = elapsed >= (SIZING.duration_minutes * 60 + LIMITS.slice_seconds) * 1000
    if iv.filled < iv.amount and not over:
        return ""
    iv.state = "completed"
    verb = "bought" if iv.kind == detectors.BUYBACK else "sold"
    return (f"the {iv.kind} is done: {plain(iv.filled)} of {plain(iv.amount)} {verb} in "
            f"{iv.slices} slices, {plain(iv.cost.quantize(D('0.01')))} USDT")
