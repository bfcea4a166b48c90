"""What the bots did: their orders, the fills they got, the hedges that answered, balances seen."""

from __future__ import annotations

from django.db import models

from .fields import SIDE_CHOICES, money
from .markets import Market
from .venues import Account, Venue


class Order(models.Model):
    """An order of a bot, recorded before it is sent so a crash cannot lose track of it."""

    SENDING = "sending"
    OPEN = "open"
    CLOSED = "closed"
    CANCELED = "canceled"
    EXPIRED = "expired"
    FAILED = "failed"
    STATE_CHOICES = [(s, s) for s in (SENDING, OPEN, CLOSED, CANCELED, EXPIRED, FAILED)]

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="orders")
    market = models.ForeignKey(Market, on_delete=models.CASCADE, related_name="orders")
    client_order_id = models.CharField(max_length=64, unique=True)
    exchange_order_id = models.CharField(max_length=64, blank=True)
    side = models.CharField(max_length=4, choices=SIDE_CHOICES)
    type = models.CharField(max_length=10, default="limit")
    price = money(null=True)
    amount = money()
    filled = money(default=0)
    state = models.CharField(max_length=10, choices=STATE_CHOICES, default=SENDING)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["market", "account", "state"])]


class Fill(models.Model):
    """A trade of the market-making bot, recorded exactly once per venue trade id."""

    venue = models.ForeignKey(Venue, on_delete=models.PROTECT)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="fills")
    market = models.ForeignKey(Market, on_delete=models.CASCADE, related_name="fills")
    trade_id = models.CharField(max_length=64)
    order_id = models.CharField(max_length=64)
    side = models.CharField(max_length=4, choices=SIDE_CHOICES)
    price = money()
    amount = money()
    cost = money()
    fee = money(default=0)
    fee_currency = models.CharField(max_length=20, blank=True)
    timestamp = models.BigIntegerField(help_text="Venue time, ms")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["venue", "trade_id"], name="fill_once_per_venue_trade")]
        indexes = [models.Index(fields=["market", "-timestamp"])]


class Hedge(models.Model):
    """The opposite trade on the hedge venue that answers one fill."""

    PENDING = "pending"
    SENDING = "sending"
    FILLED = "filled"
    PARTIAL = "partial"
    FAILED = "failed"
    STATE_CHOICES = [(s, s) for s in (PENDING, SENDING, FILLED, PARTIAL, FAILED)]
    FINAL = (FILLED, PARTIAL, FAILED)

    fill = models.OneToOneField(Fill, on_delete=models.CASCADE, related_name="hedge")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="hedges")
    side = models.CharField(max_length=4, choices=SIDE_CHOICES)
    amount = money()
    client_order_id = models.CharField(max_length=64, unique=True)
    exchange_order_id = models.CharField(max_length=64, blank=True)
    limit_price = money(null=True)
    filled = money(default=0)
    average_price = money(null=True)
    fee = money(default=0)
    fee_currency = models.CharField(max_length=20, blank=True)
    state = models.CharField(max_length=10, choices=STATE_CHOICES, default=PENDING)
    error = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "updated_at"])]


class BalanceSnapshot(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="balance_snapshots")
    asset = models.CharField(max_length=20)
    free = money()
    used = money()
    total = money()
    taken_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["account", "asset", "-taken_at"])]
