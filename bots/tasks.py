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
from django.conf import settings

from bots import hedger, market_making, paper_flow, reconcile, tick_reads
from bots.balances import refresh_balances
from bots.fills import capture_fills
from bots.locks import market_lock, throttle
from bots.models import Market
from bots.venues import paper as paper_venue
from bots.venues import venue_for
from bots.venues.errors import TRANSIENT, describe

log = logging.getLogger(__name__)

# A market-making tick that changed nothing pushes its market's page at most this often.
QUIET_PUSH_MS = 2000


def _queue_hedge(hedge_id: int) -> None:
    hedge_fill.delay(hedge_id)


def _after_change(market: Market) -> None:
    from dashboard.live import publish_market

    for account in (market.mm_account, *market.hedge_accounts()):
        try:
            refresh_balances(account, [market.base, market.quote])
        except TRANSIENT as exc:
            log.warning("balances of %s not refreshed: %s", account, describe(exc))
    publish_market(market.pk)


@shared_task(name="bots.tasks.tick_all_markets", ignore_result=True)
def tick_all_markets() -> None:
    for market_id in Market.objects.filter(enabled=True).values_list("pk", flat=True):
        # A tick that waits in the queue past the next beat is stale: let the next one run.
        mm_tick.apply_async((market_id,), expires=5)


@shared_task(name="bots.tasks.mm_tick", ignore_result=True)
def mm_tick(market_id: int) -> str:
    with market_lock("tick", market_id) as held:
        if not held:
            return "skipped: another tick of this market is running"
        report = market_making.tick_market(market_id, on_hedge=_queue_hedge)
    _after_tick(market_id, report)
    return report.state


def _after_tick(market_id: int, report: market_making.TickReport) -> None:
    """Orders placed or cancelled move the MM account's funds between free and in orders: read
    its balances and push the page. (The hedge accounts' balances move with hedges, whose tasks
    read them.) A tick that changed nothing pushes its new reference and edges now and then."""
    from dashboard.live import publish_market

    if report.changed:
        market = market_making.load_market(market_id)
        try:
            refresh_balances(market.mm_account, [market.base, market.quote])
        except TRANSIENT as exc:
            log.warning("balances of %s not refreshed: %s", market.mm_account, describe(exc))
        publish_market(market_id)
    elif throttle(f"quiet-tick:{market_id}", QUIET_PUSH_MS):
        publish_market(market_id)


@shared_task(name="bots.tasks.capture_market_fills", bind=True, ignore_result=True, max_retries=50)
def capture_market_fills(self, market_id: int) -> int:
    """Record new fills now rather than at the next tick (the paper venue's push), and hedge
    each one as soon as its record is committed."""
    market = market_making.load_market(market_id)
    with market_lock("capture", market_id) as held:
        if not held:
            # The capture running now may have read the trades before this push's: run again
            # right after it rather than leave the new fill to the next tick.
            raise self.retry(countdown=0.05)
        fills = capture_fills(market, venue_for(market.mm_account), _hedge_now)
    # No page refresh here: each hedge asks for one when it is done.
    return len(fills)


def _capture_pushed_trades(sender, venue: int, symbol: str, accounts: list[int], **kwargs) -> None:
    """The paper venue's trade stream: a market-making account traded, capture its fills."""
    # On the hedge path too (a hedge's own trade is pushed): plain SQL, no query building.
    for market_id in tick_reads.markets_quoted_by(accounts, symbol):
        capture_market_fills.delay(market_id)


paper_venue.trades_made.connect(_capture_pushed_trades, dispatch_uid="capture-pushed-trades")


def _changed(market_id: int) -> None:
    """Refresh balances and the page once for a burst of changes (at most every 200 ms)."""
    if throttle(f"changed:{market_id}", 200):
        market_changed.apply_async((market_id,), countdown=0.2)


@shared_task(name="bots.tasks.market_changed", ignore_result=True)
def market_changed(market_id: int) -> None:
    _after_change(market_making.load_market(market_id))


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


def _hedge_now(hedge_id: int) -> None:
    """Hedge a fill the hedging worker has just captured, in this task rather than the next:
    a hop through the broker would add its round trip to every hedge. The hedge's claim makes
    this run and any task run of it exclusive; what cannot finish here goes to the task."""
    try:
        _follow_up(hedge_id, hedger.execute_hedge(hedge_id))
    except hedger.HedgeRetry:
        hedge_fill.apply_async((hedge_id,), countdown=1)
    except Exception:  # the hedge stays pending: the task (and else the sweeper) takes it
        log.exception("hedge %s not run at capture; queued", hedge_id)
        hedge_fill.delay(hedge_id)


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


@shared_task(name="bots.tasks.simulate_users", ignore_result=True)
def simulate_users() -> int:
    # The paper venue pushes the MM bot's fills (_capture_pushed_trades).
    return paper_flow.simulate_users(int(time.time()))


