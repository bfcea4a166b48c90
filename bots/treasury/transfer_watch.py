"""Watching transfers on their way: arrival, lateness, and the runway alerts that ask for them.

First the source venue's own record of the withdrawal (fetch_withdrawals, with the withdrawal
key where the account has one): found by the venue's withdrawal id (or, for one recorded by
hand, by the id or hash typed), it gives the transaction's hash once the network has it, kept
on the transfer, which links the withdrawal to its deposit; a withdrawal the source reports
failed or canceled ends the transfer as failed (the money never left, or came back).
Arrival is then read from the destination venue's deposits: a deposit with the transfer's tx id,
else (today's fallback) of its amount within the policy's tolerance, made after it was sent; a
venue that cannot list deposits is read by its balance instead: risen by the amount since the
transfer was sent. Trading moves that balance too, so operators can always confirm an arrival by
hand. An answer that cannot be read changes nothing.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from bots.desk.alerts import raise_alert, resolve_cause
from bots.desk.audit import record
from bots.engine.figures import duration, plain
from bots.engine.rules import dec
from bots.models import Alert, InventoryBand, TransferProposal
from bots.treasury.balances import refresh_balances
from bots.treasury.inventory import Inventory, account_label, market_of, policy_for, read_inventory
from bots.treasury.rebalancing import TXID_LENGTH, announce, complete, finish, locked_proposal
from bots.treasury.withdrawals import settle_sending
from bots.venues import ccxt_errors as ccxt
from bots.venues import venue_for
from bots.venues.errors import describe

log = logging.getLogger(__name__)

P = TransferProposal
WATCH = "transfer watch"
EARLY = timedelta(minutes=1)  # venue clocks differ: a deposit stamped a little early still counts
ENDED = ("failed", "canceled")  # ccxt's statuses of a withdrawal that will never arrive


def watch_transfers() -> dict[str, int]:
    """Complete what arrived and flag what is late. Returns counts, for the task's log."""

    counts = {"settled": settle_sending(), "arrived": 0, "overdue": 0, "failed": 0}
    _resolve_overdue_alerts()
    sent = list(
        P.objects.filter(state=P.SENT).select_related("source__venue", "destination__venue")
    )
    if not sent:
        return counts
    inventory = read_inventory()
    for p in sent:
        withdrawal = source_withdrawal(p)
        if withdrawal is not None:
            if withdrawal.get("status") in ENDED:
                counts["failed"] += _failed_at_source(p, withdrawal, inventory)
                continue
            _keep_txid(p, withdrawal)
        try:
            note = arrival(p)
        except ccxt.BaseError as exc:
            log.warning(
                "transfer %s: cannot read %s: %s", p.pk, p.destination.venue.label, describe(exc)
            )
            continue
        if note:
            with transaction.atomic():
                locked = locked_proposal(p.pk)
                if locked.state == P.SENT:
                    P.objects.filter(pk=p.pk).update(arrival_ref=note[1][:200])
                    complete(locked, None, note[0], inventory, actor=WATCH)
                    counts["arrived"] += 1
            _refresh(p)
        elif _overdue(p):
            counts["overdue"] += 1
    return counts


def source_withdrawal(p: TransferProposal) -> dict | None:
    """The source venue's record of this transfer's withdrawal, or None (not found, or the
    venue cannot say)."""
    if not (p.withdrawal_id or p.txid):
        return None
    venue = venue_for(p.source, withdrawing=True)
    since = int((p.sent_at - EARLY).timestamp() * 1000)
    try:
        found = venue.fetch_withdrawals(p.asset, since=since)
    except ccxt.BaseError as exc:
        log.warning(
            "transfer %s: cannot read %s's withdrawals: %s", p.pk, p.source.venue.label,
            describe(exc),
        )
        return None
    if not isinstance(found, list):
        return None
    for w in found:
        if not isinstance(w, dict):
            continue
        ids = {str(w.get("id") or ""), str(w.get("txid") or "")} - {""}
        # A venue's id, or the reference it named the withdrawal by until the network's hash
        # came (hollaex: bots/venues/ccxt_venue.py withdraw).
        if (p.withdrawal_id and p.withdrawal_id in ids) or (not p.withdrawal_id and p.txid in ids):
            return w
    return None


def _usable_txid(value) -> str:
    text = value if isinstance(value, str) else ""
    return text if 0 < len(text) <= TXID_LENGTH and not any(c.isspace() for c in text) else ""


def _keep_txid(p: TransferProposal, withdrawal: dict) -> None:
    """Keep the hash the source reports, which a deposit on the destination carries too: over
    none yet (a withdrawal through the API) or over the venue's withdrawal id typed by hand."""
    txid = _usable_txid(withdrawal.get("txid"))
    if not txid or txid in (p.txid, p.withdrawal_id) or p.txid not in ("", str(withdrawal.get("id") or "")):
        return
    with transaction.atomic():
        if P.objects.filter(pk=p.pk, state=P.SENT, txid=p.txid).update(txid=txid) == 1:
            record(
                "transfer tx id", actor=WATCH, market=p.market, subject=f"transfer {p.pk}",
                reason=f"{p.source.venue.label} reports the withdrawal's transaction", txid=txid,
                before=p.txid,
            )
            p.txid = txid


def _failed_at_source(p: TransferProposal, withdrawal: dict, inventory) -> int:
    """The source reports the withdrawal failed or canceled: it will not arrive."""
    reason = (
        f"{p.source.venue.label} reports the withdrawal {withdrawal.get('id')} "
        f"{withdrawal['status']}: it will not arrive (the venue keeps or returns the funds)"
    )
    with transaction.atomic():
        locked = locked_proposal(p.pk)
        if locked.state != P.SENT:
            return 0
        finish(locked, P.FAILED, reason, None, inventory, actor=WATCH)
    _refresh(p)
    return 1


