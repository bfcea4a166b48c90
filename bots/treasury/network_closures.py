"""Networks the exchanges report closed, and the open transfers they block.

The withdrawal terms refresh (bots/treasury/network_facts.py) also reads, for each venue,
whether its networks are open for withdrawals and for deposits: the networks the planner
withdraws over there, and those of every transfer still waiting for people (proposed or
approved) that withdraws from that venue or deposits to it. A network the exchange reports
closed becomes a NetworkClosure (audited 'network closed'); reported open again, it goes
('network reopened'). Unlike a change of fee, a closure needs no admin: it can only stop money.

While a closure stands, a transfer over it is blocked: it keeps its state, its card says why
(state_note), a 'transfer network closed' alert goes to the admins' channels, withdrawing it
through the venue is refused, and the planner proposes no route over it. Once the exchange
reports the network open, the note and the alert go, and an approved transfer under automatic
execution is withdrawn again.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from bots.desk.alerts import raise_alert, resolve_cause
from bots.desk.audit import record
from bots.engine.treasury.network_terms import DEPOSIT, WITHDRAW
from bots.models import Alert, NetworkClosure, TransferProposal, Venue, WithdrawalNetwork
from bots.platform import events
from bots.treasury.inventory import policy_for
from bots.treasury.rebalancing import announce, audit_step, locked_proposal

P = TransferProposal
ACTOR = "network terms refresh"
WAITS = "it waits, unsent, until the exchange opens it again"  # ends every blocking note


def wanted(venue: Venue) -> set[tuple[str, str, str]]:
    """(asset, network, side) worth reading on this venue."""
    found = {
        (asset, network, side)
        for asset, network in WithdrawalNetwork.objects.filter(venue=venue).values_list(
            "asset", "network"
        )
        for side in (WITHDRAW, DEPOSIT)
    }
    open_transfers = P.objects.filter(state__in=P.OPEN)
    for asset, network in open_transfers.filter(source__venue=venue).values_list("asset", "network"):
        found.add((asset, network, WITHDRAW))
    for asset, network in open_transfers.filter(destination__venue=venue).values_list(
        "asset", "network"
    ):
        found.add((asset, network, DEPOSIT))
    return found


def venues_with_open_transfers() -> set[int]:
    ends = P.objects.filter(state__in=P.OPEN).values_list("source__venue", "destination__venue")
    return {venue for pair in ends for venue in pair}


def _said(venue: Venue, asset: str, network: str, side: str) -> str:
    what = "withdrawals" if side == WITHDRAW else "deposits"
    return f"{venue.label} reports {what} of {asset} over {network}"


def keep(venue: Venue, found: dict[tuple[str, str, str], bool]) -> None:
    """Record one reading of the venue (inside the caller's transaction): closures begin and
    end, each audited. What the reading did not cover stays as it was."""
    now = timezone.now()
    standing = {
        (c.asset, c.network, c.side): c
        for c in NetworkClosure.objects.select_for_update().filter(venue=venue)
    }
    for (asset, network, side), is_open in sorted(found.items()):
        closure = standing.get((asset, network, side))
        if not is_open and closure is None:
            NetworkClosure.objects.create(
                venue=venue, asset=asset, network=network, side=side, since=now
            )
            record("network closed", actor=ACTOR, subject=f"venue {venue.name}",
                   reason=f"{_said(venue, asset, network, side)} closed")
        elif is_open and closure is not None:
            closure.delete()
            record("network reopened", actor=ACTOR, subject=f"venue {venue.name}",
                   reason=f"{_said(venue, asset, network, side)} open again, closed since "
                   f"{closure.since:%Y-%m-%d %H:%M} UTC")


def closure_of(p: TransferProposal) -> NetworkClosure | None:
    """What stops this transfer: its network closed for withdrawals on the source's venue, or
    for deposits on the destination's."""
    return (
        NetworkClosure.objects.select_related("venue")
        .filter(
            Q(venue_id=p.source.venue_id, side=WITHDRAW)
            | Q(venue_id=p.destination.venue_id, side=DEPOSIT),
            asset=p.asset,
            network=p.network,
        )
        .order_by("side")
        .first()
    )


def blocking_text(closure: NetworkClosure) -> str:
    said = _said(closure.venue, closure.asset, closure.network, closure.side)
    return f"blocked: {said} closed (since {closure.since:%Y-%m-%d %H:%M} UTC); {WAITS}"


def _alert_key(p: TransferProposal) -> str:
    return f"network-{p.pk}"


def block(p: TransferProposal, closure: NetworkClosure, user=None) -> str:
    """The transfer waits: its card says why, once in the audit log, with an alert."""
    text = blocking_text(closure)
    with transaction.atomic():
        locked = locked_proposal(p.pk)
        if locked.state not in P.OPEN:
            return text
        if locked.state_note != text:
            P.objects.filter(pk=p.pk).update(state_note=text[:500], updated_at=timezone.now())
            locked.state_note = text[:500]
            audit_step("network closed", locked, user=user, reason=text, actor=ACTOR)
            announce(locked)
        raise_alert(
            Alert.NETWORK_CLOSED,
            locked.market,
            f"Transfer {p.pk} {text}",
            action_url=reverse("rebalance") + f"#transfer-{p.pk}",
            key=_alert_key(p),
        )
    return text


def unblock(p: TransferProposal) -> None:
    """The network is open again: the note and the alert go, and automatic execution, if the
    asset's policy has it, withdraws an approved transfer again."""
    with transaction.atomic():
        locked = locked_proposal(p.pk)
        resolve_cause(Alert.NETWORK_CLOSED, locked.market, _alert_key(p))
        if locked.state not in P.OPEN or not locked.state_note.endswith(WAITS):
            return
        P.objects.filter(pk=p.pk).update(state_note="", updated_at=timezone.now())
        locked.state_note = ""
        audit_step("network reopened", locked, reason="the exchange reports the network open",
                   actor=ACTOR)
        announce(locked)
        if locked.state == P.APPROVED and policy_for(locked.asset).auto_execute:
            events.withdrawal_due.emit_on_commit(proposal_id=locked.pk)


def sync_transfers() -> int:
    """Block each open transfer over a closed network, free those whose network opened again.
    Returns how many are blocked."""
    blocked = 0
    for p in P.objects.filter(state__in=P.OPEN).select_related(
        "source__venue", "destination__venue"
    ).order_by("pk"):
        closure = closure_of(p)
        if closure is not None:
            block(p, closure)
            blocked += 1
        elif p.state_note.endswith(WAITS) or _alerted(p):
            unblock(p)
    return blocked


def _alerted(p: TransferProposal) -> bool:
    return Alert.objects.filter(
        kind=Alert.NETWORK_CLOSED, key=_alert_key(p)
    ).exclude(state=Alert.RESOLVED).exists()
