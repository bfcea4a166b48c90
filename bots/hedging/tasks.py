"""Celery tasks of hedging: capturing pushed fills, hedging each once, the sweeper and
reconciliation, and the page refresh that follows a burst of hedges.

The listeners here (capture_pushed_trades, queue_hedge) are connected to the domain's events in
bots/apps.py.

Task names are pinned (`name=`) to where they were first declared, bots.tasks, so tasks queued
before a deploy still find their code after it; settings route and schedule them by those names.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings

from bots.hedging import hedger, reconcile
from bots.hedging.capture import capture_fills, market_for_capture, markets_quoted_by
from bots.models import Hedge, Market
from bots.platform import events
from bots.platform.locks import market_lock, throttle
from bots.platform.log_context import log_context
from bots.treasury.balances import refresh_balances
from bots.venues import paper_stream, venue_for
from bots.venues.errors import TRANSIENT, describe

log = logging.getLogger(__name__)


def _after_change(market: Market) -> None:
    for account in (market.mm_account, *market.hedge_accounts()):
        try:
            refresh_balances(account, [market.base, market.quote])
        except TRANSIENT as exc:
            log.warning("balances of %s not refreshed: %s", account, describe(exc))
    events.market_changed.emit(market_id=market.pk, force=False)


@shared_task(name="bots.tasks.capture_market_fills", bind=True, ignore_result=True, max_retries=50)
def capture_market_fills(self, market_id: int) -> int:
    """Record new fills now rather than at the next tick (the paper venue's push), and hedge
    each one as soon as its record is committed."""
    market = market_for_capture(market_id)
    with market_lock("capture", market_id) as held:
        if not held:
            # The capture running now may have read the trades before this push's: run again
            # right after it rather than leave the new fill to the next tick.
            raise self.retry(countdown=0.05)
        with log_context(market=market.slug, venue=market.mm_account.venue.name):
            fills = capture_fills(market, venue_for(market.mm_account), hedge_now)
    # No page refresh here: each hedge asks for one when it is done.
    return len(fills)


def capture_pushed_trades(
    sender, venue: int, symbol: str, accounts: list[int], trades: dict[int, list[dict]], **kwargs
) -> None:
    """Listener of `trades_made` (the paper venue's push): a market-making account traded.
    Its trades go to its stream, where the stream process listens and captures them as it does
    an exchange's (bots/venues/paper_stream.py); else the capture task captures its fills."""
    # On the hedge path too (a hedge's own trade is pushed): plain SQL, no query building, and
    # nothing published for an account that makes no market.
    for market_id, account_id in markets_quoted_by(accounts, symbol):
        if not paper_stream.publish(venue, account_id, trades[account_id]):
            capture_market_fills.delay(market_id)


def queue_hedge(sender, hedge_id: int, **kwargs) -> None:
    """Listener of `hedge_due`: a recorded hedge intent goes to a hedging worker."""
    hedge_fill.delay(hedge_id)


def _changed(market_id: int) -> None:
    """Refresh balances and the page once for a burst of changes (at most every 200 ms)."""
    if throttle(f"changed:{market_id}", 200):
        market_changed.apply_async((market_id,), countdown=0.2)


@shared_task(name="bots.tasks.market_changed", ignore_result=True)
def market_changed(market_id: int) -> None:
    _after_change(Market.objects.get_for_work(market_id))


@shared_task(
    name="bots.tasks.hedge_fill",
    ignore_result=True,
    autoretry_for=(hedger.HedgeRetry,),
    retry_backoff=1,  # seconds, doubling, with full jitter; Celery's factor is a whole number
    retry_backoff_max=10,
    max_retries=8,  # then the sweeper queues the hedge again
)
def hedge_fill(hedge_id: int) -> str:
    return _follow_up(hedge_id, hedger.execute_hedge(hedge_id))


def _follow_up(hedge_id: int, outcome: hedger.Outcome) -> str:
    """Queue what a hedge run left for later (its next ladder step, hedges it unblocked) and
    the page refresh."""
    if outcome.again_in is not None:
        hedge_fill.apply_async((hedge_id,), countdown=outcome.again_in)
    for other in outcome.queue:
        hedge_fill.delay(other)
    _changed(outcome.market_id)
    return outcome.state


def hedge_now(hedge_id: int, taken: Hedge | None = None) -> None:
    """Hedge a fill just captured (by this task, or by the stream process), here rather than in
    the next task: a hop through the broker would add its round trip to every hedge. The capture
    writes the intent already claimed for this run (`takes_at_capture`), which makes it and any
    task run of it exclusive; what cannot finish here goes to the task."""
    try:
        _follow_up(hedge_id, hedger.execute_hedge(hedge_id, taken))
    except hedger.HedgeRetry:
        hedge_fill.apply_async((hedge_id,), countdown=1)
    except Exception:  # the hedge stays pending: the task (and else the sweeper) takes it
        log.exception("hedge %s not run at capture; queued", hedge_id)
        if taken is not None:
            hedger.hand_back_unsent(taken)  # born claimed: pending again unless it sent
        hedge_fill.delay(hedge_id)


hedge_now.takes_at_capture = True


@shared_task(name="bots.tasks.sweep_hedges", ignore_result=True)
def sweep_hedges() -> int:
    """Queue again every hedge intent left unfinished for a while: its task died or gave up."""
    ids = reconcile.due_for_sweep(timedelta(seconds=settings.HEDGE_SWEEP_SECONDS))
    for hedge_id in ids:
        hedge_fill.delay(hedge_id)
    return len(ids)


@shared_task(name="bots.tasks.reconcile_hedges", ignore_result=True, expires=60)
def reconcile_hedges() -> int:
    """Compare the hedge venues' trades with the recorded hedges; flag every difference."""
    return reconcile.reconcile_all()
