"""The rebalancing workflow: proposals from the planner or by hand, approval under the asset's
policy, the withdrawal (recorded by an operator or made through the venue's API), and its
arrival. These are the operator commands views, consumers and management commands all call.

States: proposed -> approved -> (sending ->) sent -> completed; or rejected, cancelled, expired,
failed. Every change is a conditional UPDATE or happens under the proposal row's lock, so two
clicks at once, a second approval or an approval of something that just expired have exactly
one outcome: one caller wins and the other gets a TransferConflict saying what happened. Each
step is written to the audit log with the balances it saw.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone

from bots.desk.audit import record
from bots.desk.roles import ADMIN, OPERATOR, has_role
from bots.engine.figures import plain
from bots.engine.treasury import planner
from bots.models import (
    Account,
    NetworkClosure,
    RebalancePolicy,
    TransferApproval,
    TransferProposal,
    WithdrawalNetwork,
)
from bots.platform import events
from bots.platform.text import TextRefused, check_text
from bots.treasury import velocity
from bots.treasury.approvals import approvals_needed, approver_refusal, code_refusal
from bots.treasury.balances import refresh_balances
from bots.treasury.inventory import Inventory, account_label, market_of, policy_for, read_inventory
from bots.venues import ccxt_errors as ccxt

log = logging.getLogger(__name__)

PLANNER = "rebalance planner"
P = TransferProposal
TXID_LENGTH = 200


class TransferError(Exception):
    """A command that was refused before it changed anything: the message says why."""


class TransferConflict(TransferError):
    """The proposal is not (or no longer) in a state that allows this: someone else acted first."""


@dataclass(frozen=True)
class Done:
    proposal: TransferProposal
    message: str


# --- reading ----------------------------------------------------------------------------------


def locked_proposal(proposal_id: int) -> TransferProposal:
    try:
        return (
            P.objects.select_for_update(of=("self",))
            .select_related("source__venue", "destination__venue", "proposed_by")
            .get(pk=proposal_id)
        )
    except P.DoesNotExist:
        raise TransferError(f"There is no transfer #{proposal_id}.") from None


def _checked(text: str | None, field: str = "comment", *, multiline: bool = True) -> str:
    """The text, stripped; refused, naming the field, when it holds a control character."""
    try:
        return check_text(text or "", field, multiline=multiline).strip()
    except TextRefused as exc:
        raise TransferError(str(exc)) from None


def require_role(user, role: str) -> None:
    if not has_role(user, role):
        raise TransferError(f"This needs the {role} role.")


def state_message(p: TransferProposal) -> str:
    """What happened to a proposal, for the one who arrived second."""
    last = p.approvals.select_related("user").last()
    by = f" by {last.user.get_username()}" if p.state == P.APPROVED and last else ""
    note = f": {p.state_note}" if p.state_note else ""
    return f"Transfer #{p.pk} is already {p.state}{by}{note}."


def _balances(inventory: Inventory, p: TransferProposal) -> dict:
    """Each end's holding now, as the audit log keeps it."""
    result = {}
    for account in (p.source, p.destination):
        position = inventory.of(account.pk, p.asset)
        result[account_label(account)] = (
            None
            if position is None
            else {"free": position.free, "total": position.total, "in_flight": position.incoming}
        )
    return result


def audit_step(
    action: str,
    p: TransferProposal,
    user=None,
    reason: str = "",
    inventory=None,
    actor: str = PLANNER,
    **extra,
):
    """One step of a transfer in the audit log: by `user`, else by the part of Ballast named."""
    inventory = inventory if inventory is not None else read_inventory()
    record(
        f"transfer {action}",
        user=user,
        actor=actor,
        market=p.market,
        subject=f"transfer {p.pk}",
        reason=reason,
        asset=p.asset,
        network=p.network,
        amount=p.amount,
        fee=p.fee,
        source=account_label(p.source),
        destination=account_label(p.destination),
        state=p.state,
        balances_now=_balances(inventory, p),
        planned=p.balances,
        **extra,
    )


