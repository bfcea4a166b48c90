"""Celery tasks of the web layer."""

from celery import shared_task


@shared_task(ignore_result=True)
def publish_later(market_id: int) -> None:
    """The trailing snapshot of a throttled burst: whatever the market looks like by now."""
    from .live import publish_market

    publish_market(market_id, force=True)
