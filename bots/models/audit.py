"""The audit log: who or what did what, when, and why. Rows are only ever added."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEntry(models.Model):
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor = models.CharField(max_length=150, help_text="The user's name, or the part of Ballast that acted")
    action = models.CharField(max_length=50, db_index=True)
    market = models.ForeignKey(
        "bots.Market", null=True, blank=True, on_delete=models.PROTECT, related_name="audit_entries"
    )
    subject = models.CharField(max_length=200, blank=True, help_text="What was acted on, e.g. hedge 42")
    reason = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor} {self.action} {self.subject}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("audit entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("audit entries cannot be deleted")
