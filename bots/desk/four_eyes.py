"""Four-eyes on what protects money: roles, rebalance policies and venue keys change only when
one admin proposes and another confirms (Fireblocks' TAP and Safe's owners work the same way).

Rules, checked when a change is proposed and again when it is confirmed:
- only admins propose, confirm or reject; the proposer may cancel their own request;
- the proposer never confirms, nor does anyone tied to them: a login the proposer created
  (UserOrigin), or made admin or operator through a change they proposed, at any distance
  (so a second account is not a second person), and the other way round;
- the last active admin cannot lose the role;
- a change is applied against what was there when it was proposed: if that moved meanwhile the
  request is refused and must be proposed again.
Every step lands in the audit log, the applied change with its before and after. A proposal
raises a "change waiting" alert, so the other admins hear of it through the notification
channels (bots.desk.notifications) and see it on the desk; deciding the change resolves it.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from bots.desk.alerts import raise_alert, resolve_cause
from bots.desk.audit import record
from bots.desk.roles import ADMIN, OPERATOR, group, has_role
from bots.engine.figures import plain
from bots.models import Account, Alert, ChangeRequest, RebalancePolicy, UserOrigin
from bots.platform.text import TextRefused, check_text

C = ChangeRequest
ROLES = (OPERATOR, ADMIN)


class ChangeRefused(Exception):
    """The request was refused before it changed anything: the message says why."""


# --- who is tied to whom ----------------------------------------------------------------------


def record_created(user, created_by) -> None:
    """Remember who made a login (Django's admin and desk pages call this)."""
    if created_by is not None and created_by.is_authenticated:
        UserOrigin.objects.get_or_create(user=user, defaults={"created_by": created_by})


def _sponsors_of(user_id: int) -> set[int]:
    """Who made this login or proposed a role for it, directly."""
    found = set(
        UserOrigin.objects.filter(user_id=user_id, created_by__isnull=False).values_list(
            "created_by_id", flat=True
        )
    )
    found |= set(
        C.objects.filter(kind=C.GRANT_ROLE, state=C.APPLIED, target_user_id=user_id).values_list(
            "proposed_by_id", flat=True
        )
    )
    return found


def sponsors(user_id: int) -> set[int]:
    """Everyone up the chain of creators and role proposers of a login."""
    seen: set[int] = set()
    todo = [user_id]
    while todo:
        for sponsor in _sponsors_of(todo.pop()):
            if sponsor not in seen and sponsor != user_id:
                seen.add(sponsor)
                todo.append(sponsor)
    return seen


def tied(a_id: int, b_id: int) -> bool:
    """One of the two logins made the other (or got it its role), at any distance."""
    return a_id == b_id or a_id in sponsors(b_id) or b_id in sponsors(a_id)


def active_admins():
    User = get_user_model()
    return User.objects.filter(is_active=True).filter(
        Q(is_superuser=True) | Q(groups__name=ADMIN)
    ).distinct()


# --- proposing --------------------------------------------------------------------------------


def _require_admin(user) -> None:
    if not has_role(user, ADMIN):
        raise ChangeRefused("This needs the admin role.")


def _text(value: str | None, field: str) -> str:
    try:
        return check_text(value or "", field).strip()
    except TextRefused as exc:
        raise ChangeRefused(str(exc)) from None


def _create(user, kind: str, summary: str, payload: dict, before, reason: str, target=None):
    with transaction.atomic():
        change = C.objects.create(
            kind=kind,
            summary=summary[:300],
            payload=payload,
            before=before,
            reason=reason,
            target_user=target,
            proposed_by=user,
        )
        record(
            "change proposed",
            user=user,
            subject=f"change {change.pk}",
            reason=reason or summary,
            kind=kind,
            summary=change.summary,
            before=before,
            after=_shown(change),
        )
        # Sent to the channels once this commits (bots.desk.alerts): a refused request sends none.
        raise_alert(
            Alert.CHANGE_WAITING,
            None,
            f"{user.get_username()} proposes: {change.summary}. Another admin must confirm "
            "or reject it.",
            action_url=reverse("changes") + f"#change-{change.pk}",
            key=_alert_key(change.pk),
        )
    return change


def _alert_key(change_id: int) -> str:
    return f"change-{change_id}"


def _role_state(target) -> dict:
    names = set(target.groups.values_list("name", flat=True))
    return {role: role in names for role in ROLES} | {"superuser": target.is_superuser}


def _check_last_admin(target, role: str) -> None:
    if role == ADMIN and not active_admins().exclude(pk=target.pk).exists():
        raise ChangeRefused(
            f"{target.get_username()} is the last admin: make another admin first."
        )


def propose_role(user, target, role: str, grant: bool, reason: str = "") -> ChangeRequest:
    """Ask to grant or remove the operator or admin role."""
    _require_admin(user)
    if role not in ROLES:
        raise ChangeRefused(f"Roles changed here are {' and '.join(ROLES)}, not {role!r}.")
    reason = _text(reason, "reason")
    current = _role_state(target)
    has_it = current[role] or (role == ADMIN and target.is_superuser)
    if grant and has_it:
        raise ChangeRefused(f"{target.get_username()} has the {role} role already.")
    if not grant and not has_it:
        raise ChangeRefused(f"{target.get_username()} does not have the {role} role.")
    if not grant:
        _check_last_admin(target, role)
    if C.objects.filter(
        state=C.PENDING, target_user=target, kind__in=(C.GRANT_ROLE, C.REMOVE_ROLE),
        payload__role=role,
    ).exists():
        raise ChangeRefused(
            f"A change of {target.get_username()}'s {role} role is already waiting."
        )
    verb = "Grant" if grant else "Remove"
    return _create(
        user,
        C.GRANT_ROLE if grant else C.REMOVE_ROLE,
        f"{verb} the {role} role {'to' if grant else 'from'} {target.get_username()}",
        {"role": role},
        current,
        reason,
        target,
    )


POLICY_FIELDS = (
    "two_approvers_above",
    "auto_execute",
    "velocity_window_minutes",
    "velocity_amount",
    "velocity_count",
    "runway_alert_hours",
    "flow_window_minutes",
    "proposal_ttl_minutes",
    "max_fee_share",
    "arrival_tolerance",
)


def policy_fields() -> tuple[str, ...]:
    """The policy's fields a change may set (those the model has)."""
    names = {f.name for f in RebalancePolicy._meta.get_fields()}
    return tuple(f for f in POLICY_FIELDS if f in names)


def _policy_values(policy: RebalancePolicy | None) -> dict | None:
    if policy is None:
        return None
    return {f: _plain(getattr(policy, f)) for f in policy_fields()}


def _plain(value):
    return plain(value) if isinstance(value, Decimal) else value


def propose_policy(user, asset: str, values: dict, reason: str = "") -> ChangeRequest:
    """Ask to create or change an asset's rebalance policy. `values` are its fields (the
    others keep what they are, or their defaults for a new policy); they are validated now
    and again when applied."""
    _require_admin(user)
    reason = _text(reason, "reason")
    asset = _text(asset, "asset").upper()
    existing = RebalancePolicy.objects.filter(asset=asset).first()
    unknown = set(values) - set(policy_fields())
    if unknown:
        raise ChangeRefused(f"Not a policy field: {', '.join(sorted(unknown))}.")
    candidate = _policy_with(asset, existing, values)
    after = _policy_values(candidate)
    before = _policy_values(existing)
    if before == after:
        raise ChangeRefused(f"That is the {asset} policy already: nothing to change.")
    if C.objects.filter(state=C.PENDING, kind=C.POLICY, payload__asset=asset).exists():
        raise ChangeRefused(
            f"A change of the {asset} policy is already waiting: confirm, reject or cancel it first."
        )
    changed = [f for f in after if before is None or before[f] != after[f]]
    return _create(
        user,
        C.POLICY,
        f"{'Change' if existing else 'Create'} the {asset} rebalance policy: " + ", ".join(
            f"{f} {after[f]}" for f in changed
        ),
        {"asset": asset, "values": after},
        before,
        reason,
    )


def _policy_with(asset: str, existing, values: dict) -> RebalancePolicy:
    policy = RebalancePolicy(asset=asset) if existing is None else existing
    if existing is not None:
        policy = RebalancePolicy.objects.get(pk=existing.pk)  # a copy to change
    for name, value in values.items():
        setattr(policy, name, value)
    try:
        policy.full_clean(exclude=["asset"] if existing else None, validate_unique=False)
    except ValidationError as exc:
        raise ChangeRefused(
            "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        ) from None
    return policy


def key_fields() -> tuple[str, ...]:
    """The Account fields that hold an encrypted key (whatever the onboarding pages add)."""
    return tuple(
        f.name for f in Account._meta.concrete_fields if f.name.endswith("_enc")
    )


def propose_key_change(
    user, account: Account, encrypted: dict[str, str], what: str = "withdrawal key",
    reason: str = "", fingerprint: str = "",
) -> ChangeRequest:
    """Ask to add or replace a venue account's key. `encrypted` maps Account fields ending in
    _enc to values already encrypted (bots.platform.credentials.encrypt): the request never
    holds a key in clear. `fingerprint` is what people may see of it (e.g. the API key's last
    four characters); it goes to the audit log as the after."""
    _require_admin(user)
    reason = _text(reason, "reason")
    allowed = key_fields()
    wrong = [name for name in encrypted if name not in allowed]
    if not encrypted or wrong:
        raise ChangeRefused(
            f"A key change sets some of {', '.join(allowed)}, not {', '.join(wrong) or 'nothing'}."
        )
    waiting = C.objects.filter(state=C.PENDING, kind=C.KEY, payload__account=account.pk,
                               payload__what=what).first()
    if waiting is not None:
        raise ChangeRefused(
            f"A change of the {what} of {account} is already waiting (#{waiting.pk}): confirm, "
            "reject or cancel it first."
        )
    before = {name: bool(getattr(account, name)) for name in encrypted}
    return _create(
        user,
        C.KEY,
        f"Set the {what} of {account}" + (f" (…{fingerprint})" if fingerprint else ""),
        {"account": account.pk, "fields": encrypted, "what": what, "fingerprint": fingerprint},
        before,
        reason,
    )


def _shown(change: ChangeRequest):
    """The after, as people may see it: a key's ciphertext never leaves its row."""
    if change.kind == C.KEY:
        return {"set": sorted(change.payload["fields"]), "fingerprint": change.payload.get(
            "fingerprint", "")}
    if change.kind == C.POLICY:
        return change.payload["values"]
    return change.payload


# --- deciding ---------------------------------------------------------------------------------


def _locked(change_id: int) -> ChangeRequest:
    change = (
        C.objects.select_for_update(of=("self",))
        .select_related("proposed_by", "target_user")
        .filter(pk=change_id)
        .first()
    )
    if change is None:
        raise ChangeRefused(f"There is no change #{change_id}.")
    if change.state != C.PENDING:
        by = f" by {change.decided_by.get_username()}" if change.decided_by_id else ""
        raise ChangeRefused(f"Change #{change.pk} is already {change.state}{by}.")
    return change


def may_confirm(user, change: ChangeRequest) -> str:
    """Why `user` may not confirm `change`, or ""."""
    if not has_role(user, ADMIN):
        return "This needs the admin role."
    if change.proposed_by_id == user.pk:
        return "You proposed this change: another admin must confirm it."
    if tied(change.proposed_by_id, user.pk):
        return (
            f"You and {change.proposed_by.get_username()} are tied (one created the other's "
            "login or proposed their role): an admin of their own must confirm it."
        )
    if change.target_user_id == user.pk:
        return "This change is about you: another admin must confirm it."
    return ""


def confirm(user, change_id: int) -> ChangeRequest:
    """A second admin confirms: the change is applied now, with its before and after audited."""
    with transaction.atomic():
        change = _locked(change_id)
        why = may_confirm(user, change)
        if why:
            raise ChangeRefused(why)
        after = _apply(change)
        change.state, change.decided_by, change.decided_at = C.APPLIED, user, timezone.now()
        change.save(update_fields=["state", "decided_by", "decided_at"])
        resolve_cause(Alert.CHANGE_WAITING, None, key=_alert_key(change.pk))
        record(
            "change applied",
            user=user,
            subject=f"change {change.pk}",
            reason=change.summary,
            kind=change.kind,
            proposed_by=change.proposed_by.get_username(),
            before=change.before,
            after=after,
        )
    return change


def reject(user, change_id: int, note: str) -> ChangeRequest:
    _require_admin(user)
    note = _text(note, "note")
    if not note:
        raise ChangeRefused("Say why you reject it: the note is kept in the audit log.")
    return _close(user, change_id, C.REJECTED, note)


def cancel(user, change_id: int, note: str = "") -> ChangeRequest:
    """The proposer withdraws their own request."""
    note = _text(note, "note")
    with transaction.atomic():
        change = _locked(change_id)
        if change.proposed_by_id != user.pk:
            raise ChangeRefused("Only whoever proposed a change may cancel it; admins reject.")
    return _close(user, change_id, C.CANCELLED, note or "cancelled")


def _close(user, change_id: int, state: str, note: str) -> ChangeRequest:
    with transaction.atomic():
        change = _locked(change_id)
        change.state, change.note = state, note[:500]
        change.decided_by, change.decided_at = user, timezone.now()
        change.save(update_fields=["state", "note", "decided_by", "decided_at"])
        resolve_cause(Alert.CHANGE_WAITING, None, key=_alert_key(change.pk))
        record(
            f"change {state}", user=user, subject=f"change {change.pk}", reason=note,
            summary=change.summary,
        )
    return change


def _apply(change: ChangeRequest):
    if change.kind in (C.GRANT_ROLE, C.REMOVE_ROLE):
        return _apply_role(change)
    if change.kind == C.POLICY:
        return _apply_policy(change)
    return _apply_key(change)


def _stale(change: ChangeRequest) -> ChangeRefused:
    return ChangeRefused(
        f"What change #{change.pk} was proposed against has changed since: reject it and "
        "propose it again."
    )


def _apply_role(change: ChangeRequest) -> dict:
    User = get_user_model()
    target = User.objects.select_for_update().get(pk=change.target_user_id)
    if _role_state(target) != change.before:
        raise _stale(change)
    role = change.payload["role"]
    if change.kind == C.GRANT_ROLE:
        target.groups.add(group(role))
    else:
        # Every removal locks the admin group's row first: two at once cannot leave none.
        Group.objects.select_for_update().filter(pk=group(ADMIN).pk).first()
        _check_last_admin(target, role)
        target.groups.remove(group(role))
        if role == ADMIN and target.is_superuser:
            target.is_superuser = False
            target.save(update_fields=["is_superuser"])
    return _role_state(target)


def _apply_policy(change: ChangeRequest) -> dict:
    asset = change.payload["asset"]
    existing = RebalancePolicy.objects.select_for_update().filter(asset=asset).first()
    if _policy_values(existing) != change.before:
        raise _stale(change)
    policy = _policy_with(asset, existing, change.payload["values"])
    policy.save()
    return _policy_values(policy)


def _apply_key(change: ChangeRequest) -> dict:
    account = Account.objects.select_for_update().filter(pk=change.payload["account"]).first()
    if account is None:
        raise ChangeRefused("That account is gone.")
    fields = change.payload["fields"]
    if {name: bool(getattr(account, name)) for name in fields} != change.before:
        raise _stale(change)
    for name, value in fields.items():
        setattr(account, name, value)
    # New keys were not tested: a market is enabled only after the next connection test passes.
    account.checked_at, account.check_passed, account.check_report = None, False, {}
    account.save(update_fields=[*fields, "checked_at", "check_passed", "check_report"])
    # The ciphertext has done its job: the request keeps only what people may see.
    change.payload = {k: v for k, v in change.payload.items() if k != "fields"} | {
        "fields": dict.fromkeys(fields, "(applied)")
    }
    change.save(update_fields=["payload"])
    return {"set": sorted(fields), "fingerprint": change.payload.get("fingerprint", "")}
