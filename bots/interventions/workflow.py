"""Price-action interventions from proposal to their end: proposing (by the detectors or by
hand), approving under the transfers' rules (bots.treasury.approvals), and the commands that
pause, resume and cancel a running one. Views, consumers and management commands call these
through bots.market_making.operator_commands, which names them all.

States: proposed -> running <-> paused -> completed; or rejected, cancelled, expired. Every
change is a conditional UPDATE under the intervention's row lock, so two clicks at once have one
outcome; each step is an audit entry ("intervention <step>") with who and why.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone

from bots.desk.audit import record
from bots.desk.roles import ADMIN, OPERATOR, has_role
from bots.desk.settings_versions import SettingsRefused, VersionConflict, Versioned, save_version
from bots.engine.figures import plain
from bots.engine.interventions import detectors, proposal, slicing
from bots.engine.interventions.settings import HEDGE, OWN, InterventionConfig, parse
from bots.engine.market_making.quote_config import InvalidSettings
from bots.engine.rules import MarketRules, dec
from bots.interventions.reads import market_view, trade_venue
from bots.models import (
    Intervention,
    InterventionApproval,
    InterventionSettings,
    InterventionSettingsVersion,
    KillSwitch,
    Market,
)
from bots.platform import events
from bots.platform.text import TextRefused, check_text
from bots.treasury.approvals import approvals_needed, approver_refusal, code_refusal
from bots.treasury.inventory import read_inventory

I = Intervention  # noqa: E741
DETECTOR = "intervention detector"
# A proposal nobody approved within this long is stale: the market it answered has moved on.
PROPOSAL_MINUTES = 15


class InterventionError(Exception):
    """A command refused before it changed anything: the message says why."""


class InterventionConflict(InterventionError):
    """Not (or no longer) in a state that allows this: someone else acted first."""


@dataclass(frozen=True)
class Done:
    intervention: Intervention
    message: str


def _checked(text: str | None, field: str = "comment") -> str:
    try:
        return check_text(text or "", field, multiline=True).strip()
    except TextRefused as exc:
        raise InterventionError(str(exc)) from None


def _require(user, role: str) -> None:
    if not has_role(user, role):
        raise InterventionError(f"This needs the {role} role.")


def locked(intervention_id: int) -> Intervention:
    try:
        return (
            I.objects.select_for_update(of=("self",))
            .select_related("market", "account__venue")
            .get(pk=intervention_id)
        )
    except I.DoesNotExist:
        raise InterventionError(f"There is no intervention #{intervention_id}.") from None


def state_message(iv: Intervention) -> str:
    note = f": {iv.state_note}" if iv.state_note else ""
    return f"Intervention #{iv.pk} is already {iv.state}{note}."


def audit(step: str, iv: Intervention, user=None, reason: str = "", actor: str = DETECTOR, **extra):
    record(
        f"intervention {step}", user=user, actor=actor, market=iv.market,
        subject=f"intervention {iv.pk}", reason=reason, kind=iv.kind, where=iv.where,
        amount=iv.amount, price_limit=iv.price_limit, state=iv.state, filled=iv.filled,
        cost=iv.cost, fee_quote=iv.fee_quote, **extra,
    )


def announce(iv: Intervention) -> None:
    """The market page shows interventions: push it once this is committed."""
    events.market_changed.emit_on_commit(market_id=iv.market_id, force=True)


# --- settings ---------------------------------------------------------------------------------


def settings_for(market: Market) -> InterventionSettings:
    return InterventionSettings.objects.get_or_create(market=market)[0]


def current_settings(market: Market) -> InterventionSettings:
    """The market's settings, or the defaults (unsaved) where none were saved: for reading."""
    return InterventionSettings.objects.filter(market=market).first() or InterventionSettings(
        market=market
    )


DETECTOR_SETTINGS = Versioned(
    InterventionSettings, InterventionSettingsVersion, "intervention settings", "intervention settings"
)