def announce(p: TransferProposal) -> None:
    """Tell the panels once the change is committed."""
    events.proposal_changed.emit_on_commit(proposal_id=p.pk)


# --- proposing --------------------------------------------------------------------------------


def _create(
    transfer: planner.Transfer, accounts: dict[str, Account], origin: str, user, bands
) -> TransferProposal:
    source, destination = accounts[transfer.source], accounts[transfer.destination]
    p = P.objects.create(
        market=market_of([source.pk, destination.pk], transfer.asset),
        asset=transfer.asset,
        network=transfer.network,
        source=source,
        destination=destination,
        amount=transfer.amount,
        fee=transfer.fee,
        arrival_minutes=(transfer.arrival_seconds + 59) // 60,
        origin=origin,
        reason=transfer.reason,
        balances={
            "source": {
                "before": transfer.source_before,
                "after": transfer.source_after,
                "band": bands.get(transfer.source),
            },
            "destination": {
                "before": transfer.destination_before,
                "after": transfer.destination_after,
                "band": bands.get(transfer.destination),
            },
        },
        approvals_required=approvals_needed(transfer.asset, transfer.amount),
        proposed_by=user,
    )
    # JSON keeps Decimals as text; read back what was stored.
    p.refresh_from_db()
    return p


def _band_figures(inventory: Inventory, asset: str) -> dict[str, list[str]]:
    """Each account's band as set (not as tightened for a short runway), for the bars."""
    return {
        p.key: [str(p.band.minimum), str(p.band.target), str(p.band.maximum)]
        for p in inventory.positions
        if p.asset == asset and p.band is not None
    }


def _routes(asset: str, holdings: dict[str, planner.Holding], accounts: dict[str, Account]):
    """Every way to move the asset between two banded accounts: a network the source's venue
    withdraws on and the destination's venue lists too (so it takes deposits on it)."""
    networks = {}
    for row in WithdrawalNetwork.objects.filter(asset=asset, enabled=True):
        networks.setdefault(row.venue_id, {})[row.network] = row
    # Closed on the exchange at the last reading (bots/treasury/network_closures.py).
    closed = set(
        NetworkClosure.objects.filter(asset=asset).values_list("venue_id", "network", "side")
    )
    for source in holdings:
        for destination in holdings:
            if source == destination:
                continue
            theirs = networks.get(accounts[destination].venue_id, {})
            for name, row in networks.get(accounts[source].venue_id, {}).items():
                if name in theirs and not closed & {
                    (accounts[source].venue_id, name, NetworkClosure.WITHDRAW),
                    (accounts[destination].venue_id, name, NetworkClosure.DEPOSIT),
                }:
                    yield planner.Route(
                        source,
                        destination,
                        asset,
                        name,
                        row.fee,
                        row.minimum,
                        row.step,
                        row.arrival_minutes * 60,
                    )


def _committed(asset: str, holdings, keep: list[TransferProposal]):
    """Holdings with the kept open proposals applied, and the pairs no new proposal may take:
    back against anything open or in flight, and along a pair that already has one open."""
    forbidden = set()
    for p in keep:
        holdings = planner.apply(
            holdings, str(p.source_id), str(p.destination_id), p.amount, p.fee
        )
    for p in P.objects.filter(asset=asset, state__in=P.OPEN + P.IN_FLIGHT):
        s, d = str(p.source_id), str(p.destination_id)
        forbidden |= {(d, s, asset)}
        if p.state in P.OPEN or p.state == P.SENDING:
            forbidden |= {(s, d, asset)}
    return holdings, forbidden


def review_open(
    p: TransferProposal, inventory: Inventory, others: list[TransferProposal] | None = None
) -> str:
    """Why an open proposal is moot on the current balances, or "". `others` are the open
    proposals that stand beside it (by default every other open one of its asset)."""
    ttl = policy_for(p.asset).proposal_ttl_minutes
    if timezone.now() - p.created_at > timedelta(minutes=ttl):
        return f"not sent within {ttl} minutes"
    if others is None:
        others = list(
            P.objects.filter(asset=p.asset, state__in=P.OPEN).exclude(pk=p.pk).order_by("pk")
        )
    holdings, _ = _committed(p.asset, inventory.holdings(p.asset), others)
    return planner.review(
        str(p.source_id),
        str(p.destination_id),
        p.amount,
        p.fee,
        holdings,
        needed=p.origin != P.MANUAL,
    )


