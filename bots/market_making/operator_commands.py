"""Operator commands: pause, resume, kill and cancel-all for one market or the whole desk, and
saving a market's quote settings.

The market page, its socket and `manage.py desk` call these functions and nothing else, so a
command means the same wherever it comes from, and each is written to the audit log with who
gave it and why. A command that cannot be carried out as given raises CommandRefused with a
message for the person who gave it, and changes nothing.

Commands that cancel orders wait for a running tick of the market to finish first (its lock),
so no tick places orders behind a pause; ticks of a paused or killed market cancel whatever a
failed cancel left behind. With Redis down they cancel without the lock (see "cancelling").
"""

from __future__ import annotations

import logging
import time
from contextlib import ExitStack
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from bots.desk.audit import record
from bots.desk.settings_versions import SettingsRefused, Versioned, save_version
from bots.engine.figures import plain
from bots.engine.market_making.quote_config import QuoteConfig, as_dict
from bots.hedging import hedge_book

# Price-action intervention commands (propose, approve, reject, pause, resume, cancel) live with
# their workflow in bots.interventions.workflow and are named here too; they raise
# InterventionError / InterventionConflict with the message. The kill switch stops them below.
from bots.interventions import workflow as interventions
from bots.interventions.workflow import InterventionConflict, InterventionError  # noqa: F401
from bots.interventions.workflow import approve as approve_intervention  # noqa: F401
from bots.interventions.workflow import cancel as cancel_intervention  # noqa: F401
from bots.interventions.workflow import pause as pause_intervention  # noqa: F401
from bots.interventions.workflow import propose as propose_intervention  # noqa: F401
from bots.interventions.workflow import reject as reject_intervention  # noqa: F401
from bots.interventions.workflow import resume as resume_intervention  # noqa: F401
from bots.market_making.quoter import MarketTick
from bots.models import (
    Hedge,
    HedgeCover,
    HedgeOrder,
    KillSwitch,
    Market,
    QuoteSettings,
    QuoteSettingsVersion,
)
from bots.platform import events
from bots.platform.locks import DOWN, market_lock, reachable
from bots.platform.text import TextRefused, check_text
from bots.treasury.balances import refresh_balances

# Transfer commands (propose, approve, reject, cancel, record sent, confirm, mark failed, and
# withdraw through the venue) live with their workflow in bots.treasury.rebalancing and
# bots.treasury.withdrawals;
# they are named here too, so that every operator command has one address. They take the user
# acting (roles are checked) and raise TransferError / TransferConflict with the message.
from bots.treasury.rebalancing import TransferConflict, TransferError  # noqa: F401
from bots.treasury.rebalancing import approve as approve_transfer  # noqa: F401
from bots.treasury.rebalancing import cancel as cancel_transfer  # noqa: F401
from bots.treasury.rebalancing import confirm_arrival as confirm_transfer  # noqa: F401
from bots.treasury.rebalancing import mark_failed as fail_transfer  # noqa: F401
from bots.treasury.rebalancing import propose as propose_transfer  # noqa: F401
from bots.treasury.rebalancing import record_sent as record_transfer_sent  # noqa: F401
from bots.treasury.rebalancing import reject as reject_transfer  # noqa: F401
from bots.treasury.withdrawals import execute as withdraw_transfer  # noqa: F401
from bots.venues import ccxt_errors as ccxt
from bots.venues import limiter
from bots.venues.errors import describe, is_transient

log = logging.getLogger(__name__)

# How long a command waits for a running tick of the market; a tick takes far less.
TICK_WAIT_SECONDS = 10
DESK_KILL = "killed with the desk"
KILL_SWITCH = "kill switch"


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


def _plain(text: str | None, field: str, *, multiline: bool = False) -> str:
    """The text, stripped; refused, naming the field, when it holds a control character."""
    try:
        return check_text(text or "", field, multiline=multiline).strip()
    except TextRefused as exc:
        raise CommandRefused(str(exc)) from None


def _reason(reason: str | None) -> str:
    text = _plain(reason, "reason", multiline=True)
    if not text:
        raise CommandRefused("Say why: every pause, resume and kill is logged with its reason.")
    if len(text) > 500:
        raise CommandRefused("Keep the reason under 500 characters.")
    return text


