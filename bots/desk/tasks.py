"""Celery tasks of the desk: health sampling, the workers' heartbeat, alert notifications,
housekeeping. The listener here (queue_notification) is connected to `alert_raised` in
bots/apps.py.

Task names are pinned (`name=`) to where they were first declared, bots.tasks, so tasks queued
before a deploy still find their code after it; settings route and schedule them by those names.
"""

from __future__ import annotations

import logging
from importlib import import_module

from celery import shared_task
from django.conf import settings

from bots.desk import health
from bots.desk.notifications import deliver
from bots.models import Alert
from bots.platform import events

log = logging.getLogger(__name__)


@shared_task(name="bots.tasks.sample_health", ignore_result=True, expires=30)
def sample_health() -> int:
    """Grade every market's book against its targets, then push the overview to open pages."""
    samples = health.sample_all()
    if samples:
        events.markets_graded.emit()
    return len(samples)


@shared_task(name="bots.tasks.heartbeat", bind=True, ignore_result=True, expires=10)
def heartbeat(self) -> None:
    """Proof a worker takes tasks; beat's watchdog raises the alert when it goes old."""
    health.beat(self.request.hostname or "")


@shared_task(name="bots.tasks.notify_alert", ignore_result=True)
def notify_alert(alert_id: int) -> int:
    """Send a new alert to the notification channels; returns how many took it."""
    alert = Alert.objects.select_related("market").get(pk=alert_id)
    return sum(1 for delivery in deliver(alert) if delivery.ok)


def queue_notification(sender, alert_id: int, **kwargs) -> None:
    """Listener of `alert_raised`: the new alert goes to the notification channels."""
    notify_alert.delay(alert_id)


@shared_task(name="bots.tasks.clear_expired_sessions", ignore_result=True)
def clear_expired_sessions() -> None:
    """Sessions past their expiry: mostly the public simulation's visitors (half an hour each)."""
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()


@shared_task(name="bots.tasks.prune_health_samples", ignore_result=True)
def prune_health_samples() -> int:
    return health.prune_samples()