def change_settings(
    market: Market, config: InterventionConfig, *, expected_version: int, user, reason: str = ""
) -> InterventionSettingsVersion:
    """Save validated settings as the market's next version (admins; bots.desk.settings_versions
    keeps it with before and after); an edit started from an older version is refused rather than
    overwrite another's."""
    _require(user, ADMIN)
    reason = _checked(reason, "reason")
    settings_for(market)  # the defaults are the first version's "before"
    try:
        return save_version(
            DETECTOR_SETTINGS, market, vars(config), expected_version=expected_version, user=user,
            actor=user.get_username(), reason=reason,
        )
    except VersionConflict as exc:
        raise InterventionConflict(str(exc)) from None
    except SettingsRefused as exc:
        raise InterventionError(str(exc)) from None


# --- proposing --------------------------------------------------------------------------------


def _figures(value) -> object:
    """Dataclass figures as JSON keeps them (Decimals as text)."""
    return {k: (None if v is None else v) for k, v in vars(value).items()}


def _draft(
    market: Market, config: InterventionConfig, kind: str, where: str, amount, minutes: int,
    findings: list[detectors.Finding],
) -> dict:
    """The fields of a new intervention, from what the venues and the inventory say now."""
    if market.reference_price is None:
        raise InterventionError(
            f"{market.symbol} has no reference price yet: its first tick reads the hedge venues."
        )
    reference = market.reference_price
    account = market.mm_account if where == OWN else market.hedge_account
    venue = trade_venue(account)
    rules = MarketRules.from_market(venue.market(market.symbol))
    limit = proposal.price_limit(kind, reference, config.limit_bps, rules)
    inventory = read_inventory()
    base = inventory.of(account.pk, market.base)
    quote = inventory.of(account.pk, market.quote)
    if base is None or quote is None:
        raise InterventionError(
            f"No balance of {account} read yet: the next tick or planner run reads it."
        )
    mm_base = inventory.of(market.mm_account_id, market.base)
    band = None
    if mm_base is not None and mm_base.band is not None:
        band = detectors.Band(mm_base.band.minimum, mm_base.band.target, mm_base.band.maximum)
    held = mm_base.position if mm_base is not None else base.position
    if amount is None:
        amount = proposal.amount_for(
            kind, findings, held, band, base.free, quote.free, limit, config.sizing(), rules
        )
    else:
        amount = rules.round_amount(amount)
        affordable = quote.free / limit if kind == I.BUYBACK else base.free
        if amount > affordable:
            raise InterventionError(
                f"{account} can {'pay for' if kind == I.BUYBACK else 'sell'} at most "
                f"{plain(rules.round_amount(affordable))} {market.base} at the limit "
                f"{plain(limit)}."
            )
    if amount <= 0 or amount < rules.min_amount:
        raise InterventionError(
            f"Nothing to {'buy' if kind == I.BUYBACK else 'sell'}: the size comes to "
            f"{plain(amount)} {market.base}, under the market's minimum or what the account holds."
        )
    book = venue.fetch_order_book(market.symbol, 50)
    side = book["asks"] if kind == I.BUYBACK else book["bids"]
    levels = [(dec(p), dec(a)) for p, a, *_ in side]
    est = proposal.estimate(kind, amount, levels, limit, reference, rules.taker_fee)
    eff = proposal.effect(
        kind, amount, limit, rules.taker_fee, base.position, quote.position,
        base.flow_per_hour, quote.flow_per_hour,
    )
    return {
        "market": market, "kind": kind, "where": where, "account": account, "amount": amount,
        "minutes": minutes, "price_limit": limit, "reference": reference,
        "findings": [_figures(f) for f in findings],
        "estimate": _figures(est), "effect": _figures(eff),
        "approvals_required": approvals_needed(market.base, amount),
        "slice_seconds": config.slice_seconds, "jitter": config.jitter,
        "participation_pct": config.participation_pct,
        "participation_window_minutes": config.participation_window_minutes,
    }