def plan_transfers(inventory: Inventory | None = None) -> list[TransferProposal]:
    """Expire open proposals the balances made moot, then propose what the planner finds.

    Callers hold the planner lock (bots.tasks.plan_rebalance), so two runs never race to
    propose the same thing; the database's one-open-proposal-per-pair rule backs that up.
    """
    inventory = inventory or read_inventory()
    created = []
    accounts = {p.key: p.account for p in inventory.positions}
    for asset in inventory.assets():
        with transaction.atomic():
            keep = []
            for p in (
                P.objects.select_for_update().filter(asset=asset, state__in=P.OPEN).order_by("pk")
            ):
                why = review_open(p, inventory, others=keep)
                if why:
                    finish(p, P.EXPIRED, why, None, inventory)
                else:
                    keep.append(p)
            holdings, forbidden = _committed(asset, inventory.holdings(asset), keep)
            if not holdings:
                continue
            policy = policy_for(asset)
            try:
                result = planner.plan_asset(
                    list(holdings.values()),
                    list(_routes(asset, holdings, accounts)),
                    policy.max_fee_share,
                    {(s, d) for s, d, a in forbidden if a == asset},
                )
            except planner.PlannerLimit as exc:
                # The other assets are still planned; this one needs its bands trimmed.
                log.error("%s not planned: %s", asset, exc)
                continue
            bands = _band_figures(inventory, asset)
            for transfer in result.transfers:
                urgent = holdings[transfer.destination].note or holdings[transfer.source].note
                try:
                    with transaction.atomic():
                        p = _create(
                            transfer, accounts, P.RUNWAY if urgent else P.PLANNER, None, bands
                        )
                except IntegrityError:
                    continue  # proposed by hand for this route a moment ago: that one stands
                if not result.complete:
                    short = ", ".join(f"{o.label} ({o.status_after})" for o in result.out_of_band)
                    p.reason += f". Partial: still out of band afterwards: {short}"
                    p.save(update_fields=["reason"])
                audit_step("proposed", p, reason=p.reason, inventory=inventory)
                announce(p)
                created.append(p)
    return created


