"""The venues' fees a market's quote settings are checked against (the hedge floor): read from
the venues for a saved market (its settings page) or one about to be made (onboarding)."""

from __future__ import annotations

from decimal import Decimal

from bots.engine.market_making.quote_config import CheckContext
from bots.engine.rules import dec
from bots.venues import ccxt_errors as ccxt
from bots.venues import venue_for


def check_context(symbol: str, mm_account, hedge_accounts, reference_price: Decimal | None = None
                  ) -> CheckContext:
    """The cheapest hedge venue's taker fee, the own venue's maker fee and the reference for the
    cross-field checks; None where a venue cannot say right now (that check is then skipped)."""
    takers = []
    for account in hedge_accounts:
        try:
            takers.append(dec(venue_for(account).market(symbol).get("taker") or 0))
        except ccxt.BaseError:
            pass
    try:
        maker = dec(venue_for(mm_account).market(symbol).get("maker") or 0)
    except ccxt.BaseError:
        maker = None
    return CheckContext(
        hedge_taker_fee=min(takers) if takers else None,
        own_maker_fee=maker,
        reference_price=reference_price,
    )
