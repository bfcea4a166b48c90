"""A running intervention's slices: each a limit IOC at the intervention's price limit, sized by
the plan and capped by the market's recent volume (bots.engine.interventions.slicing).

One slice at a time: the slice is claimed under the intervention's row lock by moving its next
time on, and its order is recorded as "sending" with a client order id before the venue is
called, then its outcome; an order a crash left "sending" is looked up on the venue before
anything else is sent. The kill switch (desk-wide or the market's) pauses it before any order.
On the own book the slice trades through the MM account, and capture leaves intervention
orders' trades unhedged (bots.hedging.capture.intervention_orders), waiting while one is being
sent: an intervention is meant to change the position, not to be hedged away.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from bots.engine.figures import plain
from bots.engine.interventions import slicing
from bots.engine.rules import ZERO, MarketRules, dec
from bots.interventions import workflow
from bots.interventions.reads import recent_volume, trade_venue
from bots.models import Intervention, InterventionOrder, KillSwitch, Market
from bots.venues import ccxt_errors as ccxt
from bots.venues.errors import describe, is_transient
from bots.venues.order_lookup import find_order, order_fee, with_costs

log = logging.getLogger(__name__)
I = Intervention  # noqa: E741
KILL = "kill switch"
# An order not found on the venue this long after it was sent never arrived.
SETTLE_SECONDS = 10


class SliceRetry(Exception):
    """The venue could not be reached, or an order's fate is unknown yet: try again shortly."""


@dataclass(frozen=True)
class SliceOutcome:
    message: str
    next_in: float | None = None  # seconds until the next slice is due; None: nothing to follow


def _ms(delta: timedelta) -> int:
    return int(delta.total_seconds() * 1000)


def elapsed_ms(iv: Intervention, now) -> int:
    """The plan's clock: time since the start, less the time spent paused."""
    return _ms(now - iv.started_at) - iv.paused_ms


def _plan(iv: Intervention) -> list[slicing.Slice]:
    return [slicing.Slice(int(t), dec(a)) for t, a in iv.plan]


def _next_at(iv: Intervention, now, filled: Decimal):
    """When the next slice is due: the plan's next slot, or (with the plan done and something
    left that the cap held back) one interval on, until the time is up."""
    elapsed = elapsed_ms(iv, now)
    later = [s.offset_ms for s in _plan(iv) if s.offset_ms > elapsed]
    if later:
        return now + timedelta(milliseconds=later[0] - elapsed)
    if filled < iv.amount and elapsed < iv.minutes * 60_000:
        return now + timedelta(seconds=iv.slice_seconds)
    return None


def _stopped(iv: Intervention) -> str:
    if KillSwitch.is_engaged():
        return "the desk's kill switch is engaged"
    state = Market.objects.filter(pk=iv.market_id).values_list("state", flat=True).first()
    if state == Market.KILLED:
        return f"{iv.market.symbol} is killed"
    return ""


def run_due(intervention_id: int) -> SliceOutcome:
    iv = I.objects.select_related("market", "account__venue").get(pk=intervention_id)
    if iv.state != I.RUNNING:
        return SliceOutcome(f"{iv.label} is {iv.state}")
    stopped = _stopped(iv)
    if stopped:
        try:
            workflow.pause(iv.pk, reason=f"stopped: {stopped}", actor=KILL)
        except workflow.InterventionConflict:
            pass
        return SliceOutcome(f"{iv.label} paused: {stopped}")
    venue = trade_venue(iv.account)
    _settle_in_flight(iv, venue)
    row = _claim(iv, venue)
    if isinstance(row, SliceOutcome):
        return row
    order = _send(iv, venue, row)
    if order is None:
        return SliceOutcome(f"slice {row.number} of {iv.label} refused", None)
    _record(iv, row, order)
    return _follow_up(iv.pk)


def _claim(iv: Intervention, venue) -> InterventionOrder | SliceOutcome:
    """The slice's order, recorded as sending; or why there is none now."""
    rules = MarketRules.from_market(venue.market(iv.market.symbol))
    volume = recent_volume(iv.market, iv.participation_window_minutes)
    limits = slicing.SliceLimits(iv.slice_seconds, iv.jitter, iv.participation_pct)
    with transaction.atomic():
        iv = workflow.locked(iv.pk)
        now = timezone.now()
        if iv.state != I.RUNNING:
            return SliceOutcome(f"{iv.label} is {iv.state}")
        if iv.next_at is not None and iv.next_at > now:
            return SliceOutcome("not due yet", (iv.next_at - now).total_seconds())
        due = slicing.due_now(_plan(iv), elapsed_ms(iv, now))
        amount = slicing.next_amount(
            due, iv.filled, iv.amount, volume, limits, rules.amount_step, rules.min_amount
        )
        if amount <= 0:
            I.objects.filter(pk=iv.pk).update(next_at=_next_at(iv, now, iv.filled))
            finished = _finish_if_done(iv, now)
            if finished:
                return SliceOutcome(finished)
            held = slicing.participation_cap(volume, iv.participation_pct)
            return SliceOutcome(
                f"nothing to send: {plain(due - iv.filled)} due, the cap allows {plain(held)}",
                iv.slice_seconds,
            )
        number = iv.orders.count() + 1
        row = InterventionOrder.objects.create(
            intervention=iv, account=iv.account, number=number,
            client_order_id=f"ballast-iv{iv.pk}-{number}", side=iv.side, amount=amount,
            limit_price=iv.price_limit, sent_at=now,
        )
        # Claimed: a second task for this slice finds the next time in the future.
        I.objects.filter(pk=iv.pk).update(next_at=_next_at(iv, now, iv.filled + amount))
    return row


