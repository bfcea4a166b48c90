"""Withdrawing an approved transfer through the source venue's API, and the whitelist it may
only send to.

Automatic execution is off unless an asset's policy turns it on; an operator may also click
"withdraw through the venue" on an approved transfer. Either way the destination must be a
whitelisted address of the destination account for that asset and network, past its cooling
period. As with orders, the transfer is recorded as "sending" before the venue is called, with
a client id (binance's withdrawOrderId): a retry after a crash or a timeout asks the venue for
that id before withdrawing again.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from bots.desk.audit import record
from bots.desk.roles import ADMIN, OPERATOR
from bots.engine.rules import dec
from bots.models import Account, TransferProposal, WhitelistAddress
from bots.platform import events
from bots.treasury import deposit_addresses, network_closures
from bots.treasury.inventory import account_label, read_inventory
from bots.treasury.rebalancing import (
    Done,
    TransferConflict,
    TransferError,
    announce,
    audit_step,
    finish,
    locked_proposal,
    mark_sent,
    refresh_source,
    require_role,
    state_message,
)
from bots.venues import ccxt_errors as ccxt
from bots.venues import venue_for
from bots.venues.errors import describe, is_transient

log = logging.getLogger(__name__)

P = TransferProposal
SENDING_STALE = timedelta(seconds=60)  # far longer than a withdrawal call may take
AUTOMATIC = "automatic execution"  # the audit log's actor when no person clicked


class WithdrawalRetry(Exception):
    """The venue could not be reached: the transfer is approved again, to be retried."""


def usable_address(p: TransferProposal, now=None) -> WhitelistAddress | None:
    return (
        WhitelistAddress.objects.filter(
            account=p.destination,
            asset=p.asset,
            network=p.network,
            removed_at__isnull=True,
            awaiting_second_admin=False,
            usable_from__lte=now or timezone.now(),
        )
        .order_by("pk")
        .first()
    )


def _entry_or_refuse(p: TransferProposal) -> WhitelistAddress:
    entry = usable_address(p)
    if entry is not None:
        return entry
    pending = WhitelistAddress.objects.filter(
        account=p.destination, asset=p.asset, network=p.network, removed_at__isnull=True
    ).first()
    if pending is None:
        when = "on file"
    elif pending.awaiting_second_admin:
        when = "usable yet: its address awaits a second admin's confirmation"
    else:
        when = f"usable before {pending.usable_from:%Y-%m-%d %H:%M} UTC"
    raise TransferError(
        f"No whitelisted {p.asset}/{p.network} address of "
        f"{account_label(p.destination)} is {when}: withdraw by hand and record it, "
        "or ask an admin."
    )


def _approved(proposal_id: int) -> TransferProposal:
    p = locked_proposal(proposal_id)
    if p.state != P.APPROVED:
        raise TransferConflict(state_message(p))
    return p


def _block(p: TransferProposal, checked, user, inventory) -> None:
    """The destination's venue reports another address: the transfer stays approved and
    unsent, saying why on its card, with an alert."""
    with transaction.atomic():
        locked = _approved(p.pk)
        P.objects.filter(pk=p.pk).update(state_note=checked.text[:500], updated_at=timezone.now())
        locked.state_note = checked.text[:500]
        audit_step(
            "address mismatch", locked, user=user, reason=checked.text, inventory=inventory,
            actor=AUTOMATIC,
        )
        deposit_addresses.raise_mismatch(locked, checked.text)
        announce(locked)


def execute(proposal_id: int, user=None) -> Done:
    """Withdraw an approved transfer now; `user` None is the automatic execution.

    A network the last reading found closed (withdrawals on the source, deposits on the
    destination: bots/treasury/network_closures.py) blocks the transfer. The whitelisted
    address is then checked against the one the destination's venue reports
    (bots/treasury/deposit_addresses.py): another address blocks the transfer."""
    if user is not None:
        require_role(user, OPERATOR)
    inventory = read_inventory()
    with transaction.atomic():
        p = _approved(proposal_id)
        entry = _entry_or_refuse(p)
        closure = network_closures.closure_of(p)
    if closure is not None:
        text = network_closures.block(p, closure, user)
        raise TransferError(f"Transfer #{p.pk} not withdrawn, {text}.")
    # Asked outside the row's lock: a venue call may take seconds.
    checked = deposit_addresses.check(p, entry)
    if checked.verdict == deposit_addresses.MISMATCH:
        _block(p, checked, user, inventory)
        raise TransferError(f"Transfer #{p.pk} not withdrawn, {checked.text}.")
    if checked.verdict == deposit_addresses.UNREADABLE:
        if checked.transient:
            raise WithdrawalRetry(checked.text)
        raise TransferError(f"Transfer #{p.pk} not withdrawn: {checked.text}. Try again.")
    with transaction.atomic():
        p = _approved(proposal_id)
        now = usable_address(p)
        if now is None or (now.pk, now.address, now.tag) != (entry.pk, entry.address, entry.tag):
            raise TransferConflict(
                f"The whitelisted address of transfer #{p.pk} changed meanwhile: try again."
            )
        sending_at = timezone.now()
        moved = P.objects.filter(pk=p.pk, state=P.APPROVED).update(
            state=P.SENDING, address=entry.address, tag=entry.tag, updated_at=sending_at
        )
        if moved != 1:
            raise TransferConflict(state_message(P.objects.get(pk=p.pk)))
        p.state, p.address, p.tag, p.updated_at = P.SENDING, entry.address, entry.tag, sending_at
        audit_step(
            "sending",
            p,
            user=user,
            inventory=inventory,
            actor=AUTOMATIC,
            address=entry.address,
            tag=entry.tag,
            address_check=checked.text,
        )
        announce(p)
    if checked.verdict == deposit_addresses.MATCH:
        deposit_addresses.resolve_mismatch(p)
    venue = venue_for(p.source, withdrawing=True)
    try:
        result = venue.withdraw(
            p.asset,
            p.amount,
            p.address,
            p.tag or None,
            {"network": p.network, "withdrawOrderId": p.client_id},
        )
    except ccxt.BaseError as exc:
        if is_transient(exc):
            found = _find(venue, p)
            if found is None:
                _back_to_approved(p, describe(exc))
                raise WithdrawalRetry(describe(exc)) from exc
            result = found
        else:
            with transaction.atomic():
                finish(
                    locked_proposal(p.pk),
                    P.FAILED,
                    f"the venue refused the withdrawal: {describe(exc)}",
                    user,
                    inventory,
                    actor=AUTOMATIC,
                )
            return Done(p, f"Transfer #{p.pk} failed: {describe(exc)}")
    with transaction.atomic():
        _record(locked_proposal(p.pk), result, user, inventory)
    refresh_source(p)
    return Done(
        p,
        f"Transfer #{p.pk} withdrawn through {p.source.venue.label}; "
        "Ballast watches for it to arrive.",
    )


def _find(venue, p: TransferProposal) -> dict | None:
    """The withdrawal the venue holds under this transfer's client id, if any."""
    try:
        found = venue.fetch_withdrawals(p.asset, params={"withdrawOrderId": p.client_id})
    except ccxt.BaseError as exc:
        log.warning(
            "transfer %s: cannot ask %s for its withdrawal: %s", p.pk, venue.id, describe(exc)
        )
        return None
    return next((w for w in found if isinstance(w, dict) and _is_this(w, p)), None)