def _queue_hedge(hedge_id: int) -> None:
    """Best effort: the fill and its hedge intent are recorded; a hedge that cannot be queued
    now (Redis, the broker, is down) is queued by the hedge sweeper later."""
    if not reachable():
        log.warning("hedge %s not queued: Redis is unreachable; the sweeper queues it", hedge_id)
        return
    try:
        events.hedge_due.emit(hedge_id=hedge_id)
    except (OperationalError, *DOWN, OSError):
        log.warning("hedge %s not queued; the hedge sweeper queues it", hedge_id, exc_info=True)


def _set_state(market: Market, state: str, reason: str, **fields) -> None:
    Market.objects.filter(pk=market.pk).update(state=state, state_reason=reason[:500], **fields)
    market.state, market.state_reason = state, reason[:500]


def _publish(*markets: Market) -> None:
    """Every open page of these markets sees the command at once, not at the next tick. Best
    effort: the command is done, and a page that misses it catches up at the next tick."""
    if not reachable():
        log.warning("Redis is unreachable: open pages see the command once it is back")
        return
    for market in markets:
        try:
            events.market_changed.emit(market_id=market.pk, force=True)
        except Exception:  # whatever the push met, the command stands
            log.warning("%s: could not push the new state to its pages", market, exc_info=True)


# --- cancelling ---------------------------------------------------------------------------------
# A stop (pause, kill, cancel-all, the desk's kill switch) cancels first and writes afterwards:
# the orders leave the venue whatever else is down, and the new state and its audit entry are
# written in one transaction once the cancels were sent, while the markets' tick locks are still
# held, so no tick runs between the cancels and the state that stops it. When Redis is down the
# locks cannot be taken and the cancels go ahead without them: a cancel is safe to repeat, and
# no tick runs without Redis either. Every stop can be repeated: it cancels again.


@dataclass(frozen=True)
class Cancelled:
    """What cancelling one market's orders did."""

    market: Market
    count: int = 0  # orders cancelled
    left: int | None = 0  # orders the venue kept after an error; None: they could not be read
    problem: str = ""  # the venue's error
    unlocked: bool = False  # done without the market's tick lock

    def details(self) -> dict:
        """For the audit entry: what was cancelled, and what could not be."""
        extra = {"left": self.left, "problem": self.problem} if self.problem else {}
        unlocked = {"without_lock": True} if self.unlocked else {}
        return {"canceled": self.count, **extra, **unlocked}


def _cancel_orders(market: Market, locked: bool) -> Cancelled:
    """Cancel every open order of the market's MM account on its symbol, one by one, so that an
    order the venue refuses keeps no other on the book; fills that raced the cancels are captured
    (and so hedged)."""
    tick = MarketTick(market, _queue_hedge, None)
    try:
        orders = tick.mm.fetch_open_orders(market.symbol)
    except ccxt.BaseError as exc:
        return Cancelled(market, left=None, problem=describe(exc), unlocked=not locked)
    count, problem = 0, ""
    for order in orders:
        try:
            tick.cancel_all_of([(str(order["id"]), "everything cancelled")])
        except ccxt.BaseError as exc:
            problem = describe(exc)
            if is_transient(exc):
                break  # the venue is not answering: each other cancel would wait the same
            continue
        count += 1
    try:
        if not orders:
            tick.reconcile()  # records of orders the venue no longer has: only to learn
        tick.capture()
    except ccxt.BaseError as exc:  # the market's next tick reads them
        log.warning("%s: fills not read after the cancels: %s", market, describe(exc))
    return Cancelled(market, count, len(orders) - count, problem, not locked)


def _stop(markets: list[Market], write=None, hold: str = "") -> list[Cancelled]:
    """Cancel every open order of each market; then, in one transaction and before the tick
    locks are released, `write(results)` writes the new state and its audit entry, and each
    market's quote panel shows `hold` (or the market's state reason) until a tick quotes."""
    with ExitStack() as held_locks:
        # A stop's requests come before the ticks' and go through with Redis down.
        held_locks.enter_context(limiter.priority(limiter.STOP))
        results = []
        for market in markets:
            locked = held_locks.enter_context(
                market_lock("tick", market.pk, wait_seconds=TICK_WAIT_SECONDS, unreachable_ok=True)
            )
            if not locked:
                log.warning("%s: cancelling without the tick lock", market)
            results.append(_cancel_orders(market, locked))
        with transaction.atomic():
            if write is not None:
                write(results)
            at = int(time.time() * 1000)
            for market in markets:
                Market.objects.filter(pk=market.pk).update(
                    quote_summary=_held(market, at, hold or market.state_reason)
                )
    for market in markets:
        _read_balances(market)
    _publish(*markets)
    return results


