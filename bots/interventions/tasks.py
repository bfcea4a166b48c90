"""Celery tasks of price-action interventions: the detectors' round, one intervention's due
slice, and the sweep that queues a slice a lost task left behind.

Task names are pinned (`name=`) under bots.tasks, like every other task of Ballast.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from bots.interventions import execution, workflow
from bots.models import Intervention, InterventionSettings
from bots.platform.locks import market_lock
from bots.platform.log_context import log_context
from bots.venues import ccxt_errors as ccxt
from bots.venues.errors import describe

log = logging.getLogger(__name__)


@shared_task(name="bots.tasks.detect_interventions", ignore_result=True, expires=60)
def detect_interventions() -> int:
    """Expire the proposals nobody approved in time, then run the detectors of every enabled
    market that has them on; returns proposals made."""
    made = 0
    with market_lock("intervention-detect", 0, expire_seconds=120) as held:
        if not held:
            return 0
        workflow.expire_stale_proposals()
        rows = InterventionSettings.objects.filter(detect=True, market__enabled=True)
        for row in rows.select_related("market__mm_account__venue", "market__hedge_account__venue"):
            try:
                made += workflow.detect(row.market) is not None
            except ccxt.BaseError as exc:  # one venue's trouble does not stop the other markets
                log.warning("detectors of %s not run: %s", row.market, describe(exc))
    return made


def queue_intervention(sender, intervention_id: int, **kwargs) -> None:
    """Listener of `intervention_due`: the slice goes to a worker."""
    run_intervention.delay(intervention_id)


@shared_task(name="bots.tasks.run_intervention", bind=True, ignore_result=True, max_retries=None,
             acks_late=True)
def run_intervention(self, intervention_id: int) -> str:
    """Send the intervention's due slice, if any, and queue the next at its time."""
    with market_lock("intervention", intervention_id, expire_seconds=60) as held:
        if not held:
            return "another run holds it"
        try:
            with log_context(intervention=intervention_id):
                outcome = execution.run_due(intervention_id)
        except execution.SliceRetry as exc:
            log.warning("intervention %s: %s", intervention_id, exc)
            raise self.retry(countdown=min(30, 1 + 2 ** min(self.request.retries, 4))) from exc
    if outcome.next_in is not None:
        run_intervention.apply_async((intervention_id,), countdown=outcome.next_in)
    return outcome.message


@shared_task(name="bots.tasks.sweep_interventions", ignore_result=True, expires=10)
def sweep_interventions() -> int:
    """Queue running interventions whose slice is overdue (a lost task, a restarted worker)."""
    late = timezone.now() - timedelta(seconds=5)
    ids = list(Intervention.objects.filter(state=Intervention.RUNNING, next_at__lt=late)
               .values_list("pk", flat=True))
    for pk in ids:
        run_intervention.delay(pk)
    return len(ids)