def propose(
    user, source_id: int, destination_id: int, asset: str, network: str, amount, reason: str = ""
) -> Done:
    """An operator's own proposal. It follows the same rules as the planner's: a route that
    exists, at least its minimum, a fee it does not eat, no more than free minus reserve."""
    require_role(user, OPERATOR)
    asset = _checked(asset, "asset", multiline=False)
    network = _checked(network, "network", multiline=False)
    reason = _checked(reason, "reason")
    try:
        amount = Decimal(str(amount))
    except InvalidOperation:
        raise TransferError(f"{amount!r} is not an amount.") from None
    if not amount.is_finite() or amount <= 0:
        raise TransferError("The amount must be more than zero.")
    source = Account.objects.select_related("venue").filter(pk=source_id).first()
    destination = Account.objects.select_related("venue").filter(pk=destination_id).first()
    if source is None or destination is None:
        raise TransferError("Pick both accounts.")
    if source.pk == destination.pk:
        raise TransferError("A transfer needs two different accounts.")
    inventory = read_inventory()
    with transaction.atomic():
        holdings = inventory.holdings(asset)
        key_s, key_d = str(source.pk), str(destination.pk)
        missing = [
            account_label(a)
            for a, k in ((source, key_s), (destination, key_d))
            if k not in holdings
        ]
        if missing:
            raise TransferError(
                f"No {asset} band or balance for {' and '.join(missing)}: an admin sets bands."
            )
        accounts = {key_s: source, key_d: destination}
        route = next(
            (
                r
                for r in _routes(asset, holdings, accounts)
                if (r.source, r.destination, r.network) == (key_s, key_d, network)
            ),
            None,
        )
        if route is None:
            raise TransferError(
                f"{source.venue.label} has no {asset} withdrawals over {network!r} "
                f"to {destination.venue.label}."
            )
        if amount % route.step:
            raise TransferError(
                f"{asset} over {network} goes in steps of {plain(route.step)}."
            )
        if amount < route.minimum:
            raise TransferError(
                f"The minimum {asset} withdrawal over {network} is {plain(route.minimum)}."
            )
        share = policy_for(asset).max_fee_share
        if route.fee > share * amount:
            raise TransferError(
                f"The fee ({plain(route.fee)} {asset}) would be more than "
                f"{plain(share * 100)}% of {plain(amount)}."
            )
        open_ = P.objects.filter(asset=asset, state__in=P.OPEN).order_by("pk")
        committed, forbidden = _committed(asset, holdings, list(open_))
        if (key_s, key_d, asset) in forbidden:
            raise TransferConflict(
                f"A {asset} transfer between these accounts is already open or on its way: "
                "see the panel."
            )
        s = committed[key_s]
        if amount > s.sendable:
            raise TransferError(
                f"{account_label(source)} can send at most {plain(s.sendable)} {asset} "
                "(free, less its reserve and what open proposals already take)."
            )
        d = committed[key_d]
        transfer = planner.Transfer(
            key_s,
            key_d,
            asset,
            network,
            amount,
            route.fee,
            route.arrival_seconds,
            reason.strip() or f"proposed by {user.get_username()}",
            s.position,
            s.position - amount,
            d.position,
            d.position + amount - route.fee,
        )
        try:
            with transaction.atomic():
                p = _create(transfer, accounts, P.MANUAL, user, _band_figures(inventory, asset))
        except IntegrityError:
            raise TransferConflict(
                "Another proposal for this route was just made: see the panel."
            ) from None
        audit_step("proposed", p, user=user, reason=p.reason, inventory=inventory)
        announce(p)
    return Done(
        p,
        f"Proposed transfer #{p.pk}: {plain(amount)} {asset} from {account_label(source)} "
        f"to {account_label(destination)}.",
    )


# --- deciding ---------------------------------------------------------------------------------


