"""Inventory across the bots' accounts and the exposure it leaves."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal


def net_exposure(holdings: Iterable[Decimal], target: Decimal) -> Decimal:
    """Total held across the accounts minus what the exchange means to hold.

    A perfectly hedged fill moves the asset from one account to the other and leaves this at
    zero; what is left is the risk nobody has hedged yet.
    """
    return sum(holdings, Decimal("0")) - target