def _create(fields: dict, origin: str, reason: str, user) -> Intervention:
    try:
        with transaction.atomic():
            iv = I.objects.create(origin=origin, reason=reason, proposed_by=user, **fields)
    except IntegrityError:
        raise InterventionConflict(
            f"{fields['market'].symbol} already has an intervention open: see its page."
        ) from None
    iv.refresh_from_db()  # JSON keeps Decimals as text: read back what was stored
    return iv


def propose(
    market: Market, user, *, kind: str, where: str | None = None, amount=None,
    minutes: int | None = None, reason: str = "",
) -> Done:
    """An operator's own proposal: a buyback or an unwind, sized by hand or by the settings."""
    _require(user, OPERATOR)
    if kind not in (I.BUYBACK, I.UNWIND):
        raise InterventionError("Pick a buyback or an unwind.")
    config = settings_for(market).config()
    where = where or config.where
    if where not in (OWN, HEDGE):
        raise InterventionError("Pick the own book or the hedge venue.")
    reason = _checked(reason, "reason")
    if amount not in (None, ""):
        try:
            amount = Decimal(str(amount).strip())
        except InvalidOperation:
            raise InterventionError(f"{amount!r} is not an amount.") from None
        if not amount.is_finite() or amount <= 0:
            raise InterventionError("The amount must be more than zero.")
    else:
        amount = None
    minutes = int(minutes or config.duration_minutes)
    if not 1 <= minutes <= 1440:
        raise InterventionError("The duration must be 1 to 1,440 minutes.")
    fields = _draft(market, config, kind, where, amount, minutes, [])
    iv = _create(fields, I.MANUAL, reason or f"proposed by {user.get_username()}", user)
    audit("proposed", iv, user=user, reason=iv.reason, estimate=iv.estimate, effect=iv.effect)
    announce(iv)
    return Done(iv, f"Proposed {iv.label}: {kind} {plain(iv.amount)} {market.base} over "
                    f"{minutes} min, limit {plain(iv.price_limit)}.")


def _cooling(market: Market, minutes: int) -> bool:
    since = timezone.now() - timedelta(minutes=minutes)
    return I.objects.filter(market=market, ended_at__gt=since).exists()


def detect(market: Market) -> Intervention | None:
    """Run the market's detectors; propose what they agree on, unless one is open or the market
    is cooling down after the last. None when nothing was proposed."""
    config = settings_for(market).config()
    if not config.detect or I.objects.filter(market=market, state__in=I.OPEN).exists():
        return None
    if _cooling(market, config.cooldown_minutes):
        return None
    view = market_view(market, config.flow_window_minutes)
    findings = detectors.detect(view, config.detectors())
    kind = detectors.verdict(findings)
    if kind is None:
        return None
    try:
        fields = _draft(market, config, kind, config.where, None, config.duration_minutes, findings)
        iv = _create(fields, I.DETECTOR, "; ".join(f.reason for f in findings), None)
    except InterventionError:
        return None  # nothing tradable, no reference, or one was proposed meanwhile
    audit("proposed", iv, reason=iv.reason, estimate=iv.estimate, effect=iv.effect)
    announce(iv)
    return iv


# --- deciding ---------------------------------------------------------------------------------


def _stale(iv: Intervention) -> str:
    if timezone.now() - iv.created_at > timedelta(minutes=PROPOSAL_MINUTES):
        return f"not approved within {PROPOSAL_MINUTES} min: the market has moved on"
    return ""


def _expire_if_stale(iv: Intervention) -> str:
    """Expire a locked proposal nobody approved in time; why, or "" if it is not stale."""
    stale = _stale(iv)
    if stale:
        _move(iv, I.EXPIRED, stale, ended_at=timezone.now())
        audit("expired", iv, reason=stale)
        announce(iv)
    return stale