def approve(proposal_id: int, user, comment: str = "", code: str | None = None) -> Done:
    """Count an approval; the proposal is approved once it has as many as its policy asks.

    Nobody approves their own proposal, nor approves twice. A proposal the balances made moot
    expires here instead of being approved stale. Above the two-approver threshold (and with
    two-factor on) each approval takes a fresh code from the approver's authenticator.
    """
    require_role(user, OPERATOR)
    comment = _checked(comment)
    required = P.objects.filter(pk=proposal_id).values_list("approvals_required", flat=True)
    refused = code_refusal(f"transfer #{proposal_id}", user, code, max(required, default=1))
    if refused:
        raise TransferError(refused)
    inventory = read_inventory()
    with transaction.atomic():
        p = locked_proposal(proposal_id)
        if p.state != P.PROPOSED:
            raise TransferConflict(state_message(p))
        twice = p.approvals.filter(user=user).exists()
        refused = approver_refusal(f"transfer #{p.pk}", p.proposed_by_id, user, twice)
        if refused:
            raise (TransferConflict if twice else TransferError)(refused)
        why = review_open(p, inventory)
        if why:
            finish(p, P.EXPIRED, why, None, inventory)
    if why:
        # Committed above: the expiry stands although this approval does not.
        raise TransferConflict(f"Transfer #{p.pk} expired instead: {why}.")
    with transaction.atomic():
        p = locked_proposal(proposal_id)
        if p.state != P.PROPOSED:
            raise TransferConflict(state_message(p))
        try:
            with transaction.atomic():
                TransferApproval.objects.create(proposal=p, user=user, comment=comment)
        except IntegrityError:
            raise TransferConflict(f"You have already approved transfer #{p.pk}.") from None
        count = p.approvals.count()
        over = ""
        if count >= p.approvals_required and not p.over_velocity:
            # The policy's row, locked: two approvals at once count each other's transfers.
            policy = RebalancePolicy.objects.select_for_update().filter(asset=p.asset).first()
            over = velocity.over_limit(p, policy) if policy is not None else ""
            if over:
                p.over_velocity, p.approvals_required = over[:300], p.approvals_required + 1
                p.save(update_fields=["over_velocity", "approvals_required", "updated_at"])
        if count >= p.approvals_required:
            moved = P.objects.filter(pk=p.pk, state=P.PROPOSED).update(
                state=P.APPROVED, approved_at=timezone.now(), updated_at=timezone.now()
            )
            if moved != 1:
                raise TransferConflict(state_message(p))
            p.state = P.APPROVED
            message = f"Approved transfer #{p.pk}: it may be sent."
        elif over:
            message = (
                f"Approval {count} recorded for transfer #{p.pk}, but {over}: it needs "
                f"{p.approvals_required} approvals, so another operator must approve."
            )
        else:
            message = (
                f"Approval {count} of {p.approvals_required} recorded for transfer #{p.pk}: "
                "another operator must approve."
            )
        audit_step(
            "approved" if p.state == P.APPROVED else "approval",
            p,
            user=user,
            reason=comment,
            inventory=inventory,
            approvals=count,
            required=p.approvals_required,
            over_velocity=p.over_velocity,
        )
        announce(p)
        if p.state == P.APPROVED and policy_for(p.asset).auto_execute:
            events.withdrawal_due.emit_on_commit(proposal_id=p.pk)
            message += " Automatic execution is on: Ballast withdraws it now."
    return Done(p, message)


def reject(proposal_id: int, user, comment: str) -> Done:
    require_role(user, OPERATOR)
    comment = _checked(comment)
    if not comment:
        raise TransferError("Say why you reject it: the comment is kept in the audit log.")
    return _decide(proposal_id, user, P.REJECTED, comment, from_states=P.OPEN)


def cancel(proposal_id: int, user, comment: str = "") -> Done:
    """The proposer (or an admin) withdraws a proposal that has not been sent."""
    require_role(user, OPERATOR)
    comment = _checked(comment)
    with transaction.atomic():
        p = locked_proposal(proposal_id)
        if p.proposed_by_id != user.pk and not has_role(user, ADMIN):
            raise TransferError(
                "Only whoever proposed it, or an admin, may cancel it; operators reject."
            )
    return _decide(
        proposal_id, user, P.CANCELLED, comment or "cancelled", from_states=P.OPEN
    )


def _decide(proposal_id: int, user, state: str, note: str, from_states) -> Done:
    inventory = read_inventory()
    with transaction.atomic():
        p = locked_proposal(proposal_id)
        if p.state not in from_states:
            raise TransferConflict(state_message(p))
        finish(p, state, note, user, inventory)
    return Done(p, f"Transfer #{p.pk} {state}.")


def finish(
    p: TransferProposal, state: str, note: str, user, inventory, actor: str = PLANNER
) -> None:
    """Move a locked proposal to a final state, conditionally on the state it was read in."""
    moved = P.objects.filter(pk=p.pk, state=p.state).update(
        state=state, state_note=note[:500], updated_at=timezone.now()
    )
    if moved != 1:
        raise TransferConflict(state_message(P.objects.get(pk=p.pk)))
    p.state, p.state_note = state, note[:500]
    audit_step(state, p, user=user, reason=note, inventory=inventory, actor=actor)
    announce(p)


# --- sending and arriving ---------------------------------------------------------------------


