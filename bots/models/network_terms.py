"""Withdrawal terms read from the exchanges: each difference from what the planner uses waits
here for an admin, and the last reading of each venue is kept (bots/treasury/network_facts.py)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from .fields import money
from .transfers import ASSET_LENGTH
from .venues import Venue


class NetworkTermsChange(models.Model):
    """One network's terms as the exchange reports them, where they differ from the planner's
    WithdrawalNetwork row: pending until an admin accepts (the row takes the new figures) or
    dismisses it. The planner keeps the old figures until then."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DISMISSED = "dismissed"
    SUPERSEDED = "superseded"  # the exchange changed it again, or went back to the planner's
    STATE_CHOICES = [(s, s) for s in (PENDING, ACCEPTED, DISMISSED, SUPERSEDED)]

    venue = models.ForeignKey(Venue, on_delete=models.CASCADE, related_name="network_changes")
    asset = models.CharField(max_length=ASSET_LENGTH)
    network = models.CharField(max_length=30)
    fee_before = money(low=0)
    minimum_before = money(low=0)
    enabled_before = models.BooleanField()
    fee_after = money(low=0)
    minimum_after = money(low=0)
    enabled_after = models.BooleanField()
    listed_after = models.BooleanField(
        default=True, help_text="False: the exchange no longer lists this network"
    )
    state = models.CharField(max_length=10, choices=STATE_CHOICES, default=PENDING, db_index=True)
    found_at = models.DateTimeField(auto_now_add=True)
    seen_at = models.DateTimeField(auto_now_add=True, help_text="Last reading that reported it")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-found_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["venue", "asset", "network"],
                condition=Q(state="pending"),
                name="one_pending_terms_change_per_network",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.asset} via {self.network} on {self.venue}: change {self.pk}"

    @property
    def closes(self) -> bool:
        """Withdrawals over it stop (closed or gone on the exchange) while the planner uses it."""
        return self.enabled_before and not self.enabled_after


class NetworkTermsReading(models.Model):
    """The last time a venue's withdrawal terms were read, and what went wrong if anything."""

    venue = models.OneToOneField(Venue, on_delete=models.CASCADE, related_name="terms_reading")
    read_at = models.DateTimeField()
    error = models.CharField(max_length=500, blank=True, help_text="Empty: read and compared")

    def __str__(self) -> str:
        return f"{self.venue} read {self.read_at:%Y-%m-%d %H:%M}"


class NetworkClosure(models.Model):
    """A network an exchange reported closed, for withdrawals from it or deposits to it, at the
    last reading (bots/treasury/network_closures.py). While it stands, an open transfer over it
    (withdrawn from that venue, or deposited to it) is blocked; the row goes when the exchange
    reports the network open again. It needs no admin: it can only stop money moving."""

    WITHDRAW = "withdraw"
    DEPOSIT = "deposit"
    SIDE_CHOICES = [(WITHDRAW, "withdrawals"), (DEPOSIT, "deposits")]

    venue = models.ForeignKey(Venue, on_delete=models.CASCADE, related_name="network_closures")
    asset = models.CharField(max_length=ASSET_LENGTH)
    network = models.CharField(max_length=30)
    side = models.CharField(max_length=8, choices=SIDE_CHOICES)
    since = models.DateTimeField(help_text="The reading that first reported it closed")

    class Meta:
        ordering = ["venue_id", "asset", "network", "side"]
        constraints = [
            models.UniqueConstraint(
                fields=["venue", "asset", "network", "side"], name="one_closure_per_network_side"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_side_display()} of {self.asset} over {self.network} closed on {self.venue}"
