"""Velocity limits: how much of an asset, and how many transfers of it, may be approved within a
rolling window (a day by default), counted across all accounts.

A transfer that would go over a limit is never refused silently nor let through silently: it
needs one more approval, from one more person, than its policy otherwise asks, and says why.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from bots.engine.figures import plain
from bots.models import RebalancePolicy, TransferProposal

P = TransferProposal
NOT_MOVED = (P.REJECTED, P.CANCELLED, P.EXPIRED)  # approved, then never sent


def counted(asset: str, minutes: int, now=None, exclude: int | None = None):
    """The transfers of `asset` approved within the window that ends now."""
    since = (now or timezone.now()) - timedelta(minutes=minutes)
    rows = P.objects.filter(asset=asset, approved_at__gt=since).exclude(state__in=NOT_MOVED)
    return rows.exclude(pk=exclude) if exclude is not None else rows


def over_limit(p: TransferProposal, policy: RebalancePolicy, now=None) -> str:
    """Which limit approving `p` now would go over, in words, or ""."""
    if policy.velocity_amount is None and policy.velocity_count is None:
        return ""
    window = policy.velocity_window_minutes
    amounts = list(counted(p.asset, window, now, exclude=p.pk).values_list("amount", flat=True))
    total = sum(amounts, start=p.amount)
    span = f"{window // 60} h" if window % 60 == 0 else f"{window} min"
    if policy.velocity_amount is not None and total > policy.velocity_amount:
        return (
            f"{plain(total)} {p.asset} approved within {span} with this one, over the "
            f"velocity limit of {plain(policy.velocity_amount)}"
        )
    if policy.velocity_count is not None and len(amounts) + 1 > policy.velocity_count:
        return (
            f"{len(amounts) + 1} {p.asset} transfers approved within {span} with this one, "
            f"over the velocity limit of {policy.velocity_count}"
        )
    return ""