def _is_this(w: dict, p: TransferProposal) -> bool:
    """Whether the venue's withdrawal `w` is this transfer's: by its client id where the venue
    keeps one (binance's withdrawOrderId); else (hollaex) the same address and amount, made
    since the transfer went sending."""
    info = w.get("info") or {}
    if "withdrawOrderId" in info:
        return info["withdrawOrderId"] == p.client_id
    since = (p.updated_at - SENDING_STALE).timestamp() * 1000
    try:
        same_amount = w.get("amount") is not None and dec(w["amount"]) == p.amount
    except (ArithmeticError, ValueError, TypeError):
        return False
    return (
        same_amount
        and bool(p.address)
        and w.get("address") == p.address
        and (w.get("tag") or "") == (p.tag or "")
        and isinstance(w.get("timestamp"), int)
        and w["timestamp"] >= since
    )


def _record(p: TransferProposal, tx: dict, user, inventory) -> None:
    fee = (tx.get("fee") or {}).get("cost")
    mark_sent(
        p,
        dec(tx["amount"]) if tx.get("amount") is not None else p.amount,
        dec(fee) if fee is not None else p.fee,
        tx.get("txid") or "",
        str(tx.get("id") or ""),
        user,
        inventory,
        actor=AUTOMATIC,
    )


def _back_to_approved(p: TransferProposal, why: str) -> None:
    with transaction.atomic():
        moved = P.objects.filter(pk=p.pk, state=P.SENDING).update(
            state=P.APPROVED,
            state_note=f"withdrawal not made: {why}"[:500],
            updated_at=timezone.now(),
        )
        if moved:
            p.state = P.APPROVED
            audit_step(
                "withdrawal retry", p, reason=why, inventory=read_inventory(), actor=AUTOMATIC
            )
            announce(p)