def expire_stale_proposals() -> int:
    """Expire the proposals nobody approved within PROPOSAL_MINUTES (an approval would find
    them so anyway): their page stops offering stale figures, and their market's detectors may
    propose afresh once the cool-down after them is over. Returns how many expired."""
    since = timezone.now() - timedelta(minutes=PROPOSAL_MINUTES)
    expired = 0
    for pk in I.objects.filter(state=I.PROPOSED, created_at__lt=since).values_list("pk", flat=True):
        with transaction.atomic():
            iv = locked(pk)
            expired += iv.state == I.PROPOSED and bool(_expire_if_stale(iv))
    return expired


def _move(iv: Intervention, state: str, note: str = "", **fields) -> None:
    """Move a locked intervention, conditionally on the state it was read in."""
    moved = I.objects.filter(pk=iv.pk, state=iv.state).update(
        state=state, state_note=note[:500], updated_at=timezone.now(), **fields
    )
    if moved != 1:
        raise InterventionConflict(state_message(I.objects.get(pk=iv.pk)))
    iv.state, iv.state_note = state, note[:500]
    for key, value in fields.items():
        setattr(iv, key, value)


def approve(intervention_id: int, user, comment: str = "", code: str | None = None) -> Done:
    """Count an approval (the transfers' rules); the last one it needs starts its slices."""
    _require(user, OPERATOR)
    comment = _checked(comment)
    what = f"intervention #{intervention_id}"
    required = I.objects.filter(pk=intervention_id).values_list("approvals_required", flat=True)
    refused = code_refusal(what, user, code, max(required, default=1))
    if refused:
        raise InterventionError(refused)
    with transaction.atomic():
        iv = locked(intervention_id)
        if iv.state != I.PROPOSED:
            raise InterventionConflict(state_message(iv))
        twice = iv.approvals.filter(user=user).exists()
        refused = approver_refusal(what, iv.proposed_by_id, user, twice)
        if refused:
            raise (InterventionConflict if twice else InterventionError)(refused)
        stale = _expire_if_stale(iv)
    if stale:
        raise InterventionConflict(f"Intervention #{iv.pk} expired instead: {stale}.")
    with transaction.atomic():
        iv = locked(intervention_id)
        if iv.state != I.PROPOSED:
            raise InterventionConflict(state_message(iv))
        if KillSwitch.is_engaged() or iv.market.state == Market.KILLED:
            raise InterventionError(
                f"{iv.market.symbol} is stopped by the kill switch: resume it before approving."
            )
        try:
            with transaction.atomic():
                InterventionApproval.objects.create(intervention=iv, user=user, comment=comment)
        except IntegrityError:
            raise InterventionConflict(f"You have already approved {what}.") from None
        count = iv.approvals.count()
        if count >= iv.approvals_required:
            start(iv)
            message = f"Approved {iv.label}: its slices start now."
        else:
            message = (f"Approval {count} of {iv.approvals_required} recorded for {iv.label}: "
                       "another operator must approve.")
        audit("approved" if iv.state == I.RUNNING else "approval", iv, user=user,
              reason=comment, approvals=count, required=iv.approvals_required)
        announce(iv)
    return Done(iv, message)


def start(iv: Intervention, rng: random.Random | None = None) -> None:
    """Plan the slices (times and sizes unpredictable: the system's randomness) and run."""
    rules = MarketRules.from_market(trade_venue(iv.account).market(iv.market.symbol))
    limits = slicing.SliceLimits(iv.slice_seconds, iv.jitter, iv.participation_pct)
    plan = slicing.plan_slices(
        iv.amount, iv.minutes, limits, rules.amount_step, rules.min_amount,
        rng or random.SystemRandom(),
    )
    now = timezone.now()
    _move(iv, I.RUNNING, plan=[[s.offset_ms, s.amount] for s in plan], started_at=now,
          next_at=now + timedelta(milliseconds=plan[0].offset_ms))
    events.intervention_due.emit_on_commit(intervention_id=iv.pk)