def record_sent(proposal_id: int, user, amount, fee, txid: str) -> Done:
    """The operator made the withdrawal on the exchange: what was sent, the fee, the tx id."""
    require_role(user, OPERATOR)
    try:
        amount, fee = Decimal(str(amount).strip()), Decimal(str(fee).strip() or "0")
    except InvalidOperation:
        raise TransferError("The amount and the fee must be numbers.") from None
    txid = _checked(txid, "transaction id", multiline=False)
    if not txid or len(txid) > TXID_LENGTH or any(c.isspace() for c in txid):
        raise TransferError(
            "Give the transaction id or hash as the exchange shows it "
            f"(1 to {TXID_LENGTH} characters, no spaces)."
        )
    inventory = read_inventory()
    with transaction.atomic():
        p = locked_proposal(proposal_id)
        if p.state != P.APPROVED:
            raise TransferConflict(
                state_message(p) + " Only an approved transfer can be recorded as sent."
            )
        if not amount.is_finite() or not 0 < amount <= p.amount:
            raise TransferError(
                "The amount sent must be more than 0 and at most the "
                f"{plain(p.amount)} approved."
            )
        if not fee.is_finite() or not 0 <= fee < amount:
            raise TransferError("The fee must be at least 0 and less than the amount sent.")
        mark_sent(p, amount, fee, txid, "", user, inventory)
    refresh_source(p)
    return Done(p, f"Transfer #{p.pk} recorded as sent; Ballast watches for it to arrive.")


def refresh_source(p: TransferProposal) -> None:
    """Read the source's balance again now that the money left it, so the panel shows it."""
    try:
        refresh_balances(p.source, [p.asset])
    except ccxt.BaseError as exc:
        log.warning("balance of %s not refreshed after transfer %s: %s", p.source, p.pk, exc)


def mark_sent(p, amount, fee, txid, withdrawal_id, user, inventory, actor: str = PLANNER) -> None:
    destination = inventory.of(p.destination_id, p.asset)
    moved = P.objects.filter(pk=p.pk, state__in=(P.APPROVED, P.SENDING)).update(
        state=P.SENT,
        state_note="",
        sent_amount=amount,
        sent_fee=fee,
        txid=txid or "",
        withdrawal_id=withdrawal_id or "",
        sent_at=timezone.now(),
        sent_by=user,
        destination_baseline=destination.total if destination else None,
        updated_at=timezone.now(),
    )
    if moved != 1:
        raise TransferConflict(state_message(P.objects.get(pk=p.pk)))
    p.refresh_from_db()
    audit_step(
        "sent",
        p,
        user=user,
        inventory=inventory,
        actor=actor,
        sent_amount=amount,
        sent_fee=fee,
        txid=txid,
        withdrawal_id=withdrawal_id,
        address=p.address,
    )
    announce(p)


def confirm_arrival(proposal_id: int, user, note: str = "") -> Done:
    """An operator saw the funds arrive (the venue cannot tell Ballast, or not yet)."""
    require_role(user, OPERATOR)
    note = _checked(note)
    inventory = read_inventory()
    with transaction.atomic():
        p = locked_proposal(proposal_id)
        if p.state != P.SENT:
            raise TransferConflict(state_message(p) + " Only a sent transfer can arrive.")
        complete(p, user, note or "confirmed by hand", inventory)
    return Done(p, f"Transfer #{p.pk} completed.")


def complete(p: TransferProposal, user, note: str, inventory, actor: str = PLANNER) -> None:
    moved = P.objects.filter(pk=p.pk, state=P.SENT).update(
        state=P.COMPLETED,
        completed_at=timezone.now(),
        completed_by=user,
        state_note=note[:500],
        updated_at=timezone.now(),
    )
    if moved != 1:
        raise TransferConflict(state_message(P.objects.get(pk=p.pk)))
    p.refresh_from_db()
    audit_step("completed", p, user=user, reason=note, inventory=inventory, actor=actor)
    announce(p)


def mark_failed(proposal_id: int, user, reason: str) -> Done:
    """The withdrawal did not happen or will never arrive (the exchange refused or reversed it)."""
    require_role(user, OPERATOR)
    reason = _checked(reason)
    if not reason:
        raise TransferError("Say what went wrong: it is kept in the audit log.")
    return _decide(proposal_id, user, P.FAILED, reason, from_states=(P.APPROVED, P.SENT))
