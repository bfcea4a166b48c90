"""Celery tasks of live push.

The task's name is pinned to where it was first declared, dashboard.tasks, so one queued before
a deploy still finds its code after it.
"""

from __future__ import annotations

from celery import shared_task

from dashboard.live.publisher import publish_market


@shared_task(name="dashboard.tasks.publish_later", ignore_result=True)
def publish_later(market_id: int) -> None:
    """The trailing snapshot of a throttled burst: whatever the market looks like by now."""
    publish_market(market_id, force=True)
