"""One market-making tick's decision, as plain values: hold the market, let its quotes stand, or
quote this plan. The order of the checks is bots.market_making.quoter.MarketTick.run's: the reference
from the hedge floor; without one, stand on a fresh last reference or hold; protection (the
price breaker, the trades-per-minute limiter); the reference remembered and sigma estimated;
the side gates (unhedged exposure and pending hedges, price band, position band, filled-order
delay); desired_quotes; plan_orders.

Both drivers call it: the Celery tick (bots.market_making.quoter) around its records and venue calls,
and the simulation (bots.engine.simulation.demo) on in-memory books.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from bots.engine.market_making.hedge_floor import HedgeFloor
from bots.engine.market_making.protection import (
    SideGates,
    Unhedged,
    breaker_trips,
    exposure_gates,
    fill_delay_gates,
    move_pct,
    price_band_gates,
    trade_limit_reached,
)
from bots.engine.market_making.quote_config import QuoteConfig
from bots.engine.market_making.quoting import Funds, Quote, QuoteContext, allowances, desired_quotes
from bots.engine.market_making.refresh import OrderPlan, RestingOrder, plan_orders
from bots.engine.market_making.skew import position_stops
from bots.engine.market_making.volatility import Sample, record_sample, sigma_bps
from bots.engine.rules import ZERO, MarketRules

# The breaker compares with the previous reference only if that is this recent (as live).
BREAKER_MEMORY_MS = 60_000
QUOTE, STAND, HOLD = "quote", "stand", "hold"
BREAKER, STALE, LIMITER = "price breaker", "stale reference", "trade limiter"


@dataclass(frozen=True)
class TickMemory:
    """What a market keeps from one tick to the next (live: columns of its row)."""

    reference: Decimal | None = None
    reference_ms: int | None = None
    protect_until_ms: int | None = None
    samples: tuple[Sample, ...] = ()


@dataclass(frozen=True)
class TickInputs:
    config: QuoteConfig
    now_ms: int
    floor: HedgeFloor
    rules: MarketRules  # the own venue's
    resting: Sequence[RestingOrder]
    funds: Funds
    recent_fills: Sequence[tuple[str, int]]  # (MM side, ms) of the last minute at least
    unhedged: Sequence[Unhedged]
    refresh_all: bool = False
    # Without a reference: whether the hedge venues failed to answer (a blip, on which fresh
    # quotes may stand) rather than answered with an empty or stale book; and why, in words.
    venues_failed: bool = True
    no_reference_why: str = ""


@dataclass(frozen=True)
class TickDecision:
    action: str  # QUOTE, STAND (leave the quotes as they are) or HOLD (cancel everything)
    memory: TickMemory
    holder: str = ""
    why: str = ""
    plan: OrderPlan | None = None
    quote: Quote | None = None
    gates: SideGates = field(default_factory=SideGates)
    exposure: SideGates = field(default_factory=SideGates)  # the unhedged-exposure part of gates
    allowance: dict[str, Decimal] = field(default_factory=dict)
    sigma_bps: Decimal = ZERO


def decide(inputs: TickInputs, memory: TickMemory) -> TickDecision:
    config, now = inputs.config, inputs.now_ms
    reference = inputs.floor.reference()
    if reference is None:
        fresh = (memory.reference_ms is not None
                 and now - memory.reference_ms <= config.stale_after_seconds * 1000)
        if inputs.venues_failed and fresh:
            return TickDecision(STAND, memory, why="no hedge venue answers: the quotes stand "
                                "while the last reference is fresh")
        return TickDecision(HOLD, memory, STALE, inputs.no_reference_why or (
            "no hedge venue answers: no reference to quote from, and no way to hedge"))
    memory, hold = protection(config, memory, reference, inputs.recent_fills, now)
    samples = record_sample(list(memory.samples), now, reference, config.volatility_window_seconds)
    memory = replace(memory, reference=reference, reference_ms=now, samples=tuple(samples))
    sigma = sigma_bps(samples)
    if hold:
        return TickDecision(HOLD, memory, *hold, sigma_bps=sigma)
    exposure = exposure_gates(
        list(inputs.unhedged), config.max_unhedged_base, config.hedge_pending_seconds, now
    )
    gates = side_gates(config, reference, inputs.funds, inputs.recent_fills, exposure, now)
    quote = desired_quotes(config, QuoteContext(
        reference, inputs.floor, inputs.rules, inputs.funds, sigma, stopped=gates.stop))
    allowance = allowances(config, inputs.funds)
    plan = plan_orders(
        quote.levels, list(inputs.resting), config, now_ms=now, reference=reference,
        floor=inputs.floor, gates=gates, allowance=allowance, refresh_all=inputs.refresh_all,
    )
    return TickDecision(QUOTE, memory, plan=plan, quote=quote, gates=gates, exposure=exposure,
                        allowance=allowance, sigma_bps=sigma)


def protection(
    config: QuoteConfig, memory: TickMemory, reference: Decimal,
    recent: Sequence[tuple[str, int]], now_ms: int,
) -> tuple[TickMemory, tuple[str, str] | None]:
    """(memory, (who, why)) when the whole market must hold its quotes off this tick."""
    if memory.protect_until_ms is not None and now_ms < memory.protect_until_ms:
        return memory, (BREAKER, f"holding for {(memory.protect_until_ms - now_ms) / 1000:.0f} s "
                                 "more after a price jump")
    memory = replace(memory, protect_until_ms=None)
    previous = memory.reference
    if memory.reference_ms is None or now_ms - memory.reference_ms > BREAKER_MEMORY_MS:
        previous = None
    if breaker_trips(previous, reference, config.breaker_move_pct):
        until = now_ms + int(config.breaker_pause_seconds * 1000)
        return replace(memory, protect_until_ms=until), (BREAKER, (
            f"the reference moved {move_pct(previous, reference):.2f}% in one tick "
            f"({_plain(previous)} to {_plain(reference)}); holding for "
            f"{config.breaker_pause_seconds.normalize():f} s"))
    if trade_limit_reached((t for _, t in recent), now_ms, config.max_trades_per_minute):
        count = sum(1 for _, t in recent if now_ms - t < 60_000)
        return memory, (LIMITER, f"{count} fills in the last minute "
                                 f"(limit {config.max_trades_per_minute})")
    return memory, None


def side_gates(
    config: QuoteConfig, reference: Decimal, funds: Funds, recent: Sequence[tuple[str, int]],
    exposure: SideGates, now_ms: int,
) -> SideGates:
    """The unhedged-exposure gates (first: their reasons win) with the other side gates."""
    last_fill: dict[str, int] = {}
    for side, stamp in recent:
        last_fill[side] = max(stamp, last_fill.get(side, 0))
    return (
        exposure
        .merge(price_band_gates(reference, config.price_ceiling, config.price_floor))
        .merge(SideGates(stop=position_stops(
            funds.base_total, config.position_target_base, config.position_band_base)))
        .merge(fill_delay_gates(last_fill, now_ms, config.filled_order_delay_seconds))
    )


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")
