"""The paper venues' exchange state: their markets, order books, trades and balances.

Kept in the database so that Daphne, the workers and beat all see one exchange, and it
survives restarts. Only bots.venues.paper reads and writes these.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from .fields import SIDE_CHOICES, bps, money
from .venues import Account, Venue


class PaperMarket(models.Model):
    venue = models.ForeignKey(Venue, on_delete=models.CASCADE, related_name="paper_markets")
    symbol = models.CharField(max_length=30)
    base = models.CharField(max_length=20)
    quote = models.CharField(max_length=20)
    price_tick = money()
    amount_step = money()
    min_amount = money(default=0)
    min_cost = money(default=0)
    maker_fee = money(default=0)
    taker_fee = money(default=0)
    # Ids are drawn from this counter while the row is locked, so they are unique per venue market.
    last_id = models.BigIntegerField(default=0)
    # The simulated outside market walks around this price (venues with a liquidity account).
    reference_price = money(null=True, blank=True)
    reference_second = models.BigIntegerField(default=0)
    volatility_bps = bps(default=2)
    # The simulated outside book laid around the reference each second (bots.simulation.paper_flow):
    # the defaults are a major exchange's, tight and deep; the demo seeds thinner ones too.
    book_spread_bps = bps(default=Decimal("2"))
    book_levels = models.PositiveSmallIntegerField(default=25)
    book_level_spacing_bps = bps(default=Decimal("2"))
    book_level_amount = money(default=Decimal("0.3"))
    book_amount_growth = money(default=Decimal("0.25"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["venue", "symbol"], name="paper_market_unique")]


class PaperOrder(models.Model):
    venue = models.ForeignKey(Venue, on_delete=models.CASCADE)
    symbol = models.CharField(max_length=30)
    order_id = models.CharField(max_length=64)
    client_order_id = models.CharField(max_length=64, null=True, blank=True)
    account = models.ForeignKey(Account, on_delete=models.CASCADE)
    side = models.CharField(max_length=4, choices=SIDE_CHOICES)
    type = models.CharField(max_length=10)
    time_in_force = models.CharField(max_length=3)
    price = money(null=True)
    amount = money()
    filled = money(default=0)
    cost = money(default=0)
    fee = money(default=0)
    status = models.CharField(max_length=10)
    seq = models.BigIntegerField()
    timestamp = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["venue", "order_id"], name="paper_order_unique"),
            models.UniqueConstraint(
                fields=["account", "client_order_id"], name="paper_client_order_id_unique"
            ),
        ]
        indexes = [models.Index(fields=["venue", "symbol", "status"])]


class PaperTrade(models.Model):
    venue = models.ForeignKey(Venue, on_delete=models.CASCADE)
    symbol = models.CharField(max_length=30)
    trade_id = models.CharField(max_length=64)
    order_id = models.CharField(max_length=64)
    client_order_id = models.CharField(max_length=64, null=True, blank=True)
    account = models.ForeignKey(Account, on_delete=models.CASCADE)
    side = models.CharField(max_length=4, choices=SIDE_CHOICES)
    price = money()
    amount = money()
    cost = money()
    fee = money()
    fee_currency = models.CharField(max_length=20)
    taker_or_maker = models.CharField(max_length=5)
    timestamp = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["venue", "trade_id"], name="paper_trade_unique")]
        indexes = [
            models.Index(fields=["account", "symbol", "timestamp"]),
            # An order's trades (the venue's answer for an order that filled, a tick's open
            # orders among them): without this, each read went through every trade of the venue.
            models.Index(fields=["venue", "order_id"]),
        ]


class PaperBalance(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="paper_balances")
    asset = models.CharField(max_length=20)
    free = money(default=0)
    used = money(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "asset"], name="paper_balance_unique")]


class PaperCancelDeadline(models.Model):
    """An account's dead man's switch on a paper venue (ccxt's cancelAllOrdersAfter): every
    order the account had open at `deadline` (ms) is cancelled then, unless the switch is armed
    again first. The venue applies a deadline that has passed before it serves any request, so
    it holds with no Ballast process running."""

    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="+")
    venue = models.ForeignKey(Venue, on_delete=models.CASCADE, related_name="+")
    deadline = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["venue", "deadline"])]
