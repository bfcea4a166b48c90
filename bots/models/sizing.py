"""Liquidity sizing runs: an operator's question (a market's flow, the bots' settings, the pools,
a horizon and a confidence), the Monte Carlo's progress, and its answer with the histograms the
page plots."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from .fields import bps, money
from .markets import Market


class SizingRun(models.Model):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    STATE_CHOICES = [(s, s) for s in (QUEUED, RUNNING, DONE, FAILED)]
    ACTIVE = (QUEUED, RUNNING)

    market = models.ForeignKey(Market, on_delete=models.CASCADE, related_name="sizing_runs")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    # The question. The flow: estimated from fills or entered by hand, as `flow_source` says.
    flow_source = models.CharField(max_length=300, blank=True)
    trades_per_minute = money()
    mean_size = money(help_text="Mean user order, base units (the exponential's mean)")
    buy_share = money(help_text="Share of user orders that buy, 0 to 1")
    price = money(help_text="Mid price at the start, quote per base")
    daily_volatility_pct = money(help_text="Standard deviation of the daily log return, %")
    # The bots' settings.
    mm_half_spread_bps = bps(help_text="The MM bot's distance from the mid")
    hedge_cost_bps = bps(help_text="The hedge's distance from the mid, taker fee included")
    # The pools: each account's balances now, and the floor under which an account is dry.
    mm_base = money()
    mm_quote = money()
    hedge_base = money()
    hedge_quote = money()
    floor_base = money(default=0)
    floor_quote = money(default=0)
    horizon_days = money(help_text="Rebalance at most once in this many days")
    confidence_pct = money()
    paths = models.PositiveIntegerField()
    seed = models.BigIntegerField()
    step_seconds = models.PositiveIntegerField(help_text="Simulation step, chosen from the horizon")

    state = models.CharField(max_length=8, choices=STATE_CHOICES, default=QUEUED)
    progress = models.FloatField(default=0, help_text="Share of the simulation done, 0 to 1")
    error = models.CharField(max_length=500, blank=True)

    # The answer: the balances each account needs for the horizon at the confidence ...
    need_mm_base = money(null=True, blank=True)
    need_mm_quote = money(null=True, blank=True)
    need_hedge_base = money(null=True, blank=True)
    need_hedge_quote = money(null=True, blank=True)
    # ... and, with the balances given, how soon one runs dry and the edge earned meanwhile.
    share_dry = money(null=True, blank=True, help_text="Share of paths that needed a rebalance")
    median_days_to_dry = money(null=True, blank=True, help_text="Empty when most paths lasted")
    p05_days_to_dry = money(null=True, blank=True, help_text="Empty when 95% of paths lasted")
    edge_mean = money(null=True, blank=True)
    edge_p05 = money(null=True, blank=True)
    edge_p95 = money(null=True, blank=True)
    histograms = models.JSONField(
        default=dict, blank=True, help_text='{"days_to_dry": {...}, "edge": {...}}, 50 bins each'
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["market"],
                condition=Q(state__in=["queued", "running"]),
                name="one_active_sizing_run_per_market",
            )
        ]

    def __str__(self) -> str:
        return f"sizing run #{self.pk} of {self.market}"
