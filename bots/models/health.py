"""How each market's own book looked, sampled on a schedule; breaches of its targets; and the
workers' heartbeat, which says whether anything is running the schedule at all."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from bots.engine.desk.liquidity import AMBER, GREEN, RED

from .fields import money
from .markets import Market

STATUS_CHOICES = [(GREEN, "in band"), (AMBER, "off target"), (RED, "in breach")]


class HealthSample(models.Model):
    """The own venue's book of one market at one moment, graded against the market's targets."""

    market = models.ForeignKey(Market, on_delete=models.CASCADE, related_name="health_samples")
    taken_at = models.DateTimeField(default=timezone.now)
    mid = money(null=True)
    spread_bps = money(null=True)
    bid_depth_05 = money(default=0)
    ask_depth_05 = money(default=0)
    bid_depth_1 = money(default=0)
    ask_depth_1 = money(default=0)
    bid_depth_2 = money(default=0)
    ask_depth_2 = money(default=0)
    two_sided = models.BooleanField(default=False)
    volume_24h = money(null=True, help_text="Quote currency the MM bot traded over the last 24 h")
    # The reference (the hedge venue's mid) and when it last moved: a live market's price moves
    # every few seconds, so one that stands still is a feed that stopped.
    reference_mid = money(null=True)
    reference_moved_at = models.DateTimeField(null=True)
    status = models.CharField(
        max_length=5, choices=STATUS_CHOICES, help_text="The book's figures against the targets"
    )
    listing_ok = models.BooleanField(default=False, help_text="Every listing rule of the exchange met")
    grades = models.JSONField(default=dict, help_text="{figure: green/amber/red}")
    error = models.CharField(max_length=500, blank=True, help_text="The venue error, when it could not be read")

    class Meta:
        indexes = [models.Index(fields=["market", "-taken_at"])]
        ordering = ["-taken_at", "-id"]

    def depth(self, side: str, band: str) -> object:
        return getattr(self, f"{'bid' if side == 'buy' else 'ask'}_depth_{band}")


class Breach(models.Model):
    """A stretch of time one figure of one market spent red; open while `ended_at` is empty."""

    market = models.ForeignKey(Market, on_delete=models.CASCADE, related_name="breaches")
    figure = models.CharField(max_length=30)
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    detail = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["market", "figure"], condition=Q(ended_at__isnull=True), name="one_open_breach_per_figure"
            )
        ]


class Heartbeat(models.Model):
    """Written by a task beat schedules: when it goes old, no worker is taking tasks."""

    name = models.CharField(max_length=50, unique=True)
    beat_at = models.DateTimeField()
    hostname = models.CharField(max_length=200, blank=True)