def _held(market: Market, at: int, why: str) -> dict:
    """The quote panel of a market whose quotes are gone: no levels and why, and the hedge
    venues' books as the last tick read them, which the depth chart draws while no tick runs."""
    last = Market.objects.filter(pk=market.pk).values_list("quote_summary", flat=True).first() or {}
    return {"at": at, "levels": [], "hold": why, "hedge_books": last.get("hedge_books", [])}


def _read_balances(market: Market) -> None:
    """The cancels moved the MM account's funds from in orders to free: read them now, or the
    page shows them in orders until a tick after a resume. Best effort: the stop is done, and a
    venue that cannot say its balances now is read again by the next tick that changes things."""
    try:
        refresh_balances(market.mm_account, [market.base, market.quote])
    except ccxt.BaseError as exc:
        log.warning("%s: balances not read after the cancels: %s", market, describe(exc))


def cancel_market_orders(market: Market, why: str) -> Cancelled:
    """Cancel every open order of the market, after any running tick (without waiting for one
    when Redis is down); the quote panel shows `why` until the next tick quotes."""
    [done] = _stop([market], hold=why)
    return done


def _report(results: list[Cancelled]) -> list[str]:
    """What could not be done, in sentences for the operator."""
    notes = []
    for done in results:
        symbol = done.market.symbol
        after = (
            "the market's ticks cancel them once the venue answers"
            if done.market.state in Market.STOPPED
            else "cancel again once the venue answers"
        )
        if done.left is None:
            notes.append(
                f"{symbol}: its open orders could not be read ({done.problem}), "
                f"so none were cancelled; {after}."
            )
        elif done.left:
            notes.append(
                f"{symbol}: {done.left} order(s) could not be cancelled ({done.problem}); {after}."
            )
    unlocked = [done.market.symbol for done in results if done.unlocked]
    if unlocked and not reachable():
        notes.append(
            "Redis is unreachable: the orders were cancelled without waiting for a running tick; "
            "ticks, hedges and live pages resume once it is back."
        )
    elif unlocked:
        notes.append(
            f"A tick of {', '.join(unlocked)} ran past {TICK_WAIT_SECONDS} s: "
            "the orders were cancelled without waiting for it."
        )
    return notes


def _said(first: str, results: list[Cancelled], *more: str) -> Outcome:
    total = sum(done.count for done in results)
    text = " ".join(part for part in [first.format(total=total), *_report(results), *more] if part)
    return Outcome(text, total)


def _current(market: Market) -> None:
    """The market's state as committed, its row locked for the rest of the transaction."""
    row = Market.objects.select_for_update().only("state", "state_reason").get(pk=market.pk)
    market.state, market.state_reason = row.state, row.state_reason


# --- one market ---------------------------------------------------------------------------------


def pause_market(market: Market, *, reason: str, user=None, actor: str = "") -> Outcome:
    """Stop quoting until a resume. Pausing a paused market cancels again; a killed market stays
    killed (a pause does not soften a kill) and its orders are cancelled again all the same."""
    why = _reason(reason)
    before = ""

    def write(results: list[Cancelled]) -> None:
        nonlocal before
        _current(market)
        if market.state in Market.STOPPED:
            before = market.state
        else:
            _set_state(market, Market.PAUSED, f"paused by {_who(user, actor)}: {why}")
        extra = {"already": before} if before else {}
        record("pause", user=user, actor=actor, market=market, reason=why,
               **results[0].details(), **extra)

    results = _stop([market], write)
    if before == Market.PAUSED:
        return _said(f"{market.symbol} was already paused; {{total}} order(s) cancelled.", results)
    if before == Market.KILLED:
        return _said(
            f"{market.symbol} is killed and stays killed (resume it, then pause it, if that is "
            "meant); {total} order(s) cancelled.",
            results,
        )
    return _said(f"{market.symbol} paused; {{total}} order(s) cancelled.", results)


