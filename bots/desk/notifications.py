"""Sending a new alert to the configured channels: e-mail through Django's mail, or a JSON POST
to a webhook (a Slack incoming webhook, Telegram's sendMessage, or anything that takes JSON).

Each attempt is recorded as a Delivery, sent or not; a channel that fails never keeps the others
from being tried, and the alert is on the desk whatever happens here.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from urllib.parse import parse_qsl, urlsplit

from django.conf import settings
from django.core.mail import send_mail

from bots.models import Alert, Delivery, NotificationChannel

log = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    pass


def alert_text(alert: Alert) -> str:
    where = f" · {alert.market.symbol}" if alert.market_id else ""
    lines = [f"[Ballast] {alert.get_kind_display()}{where}: {alert.message}"]
    if alert.action_url:
        lines.append(f"{alert.action_label}: {settings.BALLAST_SITE_URL.rstrip('/')}{alert.action_url}")
    return "\n".join(lines)


def send_email(addresses: str, alert: Alert) -> None:
    recipients = [a.strip() for a in addresses.split(",") if a.strip()]
    if not recipients:
        raise DeliveryFailed("the channel names no address")
    if settings.EMAIL_BACKEND.endswith("smtp.EmailBackend") and not settings.EMAIL_HOST:
        raise DeliveryFailed("EMAIL_HOST is not set: Ballast has no mail server to send through")
    text = alert_text(alert)
    send_mail(text.splitlines()[0][:150], text, settings.DEFAULT_FROM_EMAIL, recipients)


def post_webhook(url: str, alert: Alert, timeout: float) -> None:
    """POST {"text": ...}. Parameters in the URL's query (Telegram's chat_id) go in the body too,
    as some services read only the body."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeliveryFailed("the webhook URL must start with http:// or https://")
    payload = {**dict(parse_qsl(parts.query)), "text": alert_text(alert)}
    # The scheme is checked above: only http(s) reaches urlopen.
    request = urllib.request.Request(  # noqa: S310
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "Ballast"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        if not 200 <= response.status < 300:
            raise DeliveryFailed(f"the webhook answered HTTP {response.status}")


def _send(channel: NotificationChannel, alert: Alert) -> None:
    if channel.kind == NotificationChannel.EMAIL:
        send_email(channel.target, alert)
    else:
        post_webhook(channel.target, alert, settings.ALERT_WEBHOOK_TIMEOUT)


def deliver(alert: Alert) -> list[Delivery]:
    """Send `alert` to every enabled channel; one Delivery per channel."""
    deliveries = []
    for channel in NotificationChannel.objects.filter(enabled=True).order_by("pk"):
        try:
            _send(channel, alert)
            error = ""
        except DeliveryFailed as exc:
            error = str(exc)
        except urllib.error.HTTPError as exc:
            error = f"the webhook answered HTTP {exc.code}"
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            # Never the URL itself in the message: webhook URLs carry their tokens.
            reason = getattr(exc, "reason", exc)
            error = f"{type(exc).__name__}: {reason}"
        if error:
            log.warning("alert %s not sent to channel %s: %s", alert.pk, channel.pk, error)
        deliveries.append(Delivery.objects.create(alert=alert, channel=channel, ok=not error, error=error[:500]))
    return deliveries
