"""Moving funds between the bots' accounts: the bands each account is held to, what withdrawals
cost, the approval policy, the transfer proposals and their approvals, the withdrawal whitelist,
and the paper venues' own transfers in flight."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from .fields import money
from .markets import Market
from .venues import Account, Venue

ASSET_LENGTH = 20


class InventoryBand(models.Model):
    """Where one account's holding of one asset should stay, and what it must always keep."""

    AMOUNT = "amount"
    SHARE = "share"
    UNIT_CHOICES = [(AMOUNT, "amounts of the asset"), (SHARE, "shares of the pair's value")]

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="bands")
    asset = models.CharField(max_length=ASSET_LENGTH)
    unit = models.CharField(max_length=6, choices=UNIT_CHOICES, default=AMOUNT)
    market = models.ForeignKey(
        Market,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="bands",
        help_text="Share bands only: the pair whose value (both assets, all its bot accounts, "
        "at the mark) the shares are of",
    )
    minimum = money(low=0)
    target = money(low=0)
    maximum = money(low=0)
    reserve = money(
        low=0,
        default=0,
        help_text="Never moved by a transfer, whatever the bands say (an amount of the asset)",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "asset"], name="band_per_account_asset")
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.asset} band"

    def clean(self):
        if None in (self.minimum, self.target, self.maximum):
            return
        if not self.minimum <= self.target <= self.maximum:
            raise ValidationError("The band needs minimum ≤ target ≤ maximum.")
        if self.unit == self.SHARE:
            if self.maximum > 1:
                raise ValidationError("Shares are fractions of the pair's value: at most 1.")
            if self.market_id is None:
                raise ValidationError(
                    {"market": "A share band needs the market whose pair it shares."}
                )
            if self.asset not in (self.market.base, self.market.quote):
                raise ValidationError({"asset": f"{self.asset} is not in {self.market.symbol}."})


class WithdrawalNetwork(models.Model):
    """What withdrawing an asset from a venue over one network costs and takes."""

    venue = models.ForeignKey(Venue, on_delete=models.CASCADE, related_name="withdrawal_networks")
    asset = models.CharField(max_length=ASSET_LENGTH)
    network = models.CharField(max_length=30, help_text="The venue's network code, e.g. BTC, TRC20")
    fee = money(low=0, help_text="Charged in the asset, out of the amount")
    minimum = money(low=0, default=0)
    step = money(default=Decimal("0.00000001"), help_text="Withdrawal precision, a power of ten")
    arrival_minutes = models.PositiveIntegerField(
        default=30, validators=[MaxValueValidator(10080)], help_text="Typical time to arrive"
    )
    enabled = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["venue", "asset", "network"], name="network_per_venue_asset"
            )
        ]

    def __str__(self) -> str:
        return f"{self.asset} via {self.network} from {self.venue}"

    def clean(self):
        if self.step is not None:
            if self.step <= 0 or self.step.normalize().as_tuple().digits != (1,):
                raise ValidationError({"step": "The step must be a power of ten, e.g. 0.00000001."})


class RebalancePolicy(models.Model):
    """How transfers of one asset are approved, executed and watched."""

    asset = models.CharField(max_length=ASSET_LENGTH, unique=True)
    two_approvers_above = money(
        low=0,
        help_text="Transfers of more than this amount need two different operators",
    )
    auto_execute = models.BooleanField(
        default=False,
        help_text="Withdraw through the venue's API once approved, to whitelisted addresses only",
    )
    velocity_window_minutes = models.PositiveIntegerField(
        default=1440,
        validators=[MinValueValidator(5), MaxValueValidator(43200)],
        help_text="The rolling window the velocity limits count over (a day by default)",
    )
    velocity_amount = money(
        low=0,
        null=True,
        blank=True,
        help_text="At most this much of the asset approved within the window, across all "
        "accounts; beyond it a transfer needs one more approval. Empty: no limit",
    )
    velocity_count = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(100000)],
        help_text="At most this many transfers approved within the window; beyond it a "
        "transfer needs one more approval. Empty: no limit",
    )
    runway_alert_hours = money(
        low=Decimal("0.1"),
        high=720,
        default=Decimal("6"),
        help_text="Alert, and plan towards the target, when an account's runway falls below this",
    )
    flow_window_minutes = models.PositiveIntegerField(
        default=60,
        validators=[MinValueValidator(5), MaxValueValidator(10080)],
        help_text="How far back the recent flow is measured for runways",
    )
    proposal_ttl_minutes = models.PositiveIntegerField(
        default=240,
        validators=[MinValueValidator(5), MaxValueValidator(10080)],
        help_text="A proposal not sent within this time expires",
    )
    max_fee_share = money(
        low=Decimal("0.0001"),
        high=Decimal("0.5"),
        default=Decimal("0.01"),
        help_text="Never propose a transfer whose fee is more than this fraction of it",
    )
    arrival_tolerance = money(
        low=0,
        high=Decimal("0.1"),
        default=Decimal("0.001"),
        help_text="A deposit within this fraction of the amount expected counts as the arrival",
    )

    class Meta:
        verbose_name_plural = "rebalance policies"

    def __str__(self) -> str:
        return f"{self.asset} policy"