def kill_market(market: Market, *, reason: str, user=None, actor: str = "") -> Outcome:
    """Stop quoting until an explicit resume. Killing a killed market cancels again."""
    why = _reason(reason)
    again = False

    def write(results: list[Cancelled]) -> None:
        nonlocal again
        _current(market)
        again = market.state == Market.KILLED
        if not again:
            _set_state(market, Market.KILLED, f"killed by {_who(user, actor)}: {why}")
        extra = {"already": Market.KILLED} if again else {}
        record("kill", user=user, actor=actor, market=market, reason=why,
               **results[0].details(), **extra)

    results = _stop([market], write)
    halted = interventions.halt(market, f"killed by {_who(user, actor)}: {why}", KILL_SWITCH)
    done = "was already killed" if again else "killed"
    paused = f"{halted} intervention(s) paused." if halted else ""
    return _said(f"{market.symbol} {done}; {{total}} order(s) cancelled.", results, paused)


def resume_market(market: Market, *, reason: str, user=None, actor: str = "") -> Outcome:
    """Restart a paused or killed market, or end a price-breaker hold early."""
    why = _reason(reason)
    with transaction.atomic():
        if KillSwitch.is_engaged():
            raise CommandRefused("The desk's kill switch is engaged: resume the desk first.")
        _current(market)
        breaker_hold = market.state == Market.HOLDING and market.protect_until is not None
        if market.state not in Market.STOPPED and not breaker_hold:
            raise CommandRefused(f"{market.symbol} is {market.state}, not paused or killed.")
        _set_state(market, Market.RUNNING, "", protect_until=None, started_at=timezone.now())
        record("resume", user=user, actor=actor, market=market, reason=why)
    _publish(market)
    return Outcome(f"{market.symbol} resumed: it quotes again at its next tick.")


def cancel_all(market: Market, *, reason: str, user=None, actor: str = "") -> Outcome:
    why = _reason(reason)

    def write(results: list[Cancelled]) -> None:
        _current(market)
        record("cancel_all", user=user, actor=actor, market=market, reason=why,
               **results[0].details())

    results = _stop(
        [market], write,
        hold=f"orders cancelled by {_who(user, actor)}: {why}; the next tick quotes again",
    )
    again = "" if market.state in Market.STOPPED else "The bot quotes again at its next tick."
    return _said(f"{market.symbol}: {{total}} order(s) cancelled.", results, again)


# --- the whole desk -----------------------------------------------------------------------------


def kill_all(*, reason: str, user=None, actor: str = "") -> Outcome:
    """The desk's kill switch: every market stops and its orders are cancelled; only resume_all
    (then each market's own resume, for markets stopped before) restarts them. Engaging it again
    cancels every market's orders again; the first engagement's reason is kept."""
    why = _reason(reason)
    markets = list(Market.objects.select_related("mm_account__venue", "hedge_account__venue"))
    again = False

    def write(results: list[Cancelled]) -> None:
        nonlocal again
        switch = KillSwitch.objects.select_for_update().filter(pk=KillSwitch.current().pk).get()
        again = switch.engaged
        if not again:
            KillSwitch.objects.filter(pk=switch.pk).update(
                engaged=True, actor=_who(user, actor), reason=why, changed_at=timezone.now()
            )
        for market in markets:
            _current(market)
            if market.state not in Market.STOPPED:  # one already paused or killed stays so
                _set_state(market, Market.KILLED, f"{DESK_KILL} by {_who(user, actor)}: {why}")
        problems = {
            done.market.symbol: done.details() for done in results if done.problem or done.unlocked
        }
        record(
            "kill_all", user=user, actor=actor, reason=why,
            canceled=sum(done.count for done in results),
            **({"markets": problems} if problems else {}),
            **({"already": "engaged"} if again else {}),
        )

    results = _stop(markets, write)
    interventions.halt(None, f"{DESK_KILL} by {_who(user, actor)}: {why}", KILL_SWITCH)
    if again:
        first = (
            "The desk's kill switch was already engaged: every market stays stopped; "
            "{total} order(s) cancelled."
        )
    else:
        first = "Desk killed: every market stopped; {total} order(s) cancelled."
    return _said(first, results)


def resume_all(*, reason: str, user=None, actor: str = "") -> Outcome:
    """Release the kill switch; markets it killed quote again, markets stopped on their own stay."""
    why = _reason(reason)
    with transaction.atomic():
        switch = KillSwitch.objects.select_for_update().filter(pk=KillSwitch.current().pk).get()
        if not switch.engaged:
            raise CommandRefused("The desk's kill switch is not engaged.")
        KillSwitch.objects.filter(pk=switch.pk).update(
            engaged=False, actor=_who(user, actor), reason=why, changed_at=timezone.now()
        )
        resumed = Market.objects.filter(
            state=Market.KILLED, state_reason__startswith=DESK_KILL
        ).update(state=Market.RUNNING, state_reason="", started_at=timezone.now())
        record("resume_all", user=user, actor=actor, reason=why, markets=resumed)
    _publish(*Market.objects.all())
    return Outcome(f"Desk resumed: {resumed} market(s) quote again at their next tick.")


