"""Alerts, each tied to the action an operator takes about it, and where they are sent."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from .markets import Market


class Alert(models.Model):
    HEDGE_FAILED = "hedge_failed"
    EXPOSURE_OVER_LIMIT = "exposure_over_limit"
    RUNWAY_LOW = "runway_low"
    SPREAD_OUT_OF_BAND = "spread_out_of_band"
    DEPTH_OUT_OF_BAND = "depth_out_of_band"
    REFERENCE_STALE = "reference_stale"
    VENUE_ERROR = "venue_error"
    WORKER_SILENT = "worker_silent"
    BEAT_SILENT = "beat_silent"
    TRANSFER_OVERDUE = "transfer_overdue"
    QUOTES_PULLED = "quotes_pulled"
    ADDRESS_MISMATCH = "address_mismatch"
    CHANGE_WAITING = "change_waiting"
    NETWORK_CLOSED = "network_closed"
    KIND_CHOICES = [
        (HEDGE_FAILED, "hedge failed"),
        (EXPOSURE_OVER_LIMIT, "exposure over limit"),
        (RUNWAY_LOW, "runway low"),
        (SPREAD_OUT_OF_BAND, "spread out of band"),
        (DEPTH_OUT_OF_BAND, "depth out of band"),
        (REFERENCE_STALE, "reference stale"),
        (VENUE_ERROR, "venue errors"),
        (WORKER_SILENT, "worker silent"),
        (BEAT_SILENT, "beat silent"),
        (TRANSFER_OVERDUE, "transfer overdue"),
        (QUOTES_PULLED, "quotes pulled"),
        (ADDRESS_MISMATCH, "deposit address mismatch"),
        (CHANGE_WAITING, "change waiting for a second admin"),
        (NETWORK_CLOSED, "transfer network closed"),
    ]
    # What the operator does about each kind: the label of the link the alert carries.
    ACTIONS = {
        HEDGE_FAILED: "Retry, record a manual hedge or write off",
        EXPOSURE_OVER_LIMIT: "Pause the side that adds to it",
        RUNWAY_LOW: "Review the transfer proposal",
        SPREAD_OUT_OF_BAND: "See the market",
        DEPTH_OUT_OF_BAND: "See the market",
        REFERENCE_STALE: "See the market (the bot paused itself)",
        VENUE_ERROR: "See the venue",
        WORKER_SILENT: "Check the workers",
        BEAT_SILENT: "Check the beat processes and Redis: nothing periodic runs until one is back",
        TRANSFER_OVERDUE: "Check the venue, then confirm the arrival or mark it failed",
        QUOTES_PULLED: "Check the workers and Redis: the bot quotes again once ticks resume",
        ADDRESS_MISMATCH: "Check the whitelisted address against the exchange's; the transfer "
        "waits, approved and unsent",
        CHANGE_WAITING: "Confirm or reject it on the Changes page (an admin other than the "
        "proposer)",
        NETWORK_CLOSED: "Wait for the exchange to open the network again, or cancel the transfer "
        "and plan it over another network; it waits, unsent",
    }

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    STATE_CHOICES = [(OPEN, "open"), (ACKNOWLEDGED, "acknowledged"), (RESOLVED, "resolved")]

    kind = models.CharField(max_length=30, choices=KIND_CHOICES)
    market = models.ForeignKey(Market, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts")
    key = models.CharField(max_length=100, blank=True, help_text="Tells apart alerts of one kind, e.g. hedge-42")
    # kind:market:key, unique among unresolved alerts: raising one twice updates the first.
    dedupe = models.CharField(max_length=200, editable=False)
    message = models.CharField(max_length=500)
    action_url = models.CharField(max_length=300, blank=True)
    state = models.CharField(max_length=12, choices=STATE_CHOICES, default=OPEN)
    raised_at = models.DateTimeField(auto_now_add=True, db_index=True)
    last_seen_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Empty when Ballast saw the cause go away",
    )

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe"], condition=~Q(state="resolved"), name="one_unresolved_alert_per_cause"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.message}"

    @staticmethod
    def dedupe_key(kind: str, market: Market | None, key: str) -> str:
        return f"{kind}:{market.pk if market else '-'}:{key}"

    @property
    def action_label(self) -> str:
        return self.ACTIONS[self.kind]


class NotificationChannel(models.Model):
    """Where new alerts are sent. Webhook URLs carry tokens: only admins see them (Django admin)."""

    EMAIL = "email"
    WEBHOOK = "webhook"
    KIND_CHOICES = [(EMAIL, "e-mail"), (WEBHOOK, "webhook (Slack, Telegram, ...)")]

    label = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=KIND_CHOICES)
    target = models.CharField(
        max_length=500,
        help_text="E-mail: comma-separated addresses. Webhook: the URL that takes a JSON POST with a "
        '"text" field (a Slack incoming webhook, or Telegram\'s sendMessage with ?chat_id=...)',
    )
    enabled = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"{self.label} ({self.get_kind_display()})"


class Delivery(models.Model):
    """One attempt to send one alert to one channel, recorded whether it worked or not."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.ForeignKey(NotificationChannel, on_delete=models.CASCADE, related_name="deliveries")
    at = models.DateTimeField(auto_now_add=True)
    ok = models.BooleanField()
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "deliveries"
