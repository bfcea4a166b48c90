"""What the bots did: their orders, the fills they got, the hedges that answered, balances seen."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models

from bots.engine.hedging.hedge_order import HedgeParams

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
        indexes = [
            models.Index(fields=["market", "account", "state"]),
            # A tick records its cancels by the venue's order ids: without this, each such
            # update read every order the account ever placed (some 28,000 an hour in the demo).
            models.Index(fields=["account", "exchange_order_id"]),
        ]


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
    """The intent to hedge one fill: written with the fill (the outbox), closed once it is hedged.

    Its orders on the hedge venues are HedgeOrder rows; what hedged how much of it, and at what
    price, are its HedgeCover rows (an order's fill, the netting against an opposite fill, or a
    manual hedge). `filled`, `cost` and `fee_quote` are the sums of its covers.
    """

    PENDING = "pending"  # a task should work on it (queued, or backing off after an error)
    SENDING = "sending"  # a task holds it: `attempts` is that task's lease
    WAITING = "waiting"  # in the market's pending hedge position: too small or short of balance
    CARRIED = "carried"  # its remainder is hedged by the orders of `carrier`
    FILLED = "filled"
    MANUAL = "manual"  # completed by an operator's record of a hedge done elsewhere
    FAILED = "failed"  # needs an operator: retry, record a manual hedge, or write off
    WRITTEN_OFF = "written_off"
    STATE_CHOICES = [
        (s, s.replace("_", " "))
        for s in (PENDING, SENDING, WAITING, CARRIED, FILLED, MANUAL, FAILED, WRITTEN_OFF)
    ]
    # Nothing automatic happens to these any more (a failed one waits for an operator).
    FINAL = (FILLED, MANUAL, FAILED, WRITTEN_OFF)
    CLOSED = (FILLED, MANUAL, WRITTEN_OFF)
    # The rest, named rather than "not closed": the state index finds these few among the
    # closed many, where NOT IN would read every hedge of the market.
    OPEN = (PENDING, SENDING, WAITING, CARRIED, FAILED)

    BELOW_MINIMUM = "below_minimum"
    SHORT_OF_BALANCE = "short_of_balance"
    WAIT_CHOICES = [("", ""), (BELOW_MINIMUM, "below the minimum"), (SHORT_OF_BALANCE, "short of balance")]

    fill = models.OneToOneField(Fill, on_delete=models.CASCADE, related_name="hedge")
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="hedges", help_text="The market's primary hedge account"
    )
    side = models.CharField(max_length=4, choices=SIDE_CHOICES)
    amount = money()
    client_order_id = models.CharField(
        max_length=64, unique=True, help_text="Base of its orders' client order ids"
    )
    state = models.CharField(max_length=12, choices=STATE_CHOICES, default=PENDING)
    wait_reason = models.CharField(max_length=20, choices=WAIT_CHOICES, blank=True)
    carrier = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="carried"
    )
    error = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    orders_opened = models.PositiveIntegerField(default=0)
    step = models.PositiveSmallIntegerField(default=0, help_text="Ladder step of its next order")
    unclassified_errors = models.PositiveSmallIntegerField(default=0)
    # The first decision's book price for the size, and the protection price around it.
    expected_price = money(null=True)
    limit_price = money(null=True)
    filled = money(default=0)
    cost = money(default=0)
    fee_quote = money(default=0)
    average_price = money(null=True)
    pnl_quote = money(null=True)
    pnl_bps = money(null=True)
    slippage_bps = money(null=True)
    hedge_ms = models.BigIntegerField(null=True, blank=True, help_text="Fill (venue time) to done")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    done_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["state", "updated_at"])]

    @property
    def remaining(self):
        return self.amount - self.filled


class HedgeOrder(models.Model):
    """One order on a hedge venue, recorded as "sending" before it is sent."""

    SENDING = "sending"  # sent, or about to be: its outcome is not known
    DONE = "done"  # the venue reported it final (`status`: closed, expired or canceled)
    REJECTED = "rejected"  # the venue refused it: nothing was placed
    UNSENT = "unsent"  # it never reached the venue: asked by client id after it could have
    STATE_CHOICES = [(s, s) for s in (SENDING, DONE, REJECTED, UNSENT)]

    hedge = models.ForeignKey(Hedge, on_delete=models.CASCADE, related_name="orders")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="hedge_orders")
    client_order_id = models.CharField(max_length=64, unique=True)
    exchange_order_id = models.CharField(max_length=64, blank=True)
    side = models.CharField(max_length=4, choices=SIDE_CHOICES)
    amount = money()
    limit_price = money()
    expected_price = money()
    step = models.PositiveSmallIntegerField(default=0)
    state = models.CharField(max_length=10, choices=STATE_CHOICES, default=SENDING)
    status = models.CharField(max_length=10, blank=True, help_text="The venue's order status")
    filled = money(default=0)
    cost = money(default=0)
    fee = money(default=0)
    fee_currency = models.CharField(max_length=20, blank=True)
    error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True, help_text="When the venue's answer came")

    class Meta:
        indexes = [models.Index(fields=["account", "state"])]


class HedgeCover(models.Model):
    """How much of a hedge intent was hedged, by what, at what price."""

    ORDER = "order"
    NETTED = "netted"  # against an opposite fill of the same market: the pair needs no order
    MANUAL = "manual"
    KIND_CHOICES = [(ORDER, "order"), (NETTED, "netted"), (MANUAL, "manual")]

    hedge = models.ForeignKey(Hedge, on_delete=models.CASCADE, related_name="covers")
    kind = models.CharField(max_length=6, choices=KIND_CHOICES)
    amount = money()
    price = money()
    fee_quote = money(default=0)
    order = models.ForeignKey(HedgeOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="covers")
    counterpart = models.ForeignKey(
        Hedge, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    venue = models.CharField(max_length=100, blank=True, help_text="Manual hedges: where")
    reference = models.CharField(max_length=200, blank=True, help_text="Manual hedges: its id there")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)


class HedgeSettings(models.Model):
    """How a market's fills are hedged, beside QuoteSettings.hedge_slippage_bps.

    A market without a row hedges with the defaults.
    """

    market = models.OneToOneField(Market, on_delete=models.CASCADE, related_name="hedge_settings")
    max_notional = money(
        low=1,
        high=1_000_000_000,
        default=Decimal("10000"),
        help_text="Largest order on a hedge venue, in quote currency; bigger hedges are split",
    )
    ladder_steps = models.PositiveSmallIntegerField(
        default=3,
        validators=[MaxValueValidator(10)],
        help_text="Further tries, each wider, for what an order left unfilled; then it fails",
    )
    ladder_step_bps = money(
        low=0,
        high=500,
        default=Decimal("10"),
        help_text="Extra slippage allowed at each further step",
    )
    ladder_pause_ms = models.PositiveIntegerField(
        default=300,
        validators=[MaxValueValidator(10000)],
        help_text="Wait before the next step, so the book can refill",
    )

    def clean(self):

        problems = self.params(Decimal("0")).problems()
        if problems:
            raise ValidationError("; ".join(problems))

    def params(self, slippage_bps: Decimal) -> HedgeParams:
        return HedgeParams(
            slippage_bps=slippage_bps,
            ladder_steps=self.ladder_steps,
            ladder_step_bps=self.ladder_step_bps,
            max_notional=self.max_notional,
        )


class HedgeMismatch(models.Model):
    """A difference the reconciler found between a hedge venue's trades and Ballast's records."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="hedge_mismatches")
    exchange_order_id = models.CharField(max_length=64)
    client_order_id = models.CharField(max_length=64, blank=True)
    venue_filled = money(default=0)
    venue_cost = money(default=0)
    recorded_filled = money(default=0)
    recorded_cost = money(default=0)
    detail = models.CharField(max_length=500)
    first_seen = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "exchange_order_id"], name="hedge_mismatch_once")
        ]


class BalanceSnapshot(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="balance_snapshots")
    asset = models.CharField(max_length=20)
    free = money()
    used = money()
    total = money()
    taken_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["account", "asset", "-taken_at"])]