class TransferProposal(models.Model):
    """One transfer of one asset between two accounts, from proposal to arrival."""

    PROPOSED = "proposed"
    APPROVED = "approved"
    SENDING = "sending"  # automatic execution only: recorded before the venue is called
    SENT = "sent"
    COMPLETED = "completed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    FAILED = "failed"
    STATE_CHOICES = [
        (s, s)
        for s in (
            PROPOSED,
            APPROVED,
            SENDING,
            SENT,
            COMPLETED,
            REJECTED,
            CANCELLED,
            EXPIRED,
            FAILED,
        )
    ]
    OPEN = (PROPOSED, APPROVED)  # waiting for people
    IN_FLIGHT = (SENDING, SENT)  # the money has left or is leaving
    FINAL = (COMPLETED, REJECTED, CANCELLED, EXPIRED, FAILED)

    PLANNER = "planner"
    RUNWAY = "runway"
    MANUAL = "manual"
    ORIGIN_CHOICES = [
        (PLANNER, "planner"),
        (RUNWAY, "planner, for a short runway"),
        (MANUAL, "by hand"),
    ]

    market = models.ForeignKey(
        Market, null=True, blank=True, on_delete=models.SET_NULL, related_name="transfers"
    )
    asset = models.CharField(max_length=ASSET_LENGTH)
    network = models.CharField(max_length=30)
    source = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="transfers_out")
    destination = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="transfers_in")
    amount = money(help_text="Leaves the source; the fee comes out of it")
    fee = money(default=0)
    arrival_minutes = models.PositiveIntegerField(default=30)
    origin = models.CharField(max_length=8, choices=ORIGIN_CHOICES)
    reason = models.TextField()
    balances = models.JSONField(
        default=dict,
        encoder=DjangoJSONEncoder,  # Decimals kept exactly, as text
        help_text="Each end's holding and band before, and after this transfer",
    )
    approvals_required = models.PositiveSmallIntegerField(default=1)
    approved_at = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="When the last approval it needed came"
    )
    over_velocity = models.CharField(
        max_length=300, blank=True, help_text="The velocity limit it went over, if it did"
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(max_length=10, choices=STATE_CHOICES, default=PROPOSED, db_index=True)
    state_note = models.CharField(max_length=500, blank=True, help_text="Why it ended as it did")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Sending: by hand (the operator records it) or automatically through the venue.
    sent_amount = money(null=True, blank=True)
    sent_fee = money(null=True, blank=True)
    txid = models.CharField(max_length=200, blank=True, help_text="Transaction id or hash")
    withdrawal_id = models.CharField(max_length=100, blank=True, help_text="The venue's id")
    address = models.CharField(max_length=200, blank=True)
    tag = models.CharField(max_length=100, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    destination_baseline = money(
        null=True, blank=True, help_text="The destination's total when it was sent"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    arrival_ref = models.CharField(
        max_length=200, blank=True, help_text="The deposit (id or tx id) that showed it arrived"
    )
    overdue_alerted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "asset"])]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="transfer_amount_positive"),
            models.CheckConstraint(
                condition=~Q(source=models.F("destination")), name="transfer_between_two_accounts"
            ),
            # Two proposals for one route at once would each look affordable on their own.
            models.UniqueConstraint(
                fields=["source", "destination", "asset"],
                condition=Q(state__in=["proposed", "approved", "sending"]),
                name="one_open_transfer_per_route",
            ),
        ]

    def __str__(self) -> str:
        return f"transfer {self.pk}: {self.amount} {self.asset} {self.source} → {self.destination}"

    @property
    def received(self) -> Decimal:
        return self.amount - self.fee

    @property
    def client_id(self) -> str:
        """The withdrawal's client id on the venue, so a retry can find one already sent."""
        return f"ballast-{self.pk}"

    def expected_by(self):
        return self.sent_at + timedelta(minutes=self.arrival_minutes) if self.sent_at else None


class TransferApproval(models.Model):
    proposal = models.ForeignKey(
        TransferProposal, on_delete=models.PROTECT, related_name="approvals"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    comment = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        # The database itself keeps one person from counting twice towards a quorum.
        constraints = [
            models.UniqueConstraint(fields=["proposal", "user"], name="one_approval_per_user")
        ]


class WhitelistAddress(models.Model):
    """An account's deposit address that automatic withdrawals may send to, once cooled."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="whitelist")
    asset = models.CharField(max_length=ASSET_LENGTH)
    network = models.CharField(max_length=30)
    address = models.CharField(max_length=200)
    tag = models.CharField(max_length=100, blank=True, help_text="Memo or destination tag")
    label = models.CharField(max_length=100, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)
    # Changing the whitelist takes two admins: an address one adds is not usable until
    # another confirms it, and its cooling period starts then.
    awaiting_second_admin = models.BooleanField(default=False)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    usable_from = models.DateTimeField(help_text="The end of the cooling period")
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "asset", "network"],
                condition=Q(removed_at__isnull=True),
                name="one_live_address_per_account_asset_network",
            )
        ]

    def __str__(self) -> str:
        return f"{self.asset}/{self.network} {self.address} ({self.account})"


class PaperTransfer(models.Model):
    """A withdrawal on a paper venue: debited when sent, credited to the destination account
    when `arrives_at` has passed and someone looks (bots.venues.paper)."""

    venue = models.ForeignKey(Venue, on_delete=models.CASCADE, related_name="paper_transfers")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="paper_withdrawals")
    destination = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="paper_deposits"
    )
    withdrawal_id = models.CharField(max_length=64, unique=True)
    client_id = models.CharField(max_length=64, null=True, blank=True)
    txid = models.CharField(max_length=100)
    asset = models.CharField(max_length=ASSET_LENGTH)
    network = models.CharField(max_length=30)
    address = models.CharField(max_length=200)
    tag = models.CharField(max_length=100, blank=True)
    amount = money()
    fee = money()
    created_at = models.DateTimeField()
    arrives_at = models.DateTimeField()
    credited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "client_id"], name="paper_withdrawal_client_id_unique"
            )
        ]
        indexes = [models.Index(fields=["destination", "credited_at"])]
