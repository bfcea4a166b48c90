"""Celery tasks of the treasury: the rebalance planner, transfers on their way, automatic
withdrawals, the daily reading of the exchanges' withdrawal terms.

Task names are pinned (`name=`) to where they were first declared, bots.tasks, so tasks queued
before a deploy still find their code after it; settings route and schedule them by those names.
"""

from __future__ import annotations

import logging

from celery import shared_task

from bots.desk.audit import record
from bots.models import Account, InventoryBand
from bots.platform.locks import market_lock
from bots.platform.log_context import log_context
from bots.treasury import network_facts, rebalancing, transfer_watch
from bots.treasury.balances import refresh_balances
from bots.treasury.inventory import read_inventory
from bots.treasury.rebalancing import TransferError
from bots.treasury.transfer_watch import watch_transfers as watch
from bots.treasury.withdrawals import WithdrawalRetry, execute
from bots.venues.errors import TRANSIENT, describe

log = logging.getLogger(__name__)


@shared_task(name="bots.tasks.plan_rebalance", ignore_result=True, expires=60)
def plan_rebalance() -> int:
    """Refresh the banded accounts' balances, expire moot proposals, propose what the planner
    finds, and raise or resolve runway alerts. One run at a time; returns proposals made."""

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

    with market_lock("transfer-watch", 0, expire_seconds=60) as held:
        return watch() if held else {}


@shared_task(name="bots.tasks.refresh_network_terms", ignore_result=True, expires=3600)
def refresh_network_terms() -> list[str]:
    """Read every venue's withdrawal networks, fees and minimums and raise what differs from the
    planner's for an admin (scheduled daily: BALLAST_NETWORK_TERMS_HOURS). One run at a time."""

    with market_lock("network-terms", 0, expire_seconds=600) as held:
        if not held:
            return []
        return [reading.message for reading in network_facts.refresh()]


def queue_withdrawal(sender, proposal_id: int, **kwargs) -> None:
    """Listener of `withdrawal_due`: an approved transfer goes to a worker to withdraw."""
    execute_transfer.delay(proposal_id)


@shared_task(name="bots.tasks.execute_transfer", bind=True, ignore_result=True, max_retries=10)
def execute_transfer(self, proposal_id: int) -> str:
    """Withdraw an approved transfer through its venue (automatic execution); a venue that
    cannot be reached is retried with backoff, the transfer approved again meanwhile."""

    try:
        with log_context(transfer=proposal_id):
            return execute(proposal_id).message
    except WithdrawalRetry as exc:
        raise self.retry(countdown=min(300, 5 * 2**self.request.retries)) from exc
    except TransferError as exc:

        log.warning("transfer %s not withdrawn automatically: %s", proposal_id, exc,
                    extra={"transfer": proposal_id})
        record("transfer not withdrawn", actor="automatic execution", subject=f"transfer {proposal_id}",
               reason=str(exc))
        return str(exc)
