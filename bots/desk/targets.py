"""Changing a market's liquidity targets: versioned so a stale form is refused, audited."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from bots.desk.audit import record
from bots.models import MarketTargets, TargetChange
from bots.models.targets import plain


def change_targets(
    targets: MarketTargets, user, values: dict, seen_version: int
) -> TargetChange | None:
    """Apply `values` if nobody changed the targets since `seen_version`; record who changed
    what from what. None when nothing differed. Raises ValidationError and changes nothing
    when the values are out of bounds or the form was stale."""
    with transaction.atomic():
        current = MarketTargets.objects.select_for_update().get(pk=targets.pk)
        if current.version != seen_version:
            raise ValidationError(
                "Someone changed these targets while you were editing (version "
                f"{current.version}, your form had {seen_version}); reload and try again."
            )
        changes = {
            field: [plain(getattr(current, field)), plain(values[field])]
            for field in MarketTargets.EDITABLE
            if field in values and Decimal(getattr(current, field)) != Decimal(values[field])
        }
        if not changes:
            return None
        for field in changes:
            setattr(current, field, values[field])
        current.full_clean()
        current.version += 1
        current.save()
        change = TargetChange.objects.create(
            targets=current, market=current.market, user=user, version=current.version, changes=changes
        )
        record("targets changed", user=user, market=current.market, subject=f"targets v{current.version}",
               changes=changes)
    targets.refresh_from_db()
    return change
