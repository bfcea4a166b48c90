"""Where Ballast reaches exchanges: the interface (base), the paper venue, the ccxt adapter."""

from __future__ import annotations


def venue_for(account, *, withdrawing: bool = False):
    """The Venue implementation for an account: paper venues trade on Ballast's own engine.

    `withdrawing`: for withdrawals and reading them back, signed with the account's separate
    withdrawal key where it has one, so that its trading key can stay trade-only."""
    # Imported here: the implementations pull in Django models and ccxt, and importing
    # bots.venues (e.g. for errors) should need neither.
    from bots.models import Venue

    if account.venue.kind == Venue.PAPER:
        from bots.venues.paper import PaperVenue  # Django models: only when a venue is asked for

        return PaperVenue(account)
    from bots.venues.ccxt_venue import CcxtVenue  # ccxt: only when a real exchange is asked for

    return CcxtVenue(account, withdrawing=withdrawing)
