"""bots.engine.market_making.tick: the tick's decision, which the Celery tick and the simulation both carry out."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from bots.engine.market_making import tick
from bots.engine.market_making.hedge_floor import HedgeFloor, HedgeVenue
from bots.engine.market_making.protection import Unhedged
from bots.engine.market_making.quote_config import DEFAULTS_BY_NAME, parse
from bots.engine.market_making.quoting import Funds
from bots.engine.simulation.demo import OWN_RULES

D = Decimal
CONFIG = parse({**DEFAULTS_BY_NAME, "max_unhedged_base": D("0.5"), "max_trades_per_minute": 3})
FUNDS = Funds(D("2"), D("130000"), D("2"), D("130000"))


def floor(mid: str = "65000") -> HedgeFloor:
    m = D(mid)
    venue = HedgeVenue("external", [(m - 5, D("10"))], [(m + 5, D("10"))], D("0.001"), D("5"), D("500000"))
    return HedgeFloor([venue], D("0"), CONFIG.hedge_buffer_bps)


def inputs(now_ms=1000, hedge_floor=None, fills=(), unhedged=()) -> tick.TickInputs:
    return tick.TickInputs(CONFIG, now_ms, hedge_floor or floor(), OWN_RULES, [], FUNDS, list(fills),
                           list(unhedged))


def test_a_quiet_market_quotes_both_sides_and_remembers_its_reference():
    decision = tick.decide(inputs(), tick.TickMemory())

    assert decision.action == tick.QUOTE
    assert {lv.side for lv in decision.plan.place} == {"buy", "sell"}
    assert decision.memory.reference == D("65000") and decision.memory.reference_ms == 1000


def test_without_a_hedge_venue_the_quotes_stand_while_the_reference_is_fresh_then_hold():
    memory = tick.TickMemory(reference=D("65000"), reference_ms=1000)
    empty = HedgeFloor([], D("0"), D("2"))

    assert tick.decide(inputs(3000, empty), memory).action == tick.STAND
    held = tick.decide(inputs(10_000, empty), memory)
    assert (held.action, held.holder) == (tick.HOLD, tick.STALE)


def test_an_empty_or_stale_hedge_book_holds_at_once_even_with_a_fresh_reference():
    memory = tick.TickMemory(reference=D("65000"), reference_ms=1000)
    empty = HedgeFloor([], D("0"), D("2"))
    answered = replace(inputs(3000, empty), venues_failed=False,
                       no_reference_why="hedge venue external: its BTC/USDT book is empty")

    held = tick.decide(answered, memory)

    assert (held.action, held.holder) == (tick.HOLD, tick.STALE)
    assert held.why == "hedge venue external: its BTC/USDT book is empty"


def test_a_jump_past_the_breaker_holds_for_the_pause():
    memory = tick.decide(inputs(1000), tick.TickMemory()).memory

    jumped = tick.decide(inputs(2000, floor("67000")), memory)
    assert (jumped.action, jumped.holder) == (tick.HOLD, tick.BREAKER)
    assert jumped.why.startswith("the reference moved 3.08% in one tick (65000 to 67000)")
    still = tick.decide(inputs(3000, floor("67000")), jumped.memory)
    assert still.action == tick.HOLD
    after = tick.decide(inputs(2000 + 31_000, floor("67000")), still.memory)
    assert after.action == tick.QUOTE


def test_the_trade_limiter_holds_at_its_count():
    fills = [("sell", 500), ("buy", 600), ("sell", 700)]

    decision = tick.decide(inputs(1000, fills=fills), tick.TickMemory())

    assert (decision.action, decision.holder) == (tick.HOLD, tick.LIMITER)


def test_unhedged_exposure_over_the_limit_stops_the_side_that_adds_to_it():
    decision = tick.decide(inputs(unhedged=[Unhedged("buy", D("0.6"), 900)]), tick.TickMemory())

    assert "buy" in decision.gates.stop
    assert {lv.side for lv in decision.plan.place} == {"sell"}
