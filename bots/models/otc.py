"""OTC broker markets: their settings, the front end's API clients and the quotes they asked for.

A broker market is a Market of kind "broker": its MM account is the inventory account that
sources both sides, and its hedge accounts, hedge settings and quote settings' hedge buffer and
slippage are used exactly as a market-making market's. An accepted quote is booked as a Fill of
that market with its Hedge intent beside it (bots/otc/quotes.py), so from there on it is hedged
by the same code as any fill.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from bots.engine.otc.pricing import BrokerTerms

from .fields import SIDE_CHOICES, money
from .markets import Market
from .trading import Fill


class BrokerSettings(models.Model):
    """How a broker market prices and limits its quotes (one row per broker market)."""

    market = models.OneToOneField(Market, on_delete=models.CASCADE, related_name="broker_settings")
    spread_bps = money(
        low=0, high=1000, default=Decimal("30"),
        help_text="Added to the hedge venues' volume-weighted price for the size (bps); the hedge "
        "floor still applies",
    )
    quote_seconds = models.PositiveIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(300)],
        help_text="A quote can be accepted for this many seconds",
    )
    max_amount = money(
        low=0, high=1_000_000_000, default=Decimal("1"), help_text="Largest quote, in base units"
    )
    daily_limit = money(
        low=0, high=1_000_000_000_000, default=Decimal("250000"),
        help_text="Most a user may accept in one UTC day, in quote currency",
    )
    tolerance_bps = money(
        low=0, high=500, default=Decimal("10"),
        help_text="How far the price may move against the desk between quote and acceptance (bps)",
    )

    class Meta:
        verbose_name_plural = "broker settings"

    def terms(self) -> BrokerTerms:
        return BrokerTerms(self.spread_bps, self.max_amount, self.daily_limit, self.tolerance_bps)


class ApiClient(models.Model):
    """A front end allowed to ask for and accept quotes: its token is kept only as a hash."""

    name = models.CharField(max_length=100, unique=True)
    token_hash = models.CharField(max_length=64, unique=True, help_text="sha256 of the token")
    token_hint = models.CharField(max_length=16, help_text="The token's first characters, to tell tokens apart")
    requests_per_minute = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(1), MaxValueValidator(6000)]
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class BrokerQuote(models.Model):
    """One firm quote given to a user through an API client, and what became of it."""

    OPEN = "open"
    ACCEPTED = "accepted"
    EXPIRED = "expired"
    REFUSED = "refused"  # accepted in time, but the price had moved beyond the tolerance
    STATE_CHOICES = [(s, s) for s in (OPEN, ACCEPTED, EXPIRED, REFUSED)]

    ref = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    market = models.ForeignKey(Market, on_delete=models.CASCADE, related_name="broker_quotes")
    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="quotes")
    user_ref = models.CharField(max_length=100, help_text="The exchange's id of the user")
    side = models.CharField(max_length=4, choices=SIDE_CHOICES, help_text="The user's side")
    amount = money()
    price = money()
    reference_price = money(help_text="The hedge venue's volume-weighted price for the size")
    floor_price = money(help_text="The worst price its hedge still earns at")
    hedge_venue = models.CharField(max_length=100)
    state = models.CharField(max_length=10, choices=STATE_CHOICES, default=OPEN)
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    fill = models.OneToOneField(
        Fill, null=True, blank=True, on_delete=models.PROTECT, related_name="broker_quote"
    )

    class Meta:
        indexes = [
            models.Index(fields=["market", "-created_at"]),
            models.Index(fields=["client", "user_ref", "state", "decided_at"]),
        ]

    @property
    def notional(self) -> Decimal:
        return self.price * self.amount

    def state_at(self, now) -> str:
        """Its state as a reader should see it: an open quote past its time is expired, whether
        or not an acceptance has closed it as such yet."""
        if self.state == self.OPEN and self.expires_at <= now:
            return self.EXPIRED
        return self.state