# --- settings -----------------------------------------------------------------------------------


def enable_market(market: Market, *, reason: str = "", user=None, actor: str = "") -> Outcome:
    """Let a market quote from its next tick: only on accounts whose keys passed their
    connection test (bots.desk.onboarding), and only with quote settings saved."""
    why = _reason(reason or "enabled")
    with transaction.atomic():
        untested = [
            str(account) for account in [market.mm_account, *market.hedge_accounts()]
            if account.venue.kind != account.venue.PAPER and not account.check_passed
        ]
        if untested:
            raise CommandRefused(
                f"{market.symbol} cannot be enabled: the keys of {', '.join(untested)} have not "
                "passed a connection test. Test them on the accounts page first."
            )
        if not QuoteSettings.objects.filter(market=market).exists():
            raise CommandRefused(f"{market.symbol} has no quote settings yet: save them first.")
        market.enabled = True
        _set_state(market, Market.RUNNING, "", enabled=True, started_at=timezone.now())
        record("enable", user=user, actor=actor, market=market, reason=why)
    _publish(market)
    return Outcome(f"{market.symbol} enabled: it quotes from its next tick.")


QUOTE_SETTINGS = Versioned(QuoteSettings, QuoteSettingsVersion, "settings", "quote settings")


def change_quote_settings(
    market: Market, config: QuoteConfig, *, expected_version: int, user=None, actor: str = "",
    reason: str = "",
) -> QuoteSettingsVersion:
    """Save validated settings as the market's next version (bots.desk.settings_versions); the
    next tick quotes with them. A market added without settings gets them at its first save."""
    reason = _plain(reason, "reason", multiline=True)
    try:
        return save_version(
            QUOTE_SETTINGS, market, as_dict(config), expected_version=expected_version, user=user,
            actor=_who(user, actor), reason=reason,
        )
    except SettingsRefused as exc:
        raise CommandRefused(str(exc)) from None


# --- hedges -------------------------------------------------------------------------------------
# A failed hedge waits for an operator; so may a waiting one (the pending position). A hedge that
# carries other fills' remainders (netted small fills) acts for all of them.


def _hedge_for_action(hedge_id: int, allowed: tuple[str, ...], verb: str):
    """The hedge and the group it hedges, rows locked; refused when its state does not allow it."""

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


# A manual hedge's price is typed by hand: further than this from the market's reference (the
# hedge venues' mid at the last tick, or the fill's price) it is a typo, not a trade.
MANUAL_PRICE_BAND = Decimal("0.25")


def _near_reference(price: Decimal, reference: Decimal, quote: str) -> None:
    low, high = reference * (1 - MANUAL_PRICE_BAND), reference * (1 + MANUAL_PRICE_BAND)
    if not low <= price <= high:
        raise CommandRefused(
            f"The price must be within {MANUAL_PRICE_BAND:.0%} of the reference {plain(reference)} "
            f"{quote}: from {plain(low)} to {plain(high)}, not {plain(price)}."
        )


def record_manual_hedge(
    hedge_id: int, *, venue: str, price, amount, reference: str, user=None, actor: str = ""
) -> Outcome:
    """Record that an operator hedged (part of) a hedge elsewhere; what it completes is closed."""

    venue, reference = _plain(venue, "venue"), _plain(reference, "reference")
    if not venue or len(venue) > 100:
        raise CommandRefused("Name the venue where the hedge was done (at most 100 characters).")
    if not reference or len(reference) > 200:
        raise CommandRefused("Give the trade's reference there, its order or trade id (at most 200 characters).")
    price, amount = _positive(price, "price"), _positive(amount, "size")
    with transaction.atomic():
        hedge, group = _hedge_for_action(hedge_id, (Hedge.FAILED, Hedge.WAITING), "recorded as hedged by hand")
        left = sum((m.remaining for m in group), Decimal(0))
        market = hedge.fill.market
        base, quote = market.symbol.split("/")
        if amount > left:
            raise CommandRefused(f"{plain(amount)} {base} is more than the {plain(left)} {base} left unhedged.")
        _near_reference(price, market.reference_price or hedge.fill.price, quote)
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

    why = _plain(reason, "reason", multiline=True)
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
