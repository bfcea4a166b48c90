"""Withdrawal networks, fees and minimums read from the exchanges, shown to admins before the
planner uses them.

Once a day (and whenever an admin asks) every venue that has accounts and withdrawal networks is
asked for its currencies (the venue interface's fetch_currencies). Each network the planner
withdraws over (a WithdrawalNetwork row) is compared with what the exchange reports: the same,
nothing happens; different, a pending NetworkTermsChange holds before and after until an admin
accepts it (the row takes the exchange's figures, audited with both) or dismisses it. A change
dismissed is not raised again while the exchange and the planner say the same as they did.
An answer with a network missing its fee, or a figure that is no amount, changes nothing for
that venue and says why (on the settings page and in the audit log). The same reading says which
networks are closed for withdrawals or deposits, which block transfers at once, no admin needed
(bots/treasury/network_closures.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from bots.desk.audit import record
from bots.desk.roles import ADMIN, has_role
from bots.engine.figures import plain
from bots.engine.treasury.network_terms import BadTerms, Terms, difference, openings, reported
from bots.models import Account, NetworkTermsChange, NetworkTermsReading, Venue, WithdrawalNetwork
from bots.treasury import network_closures
from bots.venues import ccxt_errors, venue_for
from bots.venues.errors import describe

log = logging.getLogger(__name__)
C = NetworkTermsChange
ACTOR = "network terms refresh"


class NetworkTermsError(Exception):
    """A decision that cannot be taken (already decided, figures moved, not an admin)."""


@dataclass
class Reading:
    venue: str
    error: str = ""
    raised: int = 0  # new pending changes

    @property
    def message(self) -> str:
        if self.error:
            return f"{self.venue}: nothing changed: {self.error}"
        if not self.raised:
            return f"{self.venue}: as the planner has it"
        return f"{self.venue}: {self.raised} change{'s' if self.raised != 1 else ''} to review"


def planner_terms(row: WithdrawalNetwork) -> Terms:
    return Terms(row.fee, row.minimum, row.enabled)


def refresh(venues=None) -> list[Reading]:
    """Read and compare every venue that has accounts and withdrawal networks, or an open
    transfer from or to it (or those given); then block or free the open transfers over the
    networks found closed or open (bots/treasury/network_closures.py)."""
    if venues is None:
        venues = Venue.objects.filter(
            Q(withdrawal_networks__isnull=False)
            | Q(pk__in=network_closures.venues_with_open_transfers()),
            accounts__isnull=False,
        ).distinct().order_by("name")
    readings = [refresh_venue(venue) for venue in venues]
    network_closures.sync_transfers()
    return readings


def refresh_venue(venue: Venue) -> Reading:
    reading = Reading(venue.name)
    # A bot's account with keys: binance lists currencies only to a signed request.
    accounts = sorted(
        venue.accounts.all(),
        key=lambda a: (a.role not in (Account.MARKET_MAKING, Account.HEDGING), not a.has_keys, a.pk),
    )
    account = accounts[0] if accounts else None
    rows = list(WithdrawalNetwork.objects.filter(venue=venue))
    sides = network_closures.wanted(venue)
    if account is None or not sides:
        return reading
    try:
        currencies = venue_for(account).fetch_currencies()
        found = reported(venue.name, currencies, [(r.asset, r.network) for r in rows])
        open_or_not = openings(currencies, sides)
    except (BadTerms, ccxt_errors.BaseError) as exc:
        reading.error = str(exc) if isinstance(exc, BadTerms) else describe(exc)
        log.warning("withdrawal terms of %s not read: %s", venue.name, reading.error)
        with transaction.atomic():
            _keep_reading(venue, reading.error)
            record("network terms not read", actor=ACTOR, subject=f"venue {venue.name}",
                   reason=reading.error)
        return reading
    with transaction.atomic():
        for row in WithdrawalNetwork.objects.select_for_update().filter(venue=venue).order_by("pk"):
            if (row.asset, row.network) in found:
                reading.raised += _compare(row, found[row.asset, row.network])
        network_closures.keep(venue, open_or_not)
        _keep_reading(venue, "")
    return reading


def _keep_reading(venue: Venue, error: str) -> None:
    NetworkTermsReading.objects.update_or_create(
        venue=venue, defaults={"read_at": timezone.now(), "error": error[:500]}
    )


def _compare(row: WithdrawalNetwork, exchange) -> int:
    """Raise, keep or withdraw the pending change of one network; 1 when one was raised."""
    before = planner_terms(row)
    after = difference(before, exchange)
    key = {"venue_id": row.venue_id, "asset": row.asset, "network": row.network}
    pending = C.objects.select_for_update().filter(state=C.PENDING, **key).first()
    now = timezone.now()
    if pending is not None:
        if after is not None and _figures(pending) == (before, after):
            C.objects.filter(pk=pending.pk).update(seen_at=now)
            return 0
        C.objects.filter(pk=pending.pk).update(
            state=C.SUPERSEDED, decided_at=now,
            note="the exchange reports the planner's figures again" if after is None
            else "the exchange or the planner changed it again",
        )
    if after is None:
        return 0
    figures = {
        "fee_before": before.fee, "minimum_before": before.minimum,
        "enabled_before": before.enabled, "fee_after": after.fee,
        "minimum_after": after.minimum, "enabled_after": after.enabled,
        "listed_after": after.listed,
    }
    if C.objects.filter(state=C.DISMISSED, **key, **figures).exists():
        return 0  # an admin said no to exactly this already
    change = C.objects.create(**key, **figures)
    record("network terms changed", actor=ACTOR, subject=f"withdrawal network {row.pk}",
           reason=describe_change(change), change=change.pk,
           before=before.as_dict(), after=after.as_dict())
    return 1


def _figures(change: C) -> tuple[Terms, Terms]:
    return (
        Terms(change.fee_before, change.minimum_before, change.enabled_before),
        Terms(change.fee_after, change.minimum_after, change.enabled_after, change.listed_after),
    )


def describe_change(change: C) -> str:
    """One line: what the exchange reports against the planner's figures."""
    parts = []
    if not change.listed_after:
        parts.append("no longer listed by the exchange")
    elif change.enabled_before != change.enabled_after:
        parts.append("withdrawals closed" if not change.enabled_after else "withdrawals open again")
    if change.fee_before != change.fee_after:
        parts.append(f"fee {plain(change.fee_before)} → {plain(change.fee_after)}")
    if change.minimum_before != change.minimum_after:
        parts.append(f"minimum {plain(change.minimum_before)} → {plain(change.minimum_after)}")
    return f"{change.asset} over {change.network} on {change.venue.name}: " + ", ".join(parts)