def reject(intervention_id: int, user, comment: str) -> Done:
    _require(user, OPERATOR)
    comment = _checked(comment)
    if not comment:
        raise InterventionError("Say why you reject it: the comment is kept in the audit log.")
    with transaction.atomic():
        iv = locked(intervention_id)
        if iv.state != I.PROPOSED:
            raise InterventionConflict(state_message(iv))
        _move(iv, I.REJECTED, comment, ended_at=timezone.now())
        audit("rejected", iv, user=user, reason=comment)
        announce(iv)
    return Done(iv, f"{iv.label[:1].upper()}{iv.label[1:]} rejected.")


def cancel(intervention_id: int, user, reason: str = "") -> Done:
    """A proposal: withdrawn by its proposer or an admin (others reject). A running or paused
    one: stopped by any operator, at once; what filled stays filled."""
    _require(user, OPERATOR)
    reason = _checked(reason, "reason") or "cancelled"
    with transaction.atomic():
        iv = locked(intervention_id)
        if iv.state not in I.OPEN:
            raise InterventionConflict(state_message(iv))
        if iv.state == I.PROPOSED and iv.proposed_by_id != user.pk and not has_role(user, ADMIN):
            raise InterventionError(
                "Only whoever proposed it, or an admin, may cancel a proposal; operators reject."
            )
        _move(iv, I.CANCELLED, reason, ended_at=timezone.now(), next_at=None)
        audit("cancelled", iv, user=user, reason=reason)
        announce(iv)
    return Done(iv, f"Intervention #{iv.pk} cancelled after {plain(iv.filled)} of "
                    f"{plain(iv.amount)} {iv.market.base}.")


def pause(intervention_id: int, *, reason: str, user=None, actor: str = "") -> Done:
    if user is not None:
        _require(user, OPERATOR)
    reason = _checked(reason, "reason")
    if not reason:
        raise InterventionError("Say why you pause it: the reason is kept in the audit log.")
    with transaction.atomic():
        iv = locked(intervention_id)
        if iv.state != I.RUNNING:
            raise InterventionConflict(state_message(iv))
        _move(iv, I.PAUSED, reason, paused_at=timezone.now(), next_at=None)
        audit("paused", iv, user=user, actor=actor, reason=reason)
        announce(iv)
    return Done(iv, f"Intervention #{iv.pk} paused.")


def resume(intervention_id: int, *, reason: str, user) -> Done:
    """Its plan's clock goes on from where it stopped: the time paused does not count."""
    _require(user, OPERATOR)
    reason = _checked(reason, "reason") or "resumed"
    with transaction.atomic():
        iv = locked(intervention_id)
        if iv.state != I.PAUSED:
            raise InterventionConflict(
                state_message(iv) if iv.state != I.RUNNING else f"{iv.label} is running."
            )
        if KillSwitch.is_engaged() or iv.market.state == Market.KILLED:
            raise InterventionError(
                f"{iv.market.symbol} is stopped by the kill switch: resume it first."
            )
        now = timezone.now()
        paused = int((now - (iv.paused_at or now)).total_seconds() * 1000)
        _move(iv, I.RUNNING, "", paused_ms=iv.paused_ms + paused, paused_at=None, next_at=now)
        audit("resumed", iv, user=user, reason=reason)
        announce(iv)
        events.intervention_due.emit_on_commit(intervention_id=iv.pk)
    return Done(iv, f"Intervention #{iv.pk} resumed.")


def halt(market: Market | None, reason: str, actor: str) -> int:
    """The kill switch stops interventions too: running ones of `market` (None: every market)
    are paused with the reason, and need an operator's resume."""
    running = I.objects.filter(state=I.RUNNING)
    if market is not None:
        running = running.filter(market=market)
    halted = 0
    for pk in running.values_list("pk", flat=True):
        try:
            pause(pk, reason=reason, actor=actor)
            halted += 1
        except InterventionConflict:
            continue  # ended or paused meanwhile
    return halted


def config_from(values: dict) -> InterventionConfig:
    """Validated settings from a form's values, or InterventionError naming what is wrong."""
    try:
        return parse(values)
    except InvalidSettings as exc:
        raise InterventionError(str(exc)) from None