def settle_sending() -> int:
    """Transfers left "sending" by a worker that died mid-call: the venue says whether the
    withdrawal exists; if it does not, the transfer is approved again, to be retried."""
    settled = 0
    stale = timezone.now() - SENDING_STALE
    for p in P.objects.filter(state=P.SENDING, updated_at__lt=stale).select_related(
        "source__venue"
    ):
        venue = venue_for(p.source, withdrawing=True)
        found = _find(venue, p)
        if found is None:
            _back_to_approved(p, "no answer from the venue and it holds no such withdrawal")
        else:
            with transaction.atomic():
                locked = locked_proposal(p.pk)
                if locked.state == P.SENDING:
                    _record(locked, found, None, read_inventory())
        settled += 1
    return settled


# --- the whitelist (admins) -------------------------------------------------------------------


def cooling_period() -> timedelta:
    return timedelta(hours=settings.WHITELIST_COOLING_HOURS)


def add_address(
    user, account_id: int, asset: str, network: str, address: str, tag: str = "", label: str = ""
) -> WhitelistAddress:
    require_role(user, ADMIN)
    asset, network, address, tag = (
        asset.strip().upper(),
        network.strip().upper(),
        address.strip(),
        tag.strip(),
    )
    if not asset or not network:
        raise TransferError("Name the asset and the network.")
    if not address or len(address) > 200 or any(c.isspace() for c in address):
        raise TransferError("The address must be 1 to 200 characters without spaces.")
    account = Account.objects.select_related("venue").filter(pk=account_id).first()
    if account is None:
        raise TransferError("Pick the account whose deposit address this is.")
    now = timezone.now()
    try:
        with transaction.atomic():
            entry = WhitelistAddress.objects.create(
                account=account,
                asset=asset,
                network=network,
                address=address,
                tag=tag,
                label=label.strip()[:100],
                added_by=user,
                awaiting_second_admin=True,
                # Provisional: the cooling period starts again when a second admin confirms.
                usable_from=now + cooling_period(),
            )
            record(
                "whitelist added",
                user=user,
                subject=f"whitelist {entry.pk}",
                reason=f"{asset}/{network} deposit address of {account_label(account)}; "
                "awaits a second admin",
                address=address,
                tag=tag,
            )
    except IntegrityError:
        raise TransferError(
            f"{account_label(account)} already has a {asset}/{network} address on the "
            "whitelist: remove it first."
        ) from None
    _publish()
    return entry


def confirm_address(user, entry_id: int) -> WhitelistAddress:
    """A second admin confirms an address another admin added; its cooling period starts now."""
    require_role(user, ADMIN)
    with transaction.atomic():
        entry = (
            WhitelistAddress.objects.select_for_update()
            .select_related("account__venue")
            .filter(pk=entry_id, removed_at__isnull=True)
            .first()
        )
        if entry is None:
            raise TransferConflict("That address is not on the whitelist (any more).")
        if not entry.awaiting_second_admin:
            raise TransferConflict("That address is confirmed already.")
        if entry.added_by_id == user.pk:
            raise TransferError(
                "You added this address: a second admin must confirm it, not the one who added it."
            )
        now = timezone.now()
        entry.awaiting_second_admin = False
        entry.confirmed_by, entry.confirmed_at = user, now
        entry.usable_from = now + cooling_period()
        entry.save(update_fields=["awaiting_second_admin", "confirmed_by", "confirmed_at", "usable_from"])
        record(
            "whitelist confirmed",
            user=user,
            subject=f"whitelist {entry.pk}",
            reason=f"{entry.asset}/{entry.network} deposit address of "
            f"{account_label(entry.account)}",
            address=entry.address,
            usable_from=entry.usable_from.isoformat(),
        )
    _publish()
    return entry


def remove_address(user, entry_id: int) -> WhitelistAddress:
    """One admin may take an address off: that can only stop money moving, never send it."""
    require_role(user, ADMIN)
    with transaction.atomic():
        moved = WhitelistAddress.objects.filter(pk=entry_id, removed_at__isnull=True).update(
            removed_at=timezone.now(), removed_by=user
        )
        if moved != 1:
            raise TransferConflict("That address is not on the whitelist (any more).")
        entry = WhitelistAddress.objects.select_related("account__venue").get(pk=entry_id)
        record(
            "whitelist removed",
            user=user,
            subject=f"whitelist {entry.pk}",
            reason=f"{entry.asset}/{entry.network} deposit address of "
            f"{account_label(entry.account)}",
            address=entry.address,
        )
    _publish()
    return entry


def _publish() -> None:
    events.proposal_changed.emit_on_commit(proposal_id=None)
