"""Price-action interventions: each market's settings and their versions, the interventions from
proposal to their last slice, their approvals, and the orders their slices sent."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from bots.engine.interventions.settings import PARAMS, PARAMS_BY_NAME, InterventionConfig, parse

from .fields import SIDE_CHOICES, money
from .markets import Market
from .venues import Account


def _setting(name: str):
    """The column of one intervention setting, with the bounds and meaning the engine's table
    gives it."""
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


class InterventionSettings(models.Model):
    """A market's detector thresholds, sizing and slicing. Changed through
    bots.interventions.workflow.change_settings, which versions and audits every change."""

    market = models.OneToOneField(
        Market, on_delete=models.CASCADE, related_name="intervention_settings"
    )
    version = models.PositiveIntegerField(default=0)
    detect = _setting("detect")
    flow_window_minutes = _setting("flow_window_minutes")
    flow_threshold = _setting("flow_threshold")
    mid_move_pct = _setting("mid_move_pct")
    imbalance_ratio = _setting("imbalance_ratio")
    inventory_check = _setting("inventory_check")
    cooldown_minutes = _setting("cooldown_minutes")
    default_amount = _setting("default_amount")
    duration_minutes = _setting("duration_minutes")
    limit_bps = _setting("limit_bps")
    where = _setting("where")
    slice_seconds = _setting("slice_seconds")
    jitter = _setting("jitter")
    participation_pct = _setting("participation_pct")
    participation_window_minutes = _setting("participation_window_minutes")

    class Meta:
        verbose_name_plural = "intervention settings"

    def values(self) -> dict[str, object]:
        return {p.name: getattr(self, p.name) for p in PARAMS}

    def config(self) -> InterventionConfig:
        return parse(self.values())


class InterventionSettingsVersion(models.Model):
    """One saved change of a market's intervention settings: who, when, before and after."""

    market = models.ForeignKey(
        Market, on_delete=models.CASCADE, related_name="intervention_settings_versions"
    )
    number = models.PositiveIntegerField()
    at = models.DateTimeField(auto_now_add=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor = models.CharField(max_length=150)
    changes = models.JSONField(help_text='{"setting": {"old": "...", "new": "..."}}')
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["market", "number"], name="intervention_settings_version_unique"
            )
        ]


class Intervention(models.Model):
    """A buyback or an unwind of one market, from proposal to its last slice."""

    PROPOSED = "proposed"
    RUNNING = "running"  # approved: its slices go
    PAUSED = "paused"  # by an operator or the kill switch; only a resume restarts it
    COMPLETED = "completed"  # its time is up or its amount filled
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"
    STATES = (PROPOSED, RUNNING, PAUSED, COMPLETED, CANCELLED, REJECTED, EXPIRED)
    STATE_CHOICES = [(s, s) for s in STATES]
    OPEN = (PROPOSED, RUNNING, PAUSED)
    ACTIVE = (RUNNING, PAUSED)

    BUYBACK = "buyback"
    UNWIND = "unwind"
    KIND_CHOICES = [(BUYBACK, "buyback"), (UNWIND, "unwind")]
    DETECTOR = "detector"
    MANUAL = "manual"
    ORIGIN_CHOICES = [(DETECTOR, "the detectors"), (MANUAL, "by hand")]

    market = models.ForeignKey(Market, on_delete=models.PROTECT, related_name="interventions")
    kind = models.CharField(max_length=8, choices=KIND_CHOICES)
    where = models.CharField(max_length=8, choices=[("own", "own book"), ("hedge", "hedge venue")])
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="interventions")
    amount = money(help_text="Base to buy or sell")
    minutes = models.PositiveIntegerField()
    price_limit = money(help_text="A buyback's cap, an unwind's floor")
    reference = money(help_text="The hedge venues' mid when proposed")
    origin = models.CharField(max_length=8, choices=ORIGIN_CHOICES)
    reason = models.TextField()
    findings = models.JSONField(default=list, blank=True, encoder=DjangoJSONEncoder)
    estimate = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    effect = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    approvals_required = models.PositiveSmallIntegerField(default=1)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(max_length=10, choices=STATE_CHOICES, default=PROPOSED, db_index=True)
    state_note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Execution: the slice plan and its progress.
    plan = models.JSONField(
        default=list, blank=True, encoder=DjangoJSONEncoder, help_text="[[offset ms, amount], ...]"
    )
    slice_seconds = models.PositiveIntegerField(default=60)
    jitter = money(default=0)
    participation_pct = money(default=20)
    participation_window_minutes = models.PositiveIntegerField(default=5)
    started_at = models.DateTimeField(null=True, blank=True)
    paused_ms = models.BigIntegerField(
        default=0, help_text="Time spent paused, which the plan's clock does not count"
    )
    paused_at = models.DateTimeField(null=True, blank=True)
    next_at = models.DateTimeField(null=True, blank=True, db_index=True)
    filled = money(default=0)
    cost = money(default=0, help_text="Quote paid (buyback) or received (unwind)")
    fee_quote = money(default=0)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="intervention_amount_positive"),
            # One at a time per market: two would trade against each other's assumptions.
            models.UniqueConstraint(
                fields=["market"],
                condition=Q(state__in=["proposed", "running", "paused"]),
                name="one_open_intervention_per_market",
            ),
        ]

    def __str__(self) -> str:
        return f"intervention {self.pk}: {self.kind} {self.amount} {self.market}"

    @property
    def side(self) -> str:
        return "buy" if self.kind == self.BUYBACK else "sell"

    @property
    def label(self) -> str:
        return f"intervention #{self.pk}"


class InterventionApproval(models.Model):
    intervention = models.ForeignKey(
        Intervention, on_delete=models.PROTECT, related_name="approvals"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    comment = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["intervention", "user"], name="one_intervention_approval_per_user"
            )
        ]


class InterventionOrder(models.Model):
    """One slice's order: recorded as sending before the venue is called, then its outcome."""

    SENDING = "sending"
    DONE = "done"
    UNSENT = "unsent"  # never reached the venue
    STATE_CHOICES = [(s, s) for s in (SENDING, DONE, UNSENT)]

    intervention = models.ForeignKey(Intervention, on_delete=models.PROTECT, related_name="orders")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    number = models.PositiveIntegerField()
    client_order_id = models.CharField(max_length=36, unique=True)
    side = models.CharField(max_length=4, choices=SIDE_CHOICES)
    amount = money()
    limit_price = money()
    state = models.CharField(max_length=8, choices=STATE_CHOICES, default=SENDING)
    status = models.CharField(max_length=10, blank=True, help_text="The venue's order status")
    exchange_order_id = models.CharField(max_length=64, blank=True, db_index=True)
    filled = money(default=0)
    cost = money(default=0)
    fee = money(default=0)
    fee_currency = models.CharField(max_length=20, blank=True)
    error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(
                fields=["intervention", "number"], name="intervention_order_number_unique"
            )
        ]