def arrival(p: TransferProposal) -> tuple[str, str] | None:
    """(how it was seen, the deposit's reference) once the transfer arrived, else None."""
    expected = (p.sent_amount or p.amount) - (p.sent_fee if p.sent_fee is not None else p.fee)
    tolerance = expected * policy_for(p.asset).arrival_tolerance
    venue = venue_for(p.destination)
    try:
        deposits = venue.fetch_deposits(p.asset, since=int((p.sent_at - EARLY).timestamp() * 1000))
    except ccxt.NotSupported:
        deposits = None
    if deposits is None:
        refresh_balances(p.destination, [p.asset])
        position = read_inventory().of(p.destination_id, p.asset)
        if position is None or p.destination_baseline is None:
            return None
        rise = position.total - p.destination_baseline
        if rise >= expected - tolerance:
            return f"the balance rose by {plain(rise)} {p.asset}", f"balance {position.total}"
        return None
    taken = set(
        P.objects.filter(destination=p.destination, asset=p.asset, state=P.COMPLETED)
        .exclude(arrival_ref="")
        .values_list("arrival_ref", flat=True)
    )
    arrived = [d for d in deposits if d.get("status") == "ok" and _ref(d) not in taken]
    by_txid = next((d for d in arrived if p.txid and d.get("txid") == p.txid), None)
    by_amount = next(
        (
            d
            for d in arrived
            if d.get("amount") is not None and abs(dec(d["amount"]) - expected) <= tolerance
        ),
        None,
    )
    found = by_txid or by_amount
    if found is None:
        return None
    how = "tx id" if found is by_txid else "amount"
    return (
        f"arrived: a deposit of {plain(dec(found['amount']))} {p.asset} matched by {how}",
        _ref(found),
    )


def _ref(deposit: dict) -> str:
    return str(deposit.get("txid") or deposit.get("id") or "")


def _refresh(p: TransferProposal) -> None:
    for account in (p.source, p.destination):
        try:
            refresh_balances(account, [p.asset])
        except ccxt.BaseError as exc:
            log.warning("balances of %s not refreshed: %s", account, describe(exc))


def _overdue_key(proposal_id: int) -> str:
    return f"transfer-{proposal_id}"


def _resolve_overdue_alerts() -> None:
    """An overdue transfer that arrived, or was confirmed or failed by hand, ends its alert."""

    for alert in Alert.objects.filter(kind=Alert.TRANSFER_OVERDUE).exclude(state=Alert.RESOLVED):
        proposal_id = int(alert.key.removeprefix("transfer-"))
        if not P.objects.filter(pk=proposal_id, state=P.SENT).exists():
            resolve_cause(Alert.TRANSFER_OVERDUE, alert.market, alert.key)


def _overdue(p: TransferProposal) -> bool:
    """Flag a transfer past its expected arrival, once: an alert, the audit log and the panel."""
    if p.overdue_alerted_at is not None or timezone.now() <= p.expected_by():
        return False
    if (
        P.objects.filter(pk=p.pk, overdue_alerted_at__isnull=True).update(
            overdue_alerted_at=timezone.now()
        )
        != 1
    ):
        return False
    minutes = int((timezone.now() - p.sent_at).total_seconds() // 60)
    reason = (
        f"{plain(p.amount)} {p.asset} to {account_label(p.destination)} "
        f"sent {minutes} min ago, "
        f"expected within {p.arrival_minutes} min: check the venue, then confirm or mark it failed"
    )
    log.warning("transfer %s overdue: %s", p.pk, reason)

    raise_alert(
        Alert.TRANSFER_OVERDUE, p.market, f"Transfer {p.pk} overdue: {reason}",
        action_url=reverse("rebalance"), key=_overdue_key(p.pk),
    )
    record(
        "transfer overdue",
        actor=WATCH,
        market=p.market,
        subject=f"transfer {p.pk}",
        reason=reason,
    )
    announce(p)
    return True


# --- runway alerts ----------------------------------------------------------------------------


def runway_alerts(inventory: Inventory) -> int:
    """Raise an alert per account and asset whose runway is under its threshold, naming the
    proposal that answers it; resolve those whose runway recovered. Returns how many are up."""

    raised = 0
    banded = set(InventoryBand.objects.values_list("account_id", "asset"))
    for position in inventory.positions:
        if (position.account.pk, position.asset) not in banded:
            continue
        market = market_of([position.account.pk], position.asset)
        key = f"{position.account.pk}:{position.asset}"
        if not position.runway_short:
            resolve_cause(Alert.RUNWAY_LOW, market, key)
            continue
        answer = (
            P.objects.filter(destination=position.account, asset=position.asset)
            .filter(state__in=P.OPEN + P.IN_FLIGHT)
            .order_by("pk")
            .first()
        )
        action = reverse("rebalance") + (f"#transfer-{answer.pk}" if answer else "")
        what = (
            f"review proposal #{answer.pk}"
            if answer and answer.state == P.PROPOSED
            else f"transfer #{answer.pk} is approved: send it"
            if answer and answer.state == P.APPROVED
            else f"transfer #{answer.pk} is on its way"
            if answer
            else "no transfer can be proposed: see the panel"
        )
        raise_alert(
            Alert.RUNWAY_LOW,
            market,
            f"{position.label} runs out of {position.asset} in {duration(position.runway)}: {what}",
            action_url=action,
            key=key,
        )
        raised += 1
    return raised