def _send(iv: Intervention, venue, row: InterventionOrder) -> dict | None:
    try:
        order = venue.create_order(
            iv.market.symbol, "limit", row.side, row.amount, row.limit_price,
            {"clientOrderId": row.client_order_id, "timeInForce": "IOC"},
        )
    except ccxt.DuplicateOrderId:
        order = venue.fetch_order(None, iv.market.symbol, {"clientOrderId": row.client_order_id})
    except ccxt.BaseError as exc:
        if is_transient(exc):
            raise SliceRetry(describe(exc)) from exc  # stays sending: looked up before a resend
        InterventionOrder.objects.filter(pk=row.pk).update(
            state=InterventionOrder.UNSENT, error=describe(exc)
        )
        try:
            workflow.pause(iv.pk, reason=f"the venue refused slice {row.number}: {describe(exc)}",
                           actor="intervention slices")
        except workflow.InterventionConflict:
            pass
        return None
    try:
        if order["status"] == "open":  # an IOC a venue left open
            order = venue.cancel_order(order["id"], iv.market.symbol)
        return with_costs(venue, iv.market.symbol, order)
    except ccxt.BaseError as exc:
        raise SliceRetry(describe(exc)) from exc  # stays sending: settled before the next send


def _record(iv: Intervention, row: InterventionOrder, order: dict) -> None:
    filled = dec(order.get("filled") or 0)
    cost = dec(order.get("cost") or 0)
    if filled and not cost:
        cost = filled * dec(order.get("average") or order["price"])
    fee, currency = order_fee(order)
    fee_quote = fee * (cost / filled) if currency == iv.market.base and filled else fee
    with transaction.atomic():
        moved = InterventionOrder.objects.filter(pk=row.pk, state=InterventionOrder.SENDING).update(
            state=InterventionOrder.DONE, status=order.get("status") or "",
            exchange_order_id=str(order["id"]), filled=filled, cost=cost, fee=fee,
            fee_currency=currency,
        )
        if moved != 1:
            return  # recorded by another run already
        locked = I.objects.select_for_update().get(pk=iv.pk)
        # Added in Python: SQLite's + goes through floats.
        I.objects.filter(pk=iv.pk).update(
            filled=locked.filled + filled, cost=locked.cost + cost,
            fee_quote=locked.fee_quote + fee_quote, updated_at=timezone.now(),
        )
    workflow.announce(iv)


def _settle_in_flight(iv: Intervention, venue) -> None:
    """Orders a crash or a timeout left sending: their outcome, from the venue, first."""
    for row in iv.orders.filter(state=InterventionOrder.SENDING):
        try:
            order = with_costs(venue, iv.market.symbol, find_order(
                venue, iv.market.symbol, client_order_id=row.client_order_id, side=row.side,
                amount=row.amount, price=row.limit_price,
                sent_at_ms=int(row.sent_at.timestamp() * 1000),
                exclude=set(iv.orders.exclude(exchange_order_id="").values_list(
                    "exchange_order_id", flat=True)),
            ))
        except ccxt.OrderNotFound:
            if timezone.now() - row.sent_at < timedelta(seconds=SETTLE_SECONDS):
                raise SliceRetry(f"order {row.client_order_id} may still be on its way") from None
            InterventionOrder.objects.filter(pk=row.pk).update(
                state=InterventionOrder.UNSENT, error="not on the venue: it never arrived"
            )
            continue
        except ccxt.BaseError as exc:
            raise SliceRetry(describe(exc)) from exc
        _record(iv, row, order)


def _finish_if_done(iv: Intervention, now) -> str:
    """Complete a locked intervention whose amount filled or whose time (and one more interval
    for what the cap held back) is up; the note says which."""
    over = elapsed_ms(iv, now) >= (iv.minutes * 60 + iv.slice_seconds) * 1000
    if iv.filled < iv.amount and not over:
        return ""
    if iv.filled >= iv.amount:
        note = f"filled {plain(iv.filled)} {iv.market.base}"
    else:
        note = (f"time is up: filled {plain(iv.filled)} of {plain(iv.amount)} {iv.market.base}; "
                "the participation cap or the price limit held back the rest")
    workflow._move(iv, I.COMPLETED, note, ended_at=now, next_at=None)
    workflow.audit("completed", iv, reason=note, actor="intervention slices")
    workflow.announce(iv)
    return note


def _follow_up(intervention_id: int) -> SliceOutcome:
    with transaction.atomic():
        iv = workflow.locked(intervention_id)
        if iv.state != I.RUNNING:
            return SliceOutcome(f"{iv.label} is {iv.state}")
        now = timezone.now()
        finished = _finish_if_done(iv, now)
        if finished:
            return SliceOutcome(finished)
        next_in = (iv.next_at - now).total_seconds() if iv.next_at else iv.slice_seconds
        return SliceOutcome(
            f"{iv.label}: {plain(iv.filled)} of {plain(iv.amount)} filled", max(0.0, next_in)
        )


def average_price(iv: Intervention) -> Decimal | None:
    return iv.cost / iv.filled if iv.filled else None


def progress(iv: Intervention) -> Decimal:
    return iv.filled / iv.amount if iv.amount else ZERO
