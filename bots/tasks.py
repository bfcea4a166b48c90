"""Celery tasks: short, idempotent ticks that take ids and re-read state from the database.

They drive the engine; the decisions live in bots.engine and the bookkeeping in the modules
named after what they do (market_making, fills, hedger, balances, paper_flow).
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from decimal import Decimal

from celery import shared_task
from django.utils import timezone

from bots import hedger, market_making, paper_flow
from bots.balances import refresh_balances
from bots.fills import capture_fills
from bots.locks import market_lock
from bots.models import Hedge, Market
from bots.venues import venue_for
from bots.venues.errors import TRANSIENT, describe

log = logging.getLogger(__name__)

SWEEP_AFTER = timedelta(seconds=10)


def _queue_hedge(hedge_id: int) -> None:
    hedge_fill.delay(hedge_id)


def _after_change(market: Market) -> None:
    from dashboard.live import publish_market

    for account in (market.mm_account, market.hedge_account):
        try:
            refresh_balances(account, [market.base, market.quote])
        except TRANSIENT as exc:
            log.warning("balances of %s not refreshed: %s", account, describe(exc))
    publish_market(market.pk)


@shared_task(ignore_result=True)
def tick_all_markets() -> None:
    for market_id in Market.objects.filter(enabled=True).values_list("pk", flat=True):
        # A tick that waits in the queue past the next beat is stale: let the next one run.
        mm_tick.apply_async((market_id,), expires=5)


@shared_task(ignore_result=True)
def mm_tick(market_id: int) -> str:
    with market_lock("tick", market_id) as held:
        if not held:
            return "skipped: another tick of this market is running"
        state = market_making.run_tick(market_id, on_hedge=_queue_hedge)
        _after_change(market_making.load_market(market_id))
        return state


@shared_task(ignore_result=True)
def capture_market_fills(market_id: int) -> int:
    """Record new fills now rather than at the next tick (the paper venue's push)."""
    market = market_making.load_market(market_id)
    with market_lock("capture", market_id) as held:
        if not held:
            return 0
        fills = capture_fills(market, venue_for(market.mm_account), _queue_hedge)
    if fills:
        _after_change(market)
    return len(fills)


@shared_task(
    ignore_result=True,
    autoretry_for=(hedger.HedgeRetry,),
    retry_backoff=0.2,
    retry_backoff_max=10,
    max_retries=8,
)
def hedge_fill(hedge_id: int) -> str:
    state = hedger.execute_hedge(hedge_id)
    market = Market.objects.select_related("mm_account__venue", "hedge_account__venue").get(
        fills__hedge__pk=hedge_id
    )
    _after_change(market)
    return state


@shared_task(ignore_result=True)
def sweep_hedges() -> int:
    """Queue again every hedge that is not final after a while: the task died or ran out of retries."""
    stale = timezone.now() - SWEEP_AFTER
    rows = Hedge.objects.filter(state__in=[Hedge.PENDING, Hedge.SENDING], updated_at__lt=stale)
    ids = list(rows.values_list("pk", flat=True))
    # "sending" that old means the attempt died mid-call; pending again, the next attempt looks
    # the order up by its client id before sending anything.
    Hedge.objects.filter(pk__in=ids, state=Hedge.SENDING).update(state=Hedge.PENDING)
    for hedge_id in ids:
        hedge_fill.delay(hedge_id)
    return len(ids)


@shared_task(ignore_result=True)
def simulate_users() -> int:
    sent = paper_flow.simulate_users(int(time.time()))
    if sent:
        for market_id in Market.objects.filter(sim_trades_per_minute__gt=0).values_list("pk", flat=True):
            capture_market_fills.delay(market_id)
    return sent


@shared_task(ignore_result=True)
def simulated_user_trade(market_id: int, side: str, amount: str) -> str:
    """One user order, sent from the market page: the start of the chain reaction."""
    market = market_making.load_market(market_id)
    order = paper_flow.user_trade(market, side, Decimal(amount))
    capture_market_fills.delay(market_id)
    return order["status"]


@shared_task(ignore_result=True)
def move_outside_markets() -> int:
    return paper_flow.move_outside_markets(int(time.time()))
