"""Celery tasks of the simulation: the paper venues' users and outside market, a user trade
from a market page, and liquidity sizing runs.

Task names are pinned (`name=`) to where they were first declared, bots.tasks, so tasks queued
before a deploy still find their code after it; settings route and schedule them by those names.
"""

from __future__ import annotations

import logging
import time
from decimal import Decimal

from celery import shared_task

from bots.models import Market
from bots.simulation import paper_flow, sizing_runs

log = logging.getLogger(__name__)


@shared_task(name="bots.tasks.simulate_users", ignore_result=True)
def simulate_users() -> int:
    # The paper venue pushes the MM bot's fills (_capture_pushed_trades).
    return paper_flow.simulate_users(int(time.time()))


@shared_task(name="bots.tasks.simulated_user_trade", ignore_result=True)
def simulated_user_trade(market_id: int, side: str, amount: str) -> str:
    """One user order, sent from the market page: the start of the chain reaction."""
    market = Market.objects.get_for_work(market_id)
    return paper_flow.user_trade(market, side, Decimal(amount))["status"]


@shared_task(name="bots.tasks.move_outside_markets", ignore_result=True)
def move_outside_markets() -> int:
    return paper_flow.move_outside_markets(int(time.time()))


@shared_task(name="bots.tasks.run_sizing", ignore_result=True)
def run_sizing(run_id: int) -> str:
    """One liquidity sizing Monte Carlo (bots.simulation.sizing_runs): seconds of NumPy, on the default
    queue so it never delays a hedge; a redelivered run starts again with the same seed."""
    return sizing_runs.run(run_id)


def queue_sizing_run(sender, run_id: int, **kwargs) -> None:
    """Listener of `sizing_run_queued`: the recorded run goes to a worker."""
    run_sizing.delay(run_id)
