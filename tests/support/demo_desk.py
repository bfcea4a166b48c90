"""The demo desk trading on a simulated clock, second by second as `manage.py up` runs it: the
outside books move and the simulated users send their orders at the start of each second, their
fills are captured and hedged at once (the paper venue's push), each market's health is sampled
a quarter of a second later, and every book market ticks at the half second. The sample falls
between the users and the next tick, where a fill's mark on the book shows most.

Deterministic: the users and the outside prices come from the markets' seeds and the second
(bots.engine.simulation.flow), and the paper venues' clock is the simulated one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from unittest import mock

from bots.desk.health import sample_market
from bots.hedging import hedger
from bots.hedging.capture import capture_fills
from bots.market_making import quoter
from bots.models import HealthSample, Hedge, Market
from bots.simulation import paper_flow
from bots.venues import venue_for

START_SECOND = 1_800_000_000  # any fixed second: the flows are the same from run to run
SAMPLE_MS, TICK_MS = 250, 500  # into each second


@dataclass
class Stretch:
    """The health samples of each book market over the stretch, oldest first."""

    samples: dict[str, list[HealthSample]] = field(default_factory=dict)
    user_orders: int = 0

    def grades(self, slug: str, figure: str) -> list[str]:
        return [s.grades[figure] for s in self.samples[slug]]


@contextmanager
def simulated_clock() -> Iterator[list[int]]:
    """The paper venues' clock (their trades', orders' and books' times) at the millisecond in
    the list it yields; set it to move the clock."""
    now = [START_SECOND * 1000]
    with mock.patch("bots.venues.paper.now_ms", lambda: now[0]):
        yield now


def trade(seconds: int) -> Stretch:
    """`seconds` of trading on the seeded desk, with a health sample of each book market every
    second."""
    markets = list(Market.objects.filter(kind=Market.BOOK, enabled=True).order_by("slug"))
    stretch = Stretch(samples={m.slug: [] for m in markets})
    with simulated_clock() as now:
        tick(markets, now[0] - TICK_MS)  # the desk has quoted before the first sample
        for second in range(START_SECOND, START_SECOND + seconds):
            now[0] = second * 1000
            paper_flow.move_outside_markets(second)
            stretch.user_orders += paper_flow.simulate_users(second)
            for market in markets:
                capture_fills(market, venue_for(market.mm_account), on_hedge=lambda hedge_id: None)
                hedge_open_fills(market)
            now[0] = second * 1000 + SAMPLE_MS
            for market in markets:
                moment = datetime.fromtimestamp(now[0] / 1000, UTC)
                stretch.samples[market.slug].append(sample_market(Market.objects.get(pk=market.pk), moment))
            now[0] = second * 1000 + TICK_MS
            tick(markets, now[0])
    return stretch


def tick(markets: list[Market], now_ms: int) -> None:
    for market in markets:
        quoter.run_tick(market.pk, on_hedge=lambda hedge_id: None, now_ms=now_ms)
        hedge_open_fills(market)


def hedge_open_fills(market: Market) -> None:
    """Run each hedge the captured fills are waiting for, as the hedging worker would."""
    for hedge_id in Hedge.objects.filter(fill__market=market, state=Hedge.PENDING).values_list("pk", flat=True):
        hedger.execute_hedge(hedge_id)
