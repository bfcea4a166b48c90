"""The audit log records who did what and cannot be edited from the application."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bots.desk.audit import record
from bots.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_an_entry_names_the_user_or_the_part_of_ballast_that_acted(operator, demo_market):
    by_person = record("pause", user=operator, market=demo_market, reason="maintenance")
    by_system = record("breaker", actor="price breaker", market=demo_market, move_pct=Decimal("2.5"))
    assert (by_person.actor, by_person.user, by_person.reason) == ("olivia", operator, "maintenance")
    assert (by_system.actor, by_system.user, by_system.details) == ("price breaker", None, {"move_pct": "2.5"})
    assert list(AuditEntry.objects.all()) == [by_system, by_person]


def test_entries_cannot_be_changed_or_deleted(demo_market):
    entry = record("kill", actor="operator command", market=demo_market)
    entry.reason = "rewritten"
    with pytest.raises(ValueError, match="cannot be changed"):
        entry.save()
    with pytest.raises(ValueError, match="cannot be deleted"):
        entry.delete()
    assert AuditEntry.objects.get().reason == ""
