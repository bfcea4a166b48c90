"""Raising, acknowledging and resolving alerts, from tasks, views and commands alike.

An alert stands for one cause (kind, market and an optional key such as "hedge-42"): raising it
again while it is unresolved updates the one alert instead of adding another, so a condition
seen every few seconds is one line on the desk and one notification.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from bots.desk.audit import record
from bots.desk.notifications import deliver
from bots.models import Alert, Market
from bots.platform import events


class AlertStateError(Exception):
    """The alert is not in a state that allows this (e.g. acknowledging a resolved one)."""


def raise_alert(
    kind: str, market: Market | None, message: str, action_url: str = "", key: str = "",
    *, send_now: bool = False,
) -> Alert:
    """Open an alert for this cause, or refresh the unresolved one. A new alert is sent to the
    notification channels: by a Celery task after commit, or here and now with `send_now`
    (for the watchdog that reports the workers themselves gone)."""
    if kind not in dict(Alert.KIND_CHOICES):
        raise ValueError(f"unknown alert kind {kind!r}")
    dedupe = Alert.dedupe_key(kind, market, key)
    with transaction.atomic():
        alert = _unresolved(dedupe)
        created = alert is None
        if created:
            try:
                with transaction.atomic():
                    alert = Alert.objects.create(
                        kind=kind, market=market, key=key, dedupe=dedupe,
                        message=message[:500], action_url=action_url,
                    )
            except IntegrityError:  # raised at the same moment by another process
                alert, created = _unresolved(dedupe), False
        if not created:
            Alert.objects.filter(pk=alert.pk).update(
                message=message[:500], action_url=action_url, last_seen_at=timezone.now()
            )
            alert.refresh_from_db()
    if created:
        if send_now:
            deliver(alert)
        else:
            events.alert_raised.emit_on_commit(alert_id=alert.pk)
    return alert


def _unresolved(dedupe: str) -> Alert | None:
    return Alert.objects.select_for_update().filter(dedupe=dedupe).exclude(state=Alert.RESOLVED).first()


def resolve_cause(kind: str, market: Market | None, key: str = "") -> int:
    """Ballast saw the cause go away: resolve its alert, if any, with nobody's name on it."""
    return Alert.objects.filter(dedupe=Alert.dedupe_key(kind, market, key)).exclude(
        state=Alert.RESOLVED
    ).update(state=Alert.RESOLVED, resolved_at=timezone.now(), resolved_by=None)


def acknowledge(alert_id: int, user) -> Alert:
    """Someone is on it: the alert stays on the list, marked with who and when."""
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(pk=alert_id)
        if alert.state != Alert.OPEN:
            raise AlertStateError(f"This alert is {alert.state}: only an open alert can be acknowledged.")
        alert.state, alert.acknowledged_at, alert.acknowledged_by = Alert.ACKNOWLEDGED, timezone.now(), user
        alert.save(update_fields=["state", "acknowledged_at", "acknowledged_by"])
        record("alert acknowledged", user=user, market=alert.market, subject=f"alert {alert.pk}",
               reason=alert.message, kind=alert.kind)
    return alert


def resolve(alert_id: int, user) -> Alert:
    """Someone dealt with it. Should the cause persist, Ballast raises a new alert."""
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(pk=alert_id)
        if alert.state == Alert.RESOLVED:
            raise AlertStateError("This alert is already resolved.")
        alert.state, alert.resolved_at, alert.resolved_by = Alert.RESOLVED, timezone.now(), user
        alert.save(update_fields=["state", "resolved_at", "resolved_by"])
        record("alert resolved", user=user, market=alert.market, subject=f"alert {alert.pk}",
               reason=alert.message, kind=alert.kind)
    return alert


def on_venue_clock_off(sender, venue: str, message: str, **kwargs) -> None:
    """Listener of `venue_clock_off` (wired in bots/apps.py)."""
    raise_alert(Alert.VENUE_ERROR, None, message, key=f"clock-{venue}")


def on_venue_clock_ok(sender, venue: str, **kwargs) -> None:
    """Listener of `venue_clock_ok` (wired in bots/apps.py)."""
    resolve_cause(Alert.VENUE_ERROR, None, key=f"clock-{venue}")
