"""Changes to what protects money, made by two admins: one proposes, another confirms.

A change request holds what is asked and what was there when it was asked; confirming it
applies it (bots.desk.four_eyes). Who created whom is kept too, so an admin cannot confirm
their own request through a second account they made.
"""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import F, Q


class ChangeRequest(models.Model):
    GRANT_ROLE = "grant role"
    REMOVE_ROLE = "remove role"
    POLICY = "policy"
    KEY = "key"
    KIND_CHOICES = [
        (GRANT_ROLE, "grant a role"),
        (REMOVE_ROLE, "remove a role"),
        (POLICY, "rebalance policy"),
        (KEY, "venue key"),
    ]
    PENDING = "pending"
    APPLIED = "applied"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    STATE_CHOICES = [(s, s) for s in (PENDING, APPLIED, REJECTED, CANCELLED)]

    kind = models.CharField(max_length=12, choices=KIND_CHOICES)
    summary = models.CharField(max_length=300, help_text="What the change does, in one line")
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # What is asked (a role, a policy's fields, a key's encrypted fields) and what was there.
    payload = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    before = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    reason = models.TextField(blank=True)
    state = models.CharField(max_length=10, choices=STATE_CHOICES, default=PENDING, db_index=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True, help_text="Why it was rejected or cancelled")

    class Meta:
        ordering = ["-proposed_at", "-id"]
        constraints = [
            # The database itself refuses a change applied by the admin who asked for it.
            models.CheckConstraint(
                condition=~Q(state="applied", decided_by=F("proposed_by")),
                name="change_applied_by_a_second_admin",
            ),
        ]

    def __str__(self) -> str:
        return f"change {self.pk}: {self.summary}"


class UserOrigin(models.Model):
    """Who created a login (in Django's admin or on a desk page): that admin and the user
    they made never count as two people for a change request."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="origin"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
