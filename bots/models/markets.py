"""The markets Ballast makes, how the market-making bot quotes each one, every version of those
settings, and the desk-wide kill switch."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from bots.engine.market_making.quote_config import PARAMS, PARAMS_BY_NAME, QuoteConfig, parse

from .fields import money
from .venues import Account


class MarketManager(models.Manager):
    def get_for_work(self, market_id: int) -> Market:
        """A market with what a tick, a capture or a hedge follow-up reads of it at once: its
        accounts' venues and its quote settings."""
        return self.select_related(
            "mm_account__venue", "hedge_account__venue", "quote_settings"
        ).get(pk=market_id)


class Market(models.Model):
    RUNNING = "running"
    DEGRADED = "degraded"  # a venue or the settings fail; the next tick tries again
    HOLDING = "holding"  # protection holds quotes off (breaker, stale reference, limiter); resumes by itself
    PAUSED = "paused"  # an operator paused it; only a resume restarts it
    KILLED = "killed"  # the kill switch: everything cancelled; only a resume restarts it
    STATE_CHOICES = [(s, s) for s in (RUNNING, DEGRADED, HOLDING, PAUSED, KILLED)]
    STOPPED = (PAUSED, KILLED)

    BOOK = "book"  # the MM bot quotes the own order book
    BROKER = "broker"  # OTC: users ask for a firm quote for a size (bots/otc); nothing is quoted
    KIND_CHOICES = [(BOOK, "order book (market making)"), (BROKER, "OTC broker (firm quotes)")]

    slug = models.SlugField(unique=True, help_text="Used in URLs, e.g. btc-usdt")
    kind = models.CharField(
        max_length=6, choices=KIND_CHOICES, default=BOOK,
        help_text="A broker market's MM account is the inventory account its quotes book against",
    )
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
    started_at = models.DateTimeField(
        null=True, blank=True,
        help_text="When an operator last resumed or enabled the market: the dead man's switch "
        "counts a silence from the later of this and the last tick",
    )
    quotes_pulled_at = models.DateTimeField(
        null=True, blank=True, help_text="When the dead man's switch last pulled the quotes (bots.market_making.dead_man)"
    )
    last_fill_timestamp = models.BigIntegerField(
        default=0, help_text="Venue timestamp (ms) of the newest fill recorded"
    )
    # What the last tick saw and decided, for the next tick (breaker, volatility) and the page.
    reference_price = money(null=True, blank=True, help_text="The hedge venues' mid at the last tick")
    reference_at = models.DateTimeField(null=True, blank=True)
    reference_samples = models.JSONField(
        default=list, blank=True, help_text="[[ms, price], ...] over the volatility window"
    )
    protect_until = models.DateTimeField(
        null=True, blank=True, help_text="The price breaker holds quotes off until then"
    )
    quote_summary = models.JSONField(
        default=dict, blank=True, help_text="The last tick's book with each level's edge, and why sides are off"
    )
    # Simulated users (demo and paper venues only).
    sim_trades_per_minute = models.FloatField(
        default=0, validators=[MinValueValidator(0), MaxValueValidator(600)]
    )
    sim_mean_amount = money(default=Decimal("0.05"))
    sim_seed = models.IntegerField(default=7)

    objects = MarketManager()

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


def _setting(name: str):
    """The column of one quote parameter, with the bounds and meaning bots.engine.market_making.quote_config
    gives it, so the model, the form and the engine never disagree."""
    param = PARAMS_BY_NAME[name]
    common = {"default": param.default, "verbose_name": param.label, "help_text": param.help}
    if param.kind is bool:
        return models.BooleanField(**common)
    if param.kind is str:
        return models.CharField(max_length=20, choices=[(c, c) for c in param.choices], **common)
    if param.kind is int:
        validators = [MinValueValidator(param.minimum), MaxValueValidator(param.maximum)]
        return models.IntegerField(validators=validators, **common)
    return money(low=param.minimum, high=param.maximum, **common)


