"""Runs of the morning check (the playbook's five-minute checklist): who ran it, when, and how
each item came out."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class MorningCheck(models.Model):
    run_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    run_at = models.DateTimeField(auto_now_add=True, db_index=True)
    passed = models.BooleanField(help_text="No item failed")

    class Meta:
        ordering = ["-run_at", "-id"]


class CheckItem(models.Model):
    PASS = "pass"
    FAIL = "fail"
    NOT_CHECKED = "not checked"
    RESULT_CHOICES = [(PASS, "pass"), (FAIL, "fail"), (NOT_CHECKED, "not checked")]

    check_run = models.ForeignKey(MorningCheck, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField()
    key = models.CharField(max_length=30)
    title = models.CharField(max_length=100)
    result = models.CharField(max_length=12, choices=RESULT_CHOICES)
    detail = models.TextField(blank=True)
    action_url = models.CharField(max_length=300, blank=True)
    action_label = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["check_run", "position"]
