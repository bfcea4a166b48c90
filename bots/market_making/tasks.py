"""Celery tasks of market making: the beat's tick of every market, one market's tick.

Task names are pinned (`name=`) to where they were first declared, bots.tasks, so tasks queued
before a deploy still find their code after it; settings route and schedule them by those names.
"""

from __future__ import annotations

import logging

from celery import shared_task

from bots.market_making import quoter
from bots.models import Market
from bots.platform import events
from bots.platform.locks import ask_again, asked_again, market_lock, throttle
from bots.treasury.balances import refresh_balances
from bots.venues.errors import TRANSIENT, describe

log = logging.getLogger(__name__)


# A market-making tick that changed nothing pushes its market's page at most this often.
QUIET_PUSH_MS = 2000


@shared_task(name="bots.tasks.tick_all_markets", ignore_result=True)
def tick_all_markets() -> None:
    quoted = Market.objects.filter(enabled=True, kind=Market.BOOK)  # a broker market quotes no book
    for market_id in quoted.values_list("pk", flat=True):
        # A tick that waits in the queue past the next beat is stale: let the next one run.
        mm_tick.apply_async((market_id,), expires=5)


def tick_now(sender, market_id: int, **kwargs) -> None:
    """Listener of `reference_moved` (the stream process): the market quotes again now rather
    than at the next beat; a tick already running makes this one a no-op (its lock)."""
    mm_tick.apply_async((market_id,), expires=5)


@shared_task(name="bots.tasks.mm_tick", ignore_result=True)
def mm_tick(market_id: int) -> str:
    with market_lock("tick", market_id) as held:
        if held:
            report = quoter.tick_market(market_id, on_hedge=_hedge_due)
    if not held:
        # The running tick may have read the books before the move that queued this one: it
        # ticks once more when done, or the quotes would stand on the old book until the next
        # move or beat (up to a second on a live exchange).
        if ask_again("tick", market_id) and asked_again("tick", market_id):
            mm_tick.apply_async((market_id,), expires=5)  # it finished meanwhile
        return "skipped: another tick of this market is running; it ticks once more after"
    _after_tick(market_id, report)
    if asked_again("tick", market_id):
        mm_tick.apply_async((market_id,), expires=5)
    return report.state


def _hedge_due(hedge_id: int) -> None:
    """A fill the tick captured: its hedge goes to a hedging worker rather than run in the tick."""
    events.hedge_due.emit(hedge_id=hedge_id)


def _after_tick(market_id: int, report: quoter.TickReport) -> None:
    """Orders placed or cancelled move the MM account's funds between free and in orders: read
    its balances and push the page. (The hedge accounts' balances move with hedges, whose tasks
    read them.) The balances are only recorded here: while the account's balance stream is live,
    the streamed one serves even before it tells of the tick's last order, rather than a REST
    read after every tick that sent one. A tick that changed nothing pushes its new reference and
    edges now and then."""
    if report.changed:
        market = report.market
        try:
            refresh_balances(market.mm_account, [market.base, market.quote], recording=True)
        except TRANSIENT as exc:
            log.warning("balances of %s not refreshed: %s", market.mm_account, describe(exc))
        events.market_changed.emit(market_id=market_id, force=False)
    elif throttle(f"quiet-tick:{market_id}", QUIET_PUSH_MS):
        events.market_changed.emit(market_id=market_id, force=False)
