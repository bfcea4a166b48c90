"""The markets Ballast makes, and how the market-making bot quotes each one."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from bots.engine.quoting import QuoteParams

from .fields import money
from .venues import Account


class Market(models.Model):
    RUNNING = "running"
    PAUSED = "paused"
    DEGRADED = "degraded"
    STATE_CHOICES = [(RUNNING, "running"), (PAUSED, "paused"), (DEGRADED, "degraded")]

    slug = models.SlugField(unique=True, help_text="Used in URLs, e.g. btc-usdt")
    symbol = models.CharField(max_length=30, help_text="ccxt symbol, e.g. BTC/USDT")
    mm_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="mm_markets")
    hedge_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="hedge_markets")
    extra_hedge_accounts = models.ManyToManyField(
        Account,
        blank=True,
        related_name="extra_hedge_markets",
        help_text="Further hedge venues; each hedge goes where it is cheapest",
    )
    target_base = money(
        default=0, help_text="Base asset the exchange means to hold across both bot accounts"
    )
    enabled = models.BooleanField(default=True)
    state = models.CharField(max_length=10, choices=STATE_CHOICES, default=RUNNING)
    state_reason = models.CharField(max_length=500, blank=True)
    last_tick_at = models.DateTimeField(null=True, blank=True)
    last_fill_timestamp = models.BigIntegerField(
        default=0, help_text="Venue timestamp (ms) of the newest fill recorded"
    )
    # Simulated users (demo and paper venues only).
    sim_trades_per_minute = models.FloatField(
        default=0, validators=[MinValueValidator(0), MaxValueValidator(600)]
    )
    sim_mean_amount = money(default=Decimal("0.05"))
    sim_seed = models.IntegerField(default=7)

    def __str__(self) -> str:
        return self.symbol

    def hedge_accounts(self) -> list[Account]:
        """Every account this market may hedge on, the primary first."""
        return [self.hedge_account, *self.extra_hedge_accounts.select_related("venue")]

    @property
    def base(self) -> str:
        return self.symbol.split("/")[0]

    @property
    def quote(self) -> str:
        return self.symbol.split("/")[1]


class QuoteSettings(models.Model):
    market = models.OneToOneField(Market, on_delete=models.CASCADE, related_name="quote_settings")
    spread_bps = money(default=Decimal("20"), validators=[MinValueValidator(0)])
    levels = models.PositiveIntegerField(default=5, validators=[MinValueValidator(1), MaxValueValidator(50)])
    level_spacing_bps = money(default=Decimal("5"), validators=[MinValueValidator(0)])
    level_amount = money(default=Decimal("0.05"), validators=[MinValueValidator(0)])
    amount_growth = money(default=Decimal("0.5"), validators=[MinValueValidator(0)])
    refresh_tolerance_bps = money(
        default=Decimal("3"), help_text="Keep an order whose price is this close to its target"
    )
    hedge_slippage_bps = money(
        default=Decimal("20"), help_text="A hedge never trades further than this past the book's price"
    )

    def params(self) -> QuoteParams:
        return QuoteParams(
            spread_bps=self.spread_bps,
            levels=self.levels,
            level_spacing_bps=self.level_spacing_bps,
            level_amount=self.level_amount,
            amount_growth=self.amount_growth,
        )