class QuoteSettings(models.Model):
    """A market's quote parameters. Change them through bots.market_making.operator_commands, which versions
    every change; each tick reads them afresh, so a change takes effect at the next tick."""

    market = models.OneToOneField(Market, on_delete=models.CASCADE, related_name="quote_settings")
    version = models.PositiveIntegerField(default=0, help_text="Bumped by every saved change")
    mode = _setting("mode")
    bid_spread_bps = _setting("bid_spread_bps")
    ask_spread_bps = _setting("ask_spread_bps")
    levels = _setting("levels")
    level_spacing_bps = _setting("level_spacing_bps")
    level_amount = _setting("level_amount")
    amount_growth = _setting("amount_growth")
    post_only = _setting("post_only")
    ask_budget_base = _setting("ask_budget_base")
    bid_budget_quote = _setting("bid_budget_quote")
    reserve_base = _setting("reserve_base")
    reserve_quote = _setting("reserve_quote")
    hedge_buffer_bps = _setting("hedge_buffer_bps")
    hedge_slippage_bps = _setting("hedge_slippage_bps")
    mirror_fraction = _setting("mirror_fraction")
    order_refresh_seconds = _setting("order_refresh_seconds")
    refresh_tolerance_bps = _setting("refresh_tolerance_bps")
    max_order_age_seconds = _setting("max_order_age_seconds")
    minimum_spread_bps = _setting("minimum_spread_bps")
    filled_order_delay_seconds = _setting("filled_order_delay_seconds")
    price_ceiling = _setting("price_ceiling")
    price_floor = _setting("price_floor")
    inventory_skew = _setting("inventory_skew")
    target_base_pct = _setting("target_base_pct")
    inventory_range_multiplier = _setting("inventory_range_multiplier")
    skew_price_bps = _setting("skew_price_bps")
    position_target_base = _setting("position_target_base")
    position_band_base = _setting("position_band_base")
    as_gamma = _setting("as_gamma")
    as_kappa = _setting("as_kappa")
    as_horizon_seconds = _setting("as_horizon_seconds")
    volatility_window_seconds = _setting("volatility_window_seconds")
    glft_a = _setting("glft_a")
    glft_k = _setting("glft_k")
    glft_gamma = _setting("glft_gamma")
    glft_xi = _setting("glft_xi")
    glft_delta = _setting("glft_delta")
    glft_q_limit = _setting("glft_q_limit")
    breaker_move_pct = _setting("breaker_move_pct")
    breaker_pause_seconds = _setting("breaker_pause_seconds")
    stale_after_seconds = _setting("stale_after_seconds")
    max_unhedged_base = _setting("max_unhedged_base")
    hedge_pending_seconds = _setting("hedge_pending_seconds")
    max_trades_per_minute = _setting("max_trades_per_minute")

    class Meta:
        verbose_name_plural = "quote settings"

    def values(self) -> dict[str, object]:
        return {p.name: getattr(self, p.name) for p in PARAMS}

    def config(self) -> QuoteConfig:
        """The validated settings; InvalidSettings if the row holds values the engine refuses."""
        return parse(self.values())


class QuoteSettingsVersion(models.Model):
    """One saved change of a market's quote settings: who, when, and each value before and after."""

    market = models.ForeignKey(Market, on_delete=models.CASCADE, related_name="settings_versions")
    number = models.PositiveIntegerField()
    at = models.DateTimeField(auto_now_add=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor = models.CharField(max_length=150)
    changes = models.JSONField(help_text='{"parameter": {"old": "...", "new": "..."}}')
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["market", "number"], name="settings_version_unique")
        ]


class KillSwitch(models.Model):
    """The desk-wide kill switch, one row: while engaged no market quotes, whatever its state."""

    engaged = models.BooleanField(default=False)
    actor = models.CharField(max_length=150, blank=True)
    reason = models.TextField(blank=True)
    changed_at = models.DateTimeField(null=True, blank=True)

    @classmethod
    def current(cls) -> KillSwitch:
        return cls.objects.get_or_create(pk=1)[0]

    @classmethod
    def is_engaged(cls) -> bool:
        return cls.objects.filter(pk=1, engaged=True).exists()