def _decidable(change_id: int, user) -> C:
    if not has_role(user, ADMIN):
        raise NetworkTermsError("Only an admin decides on withdrawal terms.")
    change = C.objects.select_for_update().select_related("venue").filter(pk=change_id).first()
    if change is None:
        raise NetworkTermsError(f"There is no network change #{change_id}.")
    if change.state != C.PENDING:
        raise NetworkTermsError(f"Network change #{change_id} is already {change.state}.")
    return change


def accept(change_id: int, user) -> str:
    """The planner takes the exchange's figures for this network, if its own have not moved
    since the change was found (otherwise nothing changes: read the exchange again)."""
    with transaction.atomic():
        change = _decidable(change_id, user)
        before, after = _figures(change)
        row = WithdrawalNetwork.objects.select_for_update().filter(
            venue=change.venue, asset=change.asset, network=change.network
        ).first()
        if row is None or planner_terms(row) != before:
            raise NetworkTermsError(
                f"The planner's {change.asset} over {change.network} on {change.venue.name} was "
                "changed since this was found: read the exchange again to compare."
            )
        row.fee, row.minimum, row.enabled = after.fee, after.minimum, after.enabled
        row.save(update_fields=["fee", "minimum", "enabled"])
        C.objects.filter(pk=change.pk).update(
            state=C.ACCEPTED, decided_by=user, decided_at=timezone.now()
        )
        record("network terms accepted", user=user, subject=f"withdrawal network {row.pk}",
               reason=describe_change(change), change=change.pk,
               before=before.as_dict(), after=after.as_dict())
    return f"Accepted: the planner now uses {describe_change(change)}."


def dismiss(change_id: int, user, note: str = "") -> str:
    """The planner keeps its figures; the same difference is not raised again."""
    with transaction.atomic():
        change = _decidable(change_id, user)
        C.objects.filter(pk=change.pk).update(
            state=C.DISMISSED, decided_by=user, decided_at=timezone.now(), note=note[:300]
        )
        record("network terms dismissed", user=user, subject=f"network change {change.pk}",
               reason=note or describe_change(change), change=change.pk)
    return f"Dismissed: the planner keeps its figures for {change.asset} over {change.network}."
