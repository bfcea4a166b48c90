"""Operator commands: pause, resume, kill and cancel-all for one market or the whole desk, and
saving a market's quote settings.

The market page, its socket and `manage.py desk` call these functions and nothing else, so a
command means the same wherever it comes from, and each is written to the audit log with who
gave it and why. A command that cannot be carried out as given raises CommandRefused with a
message for the person who gave it, and changes nothing.

Commands that cancel orders wait for a running tick of the market to finish first (its lock),
so no tick places orders behind a pause; ticks of a paused or killed market cancel whatever a
failed cancel left behind.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from bots.audit import record
from bots.engine.figures import plain
from bots.engine.quote_config import QuoteConfig, as_dict
from bots.locks import market_lock
from bots.market_making import MarketTick
from bots.models import KillSwitch, Market, QuoteSettings, QuoteSettingsVersion
from bots.venues import ccxt_errors as ccxt
from bots.venues.errors import describe

log = logging.getLogger(__name__)

# How long a command waits for a running tick of the market; a tick takes far less.
TICK_WAIT_SECONDS = 10
DESK_KILL = "killed with the desk"


class CommandRefused(Exception):
    """The command cannot be carried out as given; the message says why, for the operator."""


@dataclass(frozen=True)
class Outcome:
    message: str
    canceled: int = 0


def _who(user, actor: str) -> str:
    if user is not None and user.is_authenticated:
        return user.get_username()
    return actor or "system"


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise CommandRefused("Say why: every pause, resume and kill is logged with its reason.")
    if len(text) > 500:
        raise CommandRefused("Keep the reason under 500 characters.")
    return text


def _queue_hedge(hedge_id: int) -> None:
    from bots.tasks import hedge_fill

    hedge_fill.delay(hedge_id)


def _set_state(market: Market, state: str, reason: str, **fields) -> None:
    Market.objects.filter(pk=market.pk).update(state=state, state_reason=reason[:500], **fields)
    market.state, market.state_reason = state, reason[:500]


def _publish(*markets: Market) -> None:
    """Every open page of these markets sees the command at once, not at the next tick."""
    from dashboard.live import publish_market

    for market in markets:
        try:
            publish_market(market.pk, force=True)
        except Exception:  # the command is done; a page that misses it catches up next tick
            log.warning("%s: could not push the new state to its pages", market, exc_info=True)


def cancel_market_orders(market: Market, why: str) -> tuple[int, str]:
    """Cancel every open order of the market's MM account on its symbol, after any running tick;
    fills that raced the cancels are captured (and so hedged). The page's quote panel shows `why`
    until the next tick quotes. Returns (count, problem)."""
    with market_lock("tick", market.pk, wait_seconds=TICK_WAIT_SECONDS) as held:
        if not held:
            log.warning("%s: a tick held the lock past %s s; cancelling anyway", market, TICK_WAIT_SECONDS)
        tick = MarketTick(market, _queue_hedge, None)
        try:
            count = tick.cancel_everything()
            tick.capture()
        except ccxt.BaseError as exc:
            return 0, f"could not cancel every order ({describe(exc)}); the next tick tries again"
        Market.objects.filter(pk=market.pk).update(
            quote_summary={"at": tick.now_ms, "levels": [], "hold": why}
        )
    return count, ""


def _result(text: str, count: int, problem: str) -> Outcome:
    done = f"{text}; {count} order(s) cancelled."
    return Outcome(f"{done} {problem}".strip(), count)


# --- one market ---------------------------------------------------------------------------------


def pause_market(market: Market, *, reason: str, user=None, actor: str = "") -> Outcome:
    why = _reason(reason)
    if market.state == Market.PAUSED:
        raise CommandRefused(f"{market.symbol} is already paused.")
    if market.state == Market.KILLED:
        raise CommandRefused(f"{market.symbol} is killed: resume it, then pause it, if that is meant.")
    _set_state(market, Market.PAUSED, f"paused by {_who(user, actor)}: {why}")
    count, problem = cancel_market_orders(market, market.state_reason)
    record("pause", user=user, actor=actor, market=market, reason=why, canceled=count)
    _publish(market)
    return _result(f"{market.symbol} paused", count, problem)


def kill_market(market: Market, *, reason: str, user=None, actor: str = "") -> Outcome:
    why = _reason(reason)
    if market.state == Market.KILLED:
        raise CommandRefused(f"{market.symbol} is already killed.")
    _set_state(market, Market.KILLED, f"killed by {_who(user, actor)}: {why}")
    count, problem = cancel_market_orders(market, market.state_reason)
    record("kill", user=user, actor=actor, market=market, reason=why, canceled=count)
    _publish(market)
    return _result(f"{market.symbol} killed", count, problem)


def resume_market(market: Market, *, reason: str, user=None, actor: str = "") -> Outcome:
    """Restart a paused or killed market, or end a price-breaker hold early."""
    why = _reason(reason)
    if KillSwitch.is_engaged():
        raise CommandRefused("The desk's kill switch is engaged: resume the desk first.")
    breaker_hold = market.state == Market.HOLDING and market.protect_until is not None
    if market.state not in Market.STOPPED and not breaker_hold:
        raise CommandRefused(f"{market.symbol} is {market.state}, not paused or killed.")
    _set_state(market, Market.RUNNING, "", protect_until=None)
    record("resume", user=user, actor=actor, market=market, reason=why)
    _publish(market)
    return Outcome(f"{market.symbol} resumed: it quotes again at its next tick.")


def cancel_all(market: Market, *, reason: str, user=None, actor: str = "") -> Outcome:
    why = _reason(reason)
    count, problem = cancel_market_orders(
        market, f"orders cancelled by {_who(user, actor)}: {why}; the next tick quotes again"
    )
    record("cancel_all", user=user, actor=actor, market=market, reason=why, canceled=count)
    _publish(market)
    again = "" if market.state in Market.STOPPED else "The bot quotes again at its next tick."
    parts = [f"{market.symbol}: {count} order(s) cancelled.", problem, again]
    return Outcome(" ".join(p for p in parts if p), count)


# --- the whole desk -----------------------------------------------------------------------------


def kill_all(*, reason: str, user=None, actor: str = "") -> Outcome:
    """The desk's kill switch: every market stops and its orders are cancelled; only resume_all
    (then each market's own resume, for markets stopped before) restarts them."""
    why = _reason(reason)
    switch = KillSwitch.current()
    if switch.engaged:
        raise CommandRefused("The desk's kill switch is already engaged.")
    KillSwitch.objects.filter(pk=switch.pk).update(
        engaged=True, actor=_who(user, actor), reason=why, changed_at=timezone.now()
    )
    total, problems = 0, []
    for market in Market.objects.select_related("mm_account__venue", "hedge_account__venue"):
        if market.state not in Market.STOPPED:  # one already paused or killed stays so
            _set_state(market, Market.KILLED, f"{DESK_KILL} by {_who(user, actor)}: {why}")
        count, problem = cancel_market_orders(market, market.state_reason)
        total += count
        if problem:
            problems.append(f"{market.symbol}: {problem}")
    record("kill_all", user=user, actor=actor, reason=why, canceled=total)
    _publish(*Market.objects.all())
    return Outcome(
        f"Desk killed: every market stopped; {total} order(s) cancelled. {' '.join(problems)}".strip(),
        total,
    )


def resume_all(*, reason: str, user=None, actor: str = "") -> Outcome:
    """Release the kill switch; markets it killed quote again, markets stopped on their own stay."""
    why = _reason(reason)
    switch = KillSwitch.current()
    if not switch.engaged:
        raise CommandRefused("The desk's kill switch is not engaged.")
    KillSwitch.objects.filter(pk=switch.pk).update(
        engaged=False, actor=_who(user, actor), reason=why, changed_at=timezone.now()
    )
    resumed = Market.objects.filter(state=Market.KILLED, state_reason__startswith=DESK_KILL).update(
        state=Market.RUNNING, state_reason=""
    )
    record("resume_all", user=user, actor=actor, reason=why, markets=resumed)
    _publish(*Market.objects.all())
    return Outcome(f"Desk resumed: {resumed} market(s) quote again at their next tick.")


# --- settings -----------------------------------------------------------------------------------


def _text(value: object) -> str:
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return str(value).lower() if isinstance(value, bool) else str(value)


def change_quote_settings(
    market: Market, config: QuoteConfig, *, expected_version: int, user=None, actor: str = "",
    reason: str = "",
) -> QuoteSettingsVersion:
    """Save validated settings as the market's next version; the next tick quotes with them.

    `expected_version` is the version the editor started from: a save made meanwhile by someone
    else is not silently overwritten.
    """
    with transaction.atomic():
        row = QuoteSettings.objects.select_for_update().filter(market=market).first()
        created = row is None
        if created:  # a market added without settings: its first save creates them
            row = QuoteSettings(market=market)
        if row.version != expected_version:
            latest = market.settings_versions.first()
            by = f" by {latest.actor} at {latest.at:%H:%M:%S} UTC" if latest else ""
            raise CommandRefused(
                f"These settings were changed{by} (version {row.version}) since you opened them: "
                "reload to see that change, then make yours."
            )
        old, new = row.values(), as_dict(config)
        changes = {
            name: {"old": "" if created else _text(old[name]), "new": _text(value)}
            for name, value in new.items()
            if created or old[name] != value
        }
        if not changes:
            raise CommandRefused("Nothing changed: every value is what it was.")
        for name in changes:
            setattr(row, name, new[name])
        row.version += 1
        row.save()
        version = QuoteSettingsVersion.objects.create(
            market=market, number=row.version, user=user if user and user.is_authenticated else None,
            actor=_who(user, actor), changes=changes, reason=reason.strip()[:2000],
        )
        record(
            "settings", user=user, actor=actor, market=market, subject=f"quote settings v{row.version}",
            reason=reason.strip(), changes=changes,
        )
    return version


# --- hedges -------------------------------------------------------------------------------------
# A failed hedge waits for an operator; so may a waiting one (the pending position). A hedge that
# carries other fills' remainders (netted small fills) acts for all of them.


def _hedge_for_action(hedge_id: int, allowed: tuple[str, ...], verb: str):
    """The hedge and the group it hedges, rows locked; refused when its state does not allow it."""
    from bots import hedge_book
    from bots.models import Hedge, HedgeOrder

    hedge = (
        Hedge.objects.select_for_update(of=("self",))
        .select_related("fill__market")
        .filter(pk=hedge_id)
        .first()
    )
    if hedge is None:
        raise CommandRefused(f"There is no hedge {hedge_id}.")
    if hedge.state not in allowed:
        states = " or ".join(s.replace("_", " ") for s in allowed)
        raise CommandRefused(f"Hedge {hedge_id} is {hedge.get_state_display()}: only a {states} hedge can be {verb}.")
    group = hedge_book.group_of(hedge) if hedge.state == Hedge.FAILED else [hedge]
    list(Hedge.objects.select_for_update(of=("self",)).filter(pk__in=[m.pk for m in group]).values_list("pk"))
    unknown = HedgeOrder.objects.filter(hedge=hedge, state=HedgeOrder.SENDING).first()
    if unknown is not None and verb != "retried":
        raise CommandRefused(
            f"Hedge {hedge_id} has an order whose outcome is not known ({unknown.client_order_id}): "
            "retry it first, so Ballast asks the venue about that order."
        )
    return hedge, group


def retry_hedge(hedge_id: int, *, user=None, actor: str = "") -> Outcome:
    """Run a failed hedge again from the first ladder step (after a rebalance, a fix...)."""
    from bots.models import Hedge

    with transaction.atomic():
        hedge, _ = _hedge_for_action(hedge_id, (Hedge.FAILED,), "retried")
        previous = hedge.error
        Hedge.objects.filter(pk=hedge.pk).update(
            state=Hedge.PENDING, step=0, unclassified_errors=0, error="", updated_at=timezone.now()
        )
        record("hedge_retry", user=user, actor=actor, market=hedge.fill.market,
               subject=f"hedge {hedge.pk}", reason=previous, fill=hedge.fill.trade_id)
        transaction.on_commit(lambda: _queue_hedge(hedge.pk))
    return Outcome(f"Hedge {hedge.pk} is pending again: it is being sent now.")


def _positive(value, what: str) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (ArithmeticError, ValueError):
        raise CommandRefused(f"The {what} must be a number, not {value!r}.") from None
    if not number.is_finite() or number <= 0:
        raise CommandRefused(f"The {what} must be above 0.")
    return number


def record_manual_hedge(
    hedge_id: int, *, venue: str, price, amount, reference: str, user=None, actor: str = ""
) -> Outcome:
    """Record that an operator hedged (part of) a hedge elsewhere; what it completes is closed."""
    from bots import hedge_book
    from bots.models import Hedge, HedgeCover

    venue, reference = (venue or "").strip(), (reference or "").strip()
    if not venue or len(venue) > 100:
        raise CommandRefused("Name the venue where the hedge was done (at most 100 characters).")
    if not reference or len(reference) > 200:
        raise CommandRefused("Give the trade's reference there, its order or trade id (at most 200 characters).")
    price, amount = _positive(price, "price"), _positive(amount, "size")
    with transaction.atomic():
        hedge, group = _hedge_for_action(hedge_id, (Hedge.FAILED, Hedge.WAITING), "recorded as hedged by hand")
        left = sum((m.remaining for m in group), Decimal(0))
        base = hedge.fill.market.symbol.split("/")[0]
        if amount > left:
            raise CommandRefused(f"{plain(amount)} {base} is more than the {plain(left)} {base} left unhedged.")
        shares = hedge_book.split_cost(group, amount, amount * price, Decimal(0))
        complete = hedge_book.apply_shares(
            shares, HedgeCover.MANUAL, venue=venue, reference=reference,
            user=user if user is not None and user.is_authenticated else None,
        )
        hedge_book.close_complete(complete, Hedge.MANUAL)
        rest = left - amount
        if rest > 0:
            Hedge.objects.filter(pk=hedge.pk).update(
                error=f"{plain(amount)} {base} hedged by hand at {venue}; {plain(rest)} {base} still unhedged"
            )
        record("hedge_manual", user=user, actor=actor, market=hedge.fill.market,
               subject=f"hedge {hedge.pk}", venue=venue, price=price, amount=amount,
               reference=reference, fill=hedge.fill.trade_id)
    done = "it is closed" if rest == 0 else f"{plain(rest)} {base} is still unhedged"
    return Outcome(f"Manual hedge of {plain(amount)} {base} at {plain(price)} on {venue} recorded; {done}.")


def write_off_hedge(hedge_id: int, *, reason: str, user=None, actor: str = "") -> Outcome:
    """Close a hedge leaving what is unhedged unhedged, for a reason that is kept."""
    from bots import hedge_book
    from bots.models import Hedge

    why = (reason or "").strip()
    if not why:
        raise CommandRefused("Say why the hedge is written off: the reason is kept with it.")
    if len(why) > 500:
        raise CommandRefused("Keep the reason under 500 characters.")
    with transaction.atomic():
        hedge, group = _hedge_for_action(hedge_id, (Hedge.FAILED, Hedge.WAITING), "written off")
        left = sum((m.remaining for m in group), Decimal(0))
        for member in group:
            hedge_book.close(member, Hedge.WRITTEN_OFF, f"written off: {why}")
        base = hedge.fill.market.symbol.split("/")[0]
        record("hedge_write_off", user=user, actor=actor, market=hedge.fill.market,
               subject=f"hedge {hedge.pk}", reason=why, unhedged=left, fill=hedge.fill.trade_id)
    return Outcome(f"Hedge {hedge.pk} written off with {plain(left)} {base} unhedged.")



# Transfer commands (propose, approve, reject, cancel, record sent, confirm, mark failed, and
# withdraw through the venue) live with their workflow in bots.rebalancing and bots.withdrawals;
# they are named here too, so that every operator command has one address. They take the user
# acting (roles are checked) and raise TransferError / TransferConflict with the message.
from bots.rebalancing import TransferConflict, TransferError  # noqa: E402, F401
from bots.rebalancing import approve as approve_transfer  # noqa: E402, F401
from bots.rebalancing import cancel as cancel_transfer  # noqa: E402, F401
from bots.rebalancing import confirm_arrival as confirm_transfer  # noqa: E402, F401
from bots.rebalancing import mark_failed as fail_transfer  # noqa: E402, F401
from bots.rebalancing import propose as propose_transfer  # noqa: E402, F401
from bots.rebalancing import record_sent as record_transfer_sent  # noqa: E402, F401
from bots.rebalancing import reject as reject_transfer  # noqa: E402, F401
from bots.withdrawals import execute as withdraw_transfer  # noqa: E402, F401