@shared_task(name="bots.tasks.simulated_user_trade", ignore_result=True)
def simulated_user_trade(market_id: int, side: str, amount: str) -> str:
    """One user order, sent from the market page: the start of the chain reaction."""
    market = market_making.load_market(market_id)
    return paper_flow.user_trade(market, side, Decimal(amount))["status"]


@shared_task(name="bots.tasks.move_outside_markets", ignore_result=True)
def move_outside_markets() -> int:
    return paper_flow.move_outside_markets(int(time.time()))


# --- liquidity health, alerts, the workers' heartbeat ----------------------------------------


@shared_task(name="bots.tasks.sample_health", ignore_result=True, expires=30)
def sample_health() -> int:
    """Grade every market's book against its targets, then push the overview to open pages."""
    from bots import health
    from dashboard.live import publish_overview

    samples = health.sample_all()
    if samples:
        publish_overview()
    return len(samples)


@shared_task(name="bots.tasks.heartbeat", bind=True, ignore_result=True, expires=10)
def heartbeat(self) -> None:
    """Proof a worker takes tasks; beat's watchdog raises the alert when it goes old."""
    from bots import health

    health.beat(self.request.hostname or "")


@shared_task(name="bots.tasks.notify_alert", ignore_result=True)
def notify_alert(alert_id: int) -> int:
    """Send a new alert to the notification channels; returns how many took it."""
    from bots.models import Alert
    from bots.notifications import deliver

    alert = Alert.objects.select_related("market").get(pk=alert_id)
    return sum(1 for delivery in deliver(alert) if delivery.ok)


@shared_task(name="bots.tasks.clear_expired_sessions", ignore_result=True)
def clear_expired_sessions() -> None:
    """Sessions past their expiry: mostly the public simulation's visitors (half an hour each)."""
    from importlib import import_module

    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()


@shared_task(name="bots.tasks.prune_health_samples", ignore_result=True)
def prune_health_samples() -> int:
    from bots import health

    return health.prune_samples()


# --- rebalancing: the planner, transfers on their way, automatic withdrawals ------------------


@shared_task(name="bots.tasks.plan_rebalance", ignore_result=True, expires=60)
def plan_rebalance() -> int:
    """Refresh the banded accounts' balances, expire moot proposals, propose what the planner
    finds, and raise or resolve runway alerts. One run at a time; returns proposals made."""
    from bots import rebalancing, transfer_watch
    from bots.inventory import read_inventory
    from bots.models import Account, InventoryBand

    with market_lock("rebalance-plan", 0, expire_seconds=120) as held:
        if not held:
            return 0
        for account in Account.objects.filter(bands__isnull=False).distinct().select_related("venue"):
            assets = sorted(set(account.bands.values_list("asset", flat=True)))
            try:
                refresh_balances(account, assets)
            except TRANSIENT as exc:
                log.warning("balances of %s not refreshed: %s", account, describe(exc))
        created = rebalancing.plan_transfers(read_inventory())
        if InventoryBand.objects.exists():
            # After proposing, so each alert can name the proposal that answers it.
            transfer_watch.runway_alerts(read_inventory())
    return len(created)


@shared_task(name="bots.tasks.watch_transfers", ignore_result=True, expires=30)
def watch_transfers() -> dict:
    """Detect arrivals, flag late transfers, settle withdrawals a dead worker left sending."""
    from bots.transfer_watch import watch_transfers as watch

    with market_lock("transfer-watch", 0, expire_seconds=60) as held:
        return watch() if held else {}


@shared_task(name="bots.tasks.execute_transfer", bind=True, ignore_result=True, max_retries=10)
def execute_transfer(self, proposal_id: int) -> str:
    """Withdraw an approved transfer through its venue (automatic execution); a venue that
    cannot be reached is retried with backoff, the transfer approved again meanwhile."""
    from bots.rebalancing import TransferError
    from bots.withdrawals import WithdrawalRetry, execute

    try:
        return execute(proposal_id).message
    except WithdrawalRetry as exc:
        raise self.retry(countdown=min(300, 5 * 2**self.request.retries)) from exc
    except TransferError as exc:
        from bots.audit import record

        log.warning("transfer %s not withdrawn automatically: %s", proposal_id, exc)
        record("transfer not withdrawn", actor="automatic execution", subject=f"transfer {proposal_id}",
               reason=str(exc))
        return str(exc)


# --- liquidity sizing ---------------------------------------------------------------------------


@shared_task(name="bots.tasks.run_sizing", ignore_result=True)
def run_sizing(run_id: int) -> str:
    """One liquidity sizing Monte Carlo (bots.sizing_runs): seconds of NumPy, on the default
    queue so it never delays a hedge; a redelivered run starts again with the same seed."""
    from bots import sizing_runs

    return sizing_runs.run(run_id)
