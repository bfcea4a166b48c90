"""Placing the hedge of a fill on the hedge venues, once, and recording what happened.

One run of `execute_hedge` is one task execution for one intent (a Hedge row, written with its
fill). It claims the intent (its `attempts` becomes the run's lease), settles any order an
earlier run left "sending" by finding it on the venue (by its client order id, or where the
venue keeps none by side, price, amount and time: bots/venues/order_lookup.py), asks the router where
and at what protection price the rest goes (bots.engine.hedging.hedge_routing), and sends the orders one by
one: each is recorded as "sending" under the lease before the venue is called, so a run that
lost its lease to the sweeper can never send more than the intent needs.

Afterwards the intent is filled, or pending again for the next ladder step, or waiting in the
market's pending hedge position (too small to trade, or short of balance), or failed for an
operator. Transient venue errors leave it pending and raise HedgeRetry for the task's backoff;
permanent ones fail it at once; errors ccxt does not classify are retried a few times, each
time looking the order up first, and then fail it: a hedge is never silently dropped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import redis
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from bots.desk.audit import record
from bots.engine.figures import plain
from bots.engine.hedging import hedge_routing
from bots.engine.hedging.hedge_order import HedgeParams
from bots.engine.hedging.pnl import fee_in_quote
from bots.engine.rules import ZERO, MarketRules, dec
from bots.hedging import hedge_book, hedge_context, venue_health
from bots.models import Fill, Hedge, HedgeOrder
from bots.platform import events, sql
from bots.platform.log_context import log_context
from bots.venues import ccxt_errors as ccxt
from bots.venues import limiter, venue_for
from bots.venues import stream_state as streams
from bots.venues.errors import PERMANENT, describe, is_transient
from bots.venues.order_lookup import find_order, order_fee, with_costs

log = logging.getLogger(__name__)

BOOK_DEPTH = 50
# After this many errors in a row that ccxt does not classify, a person should look.
UNCLASSIFIED_LIMIT = 5
# How long an order may still be on its way when the venue does not say (ccxt's default
# timeout of 10 s plus a venue's receive window): only then does "not found" mean "never sent".
IN_FLIGHT_SECONDS = 30.0
MAX_ORDERS_PER_HEDGE = 999  # client order ids stay within 36 characters


class HedgeRetry(Exception):
    """A transient problem: the hedge is pending again and the task should retry later."""


class _LeaseLost(Exception):
    """The sweeper gave the intent to another run; this one must stop sending."""


@dataclass
class Outcome:
    state: str
    market_id: int
    again_in: float | None = None  # seconds until this hedge's next ladder step
    queue: list[int] = field(default_factory=list)  # other intents to run now (a new carrier)


def execute_hedge(hedge_id: int, taken: Hedge | None = None) -> Outcome:
    """One run for the intent. `taken`: the intent as its capture has just committed it, born
    taken for this run (TAKEN_AT_CAPTURE) and with its fill: no claim to make, no row to read."""
    with log_context(hedge=hedge_id):
        hedge, claimed = (taken, True) if taken is not None else _claim(hedge_id)
        with log_context(fill=hedge.fill_id):
            if not claimed:
                return Outcome(hedge.state, hedge.fill.market_id)
            run = _Run(hedge)
            with log_context(market=run.market.slug):
                return _execute(run)


def _execute(run: _Run) -> Outcome:
    market_id = run.market.pk
    try:
        with limiter.priority(limiter.HEDGE):  # the hedge's requests come first at the venue
            return run.go()
    except _LeaseLost:
        return Outcome(Hedge.SENDING, market_id)
    except HedgeRetry as exc:
        run.release(Hedge.PENDING, str(exc))
        raise
    except ccxt.BaseError as exc:
        return run.failed_call(exc)


_HEDGE, _FILL = sql.Reader(Hedge, "h"), sql.Reader(Fill, "f")


@sql.statement
def _claim_sql() -> str:
    # Model table and column names only; the id is a parameter.
    statement = (
        f"SELECT {_HEDGE.columns}, {_FILL.columns} FROM {sql.table(Hedge)} h "  # noqa: S608
        f"JOIN {sql.table(Fill)} f ON {sql.column(Fill, 'id', 'f')} = {sql.column(Hedge, 'fill', 'h')} "
        f"WHERE {sql.column(Hedge, 'id', 'h')} = %s"
    )
    if connection.features.has_select_for_update_of:
        statement += " FOR UPDATE OF h"
    return statement


# A capture whose process hedges the fill itself right after the commit (hedge_now) writes the
# intent already claimed by that run: the first lease, in the capture's own transaction. That
# saves the claim's transaction on every fill's way to its hedge (a quarter of a millisecond of
# the paper path's five, docs/performance.md). Should the process die before the run, the intent
# is "sending" with no order, and the sweeper hands it back as it does any run's that died.
TAKEN_AT_CAPTURE = {"state": Hedge.SENDING, "attempts": 1}


def hand_back_unsent(hedge: Hedge) -> None:
    """Pending again, for the task, an intent taken at capture whose run failed before it
    opened any order: nothing can have been sent (an order is recorded before it goes). One
    that opened orders stays "sending" for the sweeper, whose run first asks the venue."""
    try:
        Hedge.objects.filter(pk=hedge.pk, state=Hedge.SENDING, attempts=hedge.attempts,
                             orders_opened=0).update(state=Hedge.PENDING, updated_at=timezone.now())
    except DatabaseError:
        log.exception("hedge %s left sending for the sweeper", hedge.pk)


def _claim(hedge_id: int) -> tuple[Hedge, bool]:
    """Lock the intent and take it (attempts + 1 is the lease) unless a run holds it or it is
    done; the intent, and whether this run took it."""
    with transaction.atomic():
        with sql.cursor() as cursor:
            cursor.execute(_claim_sql(), [hedge_id])
            found = cursor.fetchone()
        if found is None:
            raise Hedge.DoesNotExist(f"no hedge {hedge_id}")
        hedge = _HEDGE.build(found[: _HEDGE.width])
        hedge.fill = _FILL.build(found[_HEDGE.width :])
        if hedge.state not in (Hedge.PENDING, Hedge.WAITING) or hedge.carrier_id:
            return hedge, False
        hedge.state, hedge.attempts, hedge.updated_at = Hedge.SENDING, hedge.attempts + 1, timezone.now()
        sql.update(Hedge, {"id": hedge.pk}, state=hedge.state, attempts=hedge.attempts,
                   updated_at=hedge.updated_at)
    return hedge, True


class _Run:
    def __init__(self, hedge: Hedge):
        self.hedge = hedge
        self.lease = hedge.attempts
        context = hedge_context.load(hedge.fill.market_id)
        self.market = hedge.fill.market = context.market
        self.symbol = self.market.symbol
        self.settings = context.settings
        self.params: HedgeParams = context.settings.params(context.slippage_bps)
        self.hedge_accounts = context.accounts
        self.venues: dict[int, object] = {}
        self.accounts = {}
        self.views: list[hedge_routing.VenueView] | None = None
        self.sending: HedgeOrder | None = None  # the order being sent when an error came
        self.venue_of_call: int | None = None  # the venue row of the call that raised

    # --- the run --------------------------------------------------------------------------

    def go(self) -> Outcome:
        problems = self.params.problems()
        if problems:
            return self.fail("hedge settings out of bounds: " + "; ".join(problems))
        # A fresh intent has no orders and carries nobody: skip the queries that would say so.
        first = self.hedge.attempts == 1
        self.members = [self.hedge] if first else hedge_book.group_of(self.hedge)
        if not first:
            self.settle_in_flight()
        left = sum((m.remaining for m in self.members), ZERO)
        if left <= 0:
            return self.finish()
        route = hedge_routing.plan_route(self.hedge.side, left, self.read_venues(), self.params, self.hedge.step)
        placed = filled = ZERO
        for child in route.orders:
            row = self.open_child(child)
            order = self.send(row)
            self.record(row, order)
            placed += row.amount
            filled += dec(order["filled"] or 0)
        if route.orders:
            self.views = None  # the orders moved books and balances: what follows reads afresh
        if route.orders and self.hedge.unclassified_errors:
            Hedge.objects.filter(pk=self.hedge.pk).update(unclassified_errors=0)
            self.hedge.unclassified_errors = 0
        left = sum((m.remaining for m in self.members), ZERO)
        if left <= 0:
            return self.finish()
        if filled < placed:
            return self.next_step(left)
        return self.unplaced(route)

    def next_step(self, left: Decimal) -> Outcome:
        """An order left part unfilled within its protection price: widen, or escalate."""
        views = self.read_venues()
        if hedge_routing.plan_route(self.hedge.side, left, views, self.params).reason == hedge_routing.BELOW_MINIMUM:
            return self.wait(Hedge.BELOW_MINIMUM, f"{plain(left)} left after the orders is below the minimum")
        if self.hedge.step < self.params.ladder_steps:
            self.hedge.step += 1
            self.release(
                Hedge.PENDING,
                f"{plain(left)} unfilled; next at {plain(self.params.slippage_at(self.hedge.step))} bps",
            )
            return Outcome(Hedge.PENDING, self.market.pk, again_in=self.settings.ladder_pause_ms / 1000)
        return self.fail(
            f"ladder exhausted: {plain(left)} of {plain(self.hedge.amount)} left unfilled within "
            f"{plain(self.params.slippage_at(self.hedge.step))} bps of the book"
        )

    def unplaced(self, route: hedge_routing.Route) -> Outcome:
        if route.reason == hedge_routing.NO_BOOK:
            raise HedgeRetry(route.note)
        if route.reason == hedge_routing.CAP_TOO_SMALL:
            return self.fail(route.note)
        reason = Hedge.SHORT_OF_BALANCE if route.reason == hedge_routing.SHORT_OF_BALANCE else Hedge.BELOW_MINIMUM
        return self.wait(reason, route.note)

    # --- venues ---------------------------------------------------------------------------

    def venue(self, account):
        if account.pk not in self.venues:
            self.venues[account.pk] = venue_for(account)
            self.accounts[account.pk] = account
        return self.venues[account.pk]

    def read_venues(self) -> list[hedge_routing.VenueView]:
        """Every hedge venue's book, rules and balance; one that fails is left out if another works."""
        if self.views is not None:
            return self.views
        accounts = self.hedge_accounts
        down = venue_health.down(a.venue_id for a in accounts) if len(accounts) > 1 else {}
        views, errors = [], []
        for account in accounts:
            venue = self.venue(account)
            try:
                rules = MarketRules.from_market(venue.market(self.symbol))
                # The streamed book when the stream process keeps a fresh one, else by REST.
                book = streams.read_book(venue, account.venue_id, self.symbol, BOOK_DEPTH)
                # The account's shared balance (streamed, or read once for every market) when
                # fresh, else by REST; a pre-check only: the venue refuses what it cannot fund.
                free = streams.read_balance(venue).get("free") or {}
            except ccxt.BaseError as exc:
                venue_health.mark_down(account.venue_id, describe(exc))
                self.venue_of_call = account.venue_id
                errors.append(exc)
                continue
            views.append(
                hedge_routing.VenueView(
                    name=str(account.pk),
                    rules=rules,
                    bids=[(dec(p), dec(a)) for p, a in book["bids"]],
                    asks=[(dec(p), dec(a)) for p, a in book["asks"]],
                    free_base=dec(free.get(rules.base) or 0),
                    free_quote=dec(free.get(rules.quote) or 0),
                    healthy=account.venue_id not in down,
                    label=str(account.venue),
                )
            )
        if not views:
            raise errors[0]
        self.views = views
        return views

    # --- orders ---------------------------------------------------------------------------

    def open_child(self, child: hedge_routing.ChildOrder) -> HedgeOrder:
        """Record the order as sending, under the lease, before anything is sent."""
        hedge = self.hedge
        number = hedge.orders_opened + 1
        if number > MAX_ORDERS_PER_HEDGE:
            raise ccxt.InvalidOrder(f"hedge {hedge.pk} reached {MAX_ORDERS_PER_HEDGE} orders")
        now = timezone.now()
        first = {}
        if hedge.expected_price is None:
            first = {"expected_price": child.expected_price, "limit_price": child.limit_price}
        with transaction.atomic():
            claimed = sql.update(
                Hedge,
                {"id": hedge.pk, "state": Hedge.SENDING, "attempts": self.lease, "orders_opened": number - 1},
                orders_opened=number, updated_at=now, **first,
            )
            if not claimed:
                raise _LeaseLost()
            row = sql.insert(HedgeOrder(
                hedge=hedge,
                account_id=int(child.venue),
                client_order_id=f"{hedge.client_order_id[:31]}-{number}",
                side=child.side,
                amount=child.amount,
                limit_price=child.limit_price,
                expected_price=child.expected_price,
                step=hedge.step,
                sent_at=now,
            ))
        row.number = number  # not stored: record() tells the hedge's first order by it
        hedge.orders_opened = number
        for key, value in first.items():
            setattr(hedge, key, value)
        return row

    def send(self, row: HedgeOrder) -> dict:
        account = self.accounts[row.account_id]
        venue = self.venue(account)
        self.sending, self.venue_of_call = row, account.venue_id
        try:
            order = venue.create_order(
                self.symbol, "limit", row.side, row.amount, row.limit_price,
                {"clientOrderId": row.client_order_id, "timeInForce": "IOC"},
            )
        except ccxt.DuplicateOrderId:
            # Already there: a send whose answer was lost. Its own record is the answer.
            order = venue.fetch_order(None, self.symbol, {"clientOrderId": row.client_order_id})
        self.sending = None
        return self.final(venue, order)

    def final(self, venue, order: dict) -> dict:
        """The order in a final status, with what it cost and paid (from its trades where the
        answer leaves them out): an IOC left open by a venue is canceled first."""
        if order["status"] == "open":
            order = venue.cancel_order(order["id"], self.symbol)
        return with_costs(venue, self.symbol, order)

    def settle_in_flight(self) -> None:
        """Orders an earlier run left "sending": find each on the venue before anything is sent."""
        rows = HedgeOrder.objects.filter(hedge=self.hedge, state=HedgeOrder.SENDING).select_related(
            "account__venue"
        )
        for row in rows:
            venue = self.venue(row.account)
            self.venue_of_call = row.account.venue_id
            try:
                order = self.find(venue, row)
            except ccxt.OrderNotFound:
                settle = getattr(venue, "settle_seconds", IN_FLIGHT_SECONDS)
                if timezone.now() - row.sent_at < timedelta(seconds=settle):
                    raise HedgeRetry(f"order {row.client_order_id} may still be on its way") from None
                HedgeOrder.objects.filter(pk=row.pk).update(
                    state=HedgeOrder.UNSENT, error="not on the venue: it never arrived"
                )
                continue
            self.record(row, self.final(venue, order))

    def find(self, venue, row: HedgeOrder) -> dict:
        """The order this row sent, as the venue has it now (ccxt.OrderNotFound if absent)."""
        keeps_ids = getattr(venue, "client_order_ids", True)
        recorded = () if keeps_ids else set(
            HedgeOrder.objects.filter(account_id=row.account_id).exclude(exchange_order_id="")
            .values_list("exchange_order_id", flat=True)
        )
        return find_order(
            venue, self.symbol, client_order_id=row.client_order_id, side=row.side,
            amount=row.amount, price=row.limit_price,
            sent_at_ms=int(row.sent_at.timestamp() * 1000), exclude=recorded,
        )

    def record(self, row: HedgeOrder, order: dict) -> None:
        """Write the venue's answer and share what filled among the intents hedged."""
        filled = dec(order["filled"] or 0)
        cost = dec(order.get("cost") or 0)
        if filled and not cost:
            # Some exchanges leave the cost out; their average (or limit) price is what was paid.
            cost = filled * dec(order.get("average") or order["price"])
        fee_cost, fee_currency = order_fee(order)
        base, quote = self.symbol.split("/")
        row.state, row.status = HedgeOrder.DONE, order["status"]
        row.exchange_order_id = str(order["id"])
        row.filled, row.cost, row.fee, row.fee_currency = filled, cost, fee_cost, fee_currency
        row.accepted_at = timezone.now()
        with transaction.atomic():
            sql.update(HedgeOrder, {"id": row.pk}, state=row.state, status=row.status,
                       exchange_order_id=row.exchange_order_id, filled=filled, cost=cost,
                       fee=fee_cost, fee_currency=fee_currency, accepted_at=row.accepted_at)
            if getattr(row, "number", None) == 1:
                # The hedge's first order (opened by this run): the end of the fill's hedge path.
                fill_ms = self.hedge.fill.timestamp
                events.hedge_order_accepted.emit_on_commit(
                    market=self.market.slug, venue=self.accounts[row.account_id].venue.name,
                    latency_seconds=row.accepted_at.timestamp() - fill_ms / 1000,
                )
            if filled <= 0:
                return
            fee_quote = fee_in_quote(fee_cost, fee_currency, cost / filled, base, quote)
            for member in self.members:
                if member.expected_price is None:
                    member.expected_price, member.limit_price = row.expected_price, row.limit_price
                    sql.update(Hedge, {"id": member.pk}, expected_price=member.expected_price,
                               limit_price=member.limit_price)
            needed = sum((m.remaining for m in self.members), ZERO)
            if filled > needed:
                # Cannot happen while orders are opened under the lease; if a venue ever
                # reports it, the excess shows in reconciliation rather than in anyone's P&L.
                log.error("hedge order %s filled %s, %s more than needed", row.pk, filled, filled - needed)
                cost, fee_quote, filled = cost * needed / filled, fee_quote * needed / filled, needed
            shares = hedge_book.split_cost(self.members, filled, cost, fee_quote)
            complete = hedge_book.apply_shares(shares, "order", order=row)
            hedge_book.close_complete([m for m in complete if m is not self.hedge])

    # --- endings --------------------------------------------------------------------------

    def finish(self) -> Outcome:
        with transaction.atomic():
            for member in self.members:
                if member is self.hedge:
                    # Closed only while this run still holds it: the write is the lease check.
                    lease = {"state": Hedge.SENDING, "attempts": self.lease}
                    if not hedge_book.close(member, Hedge.FILLED, only_if=lease):
                        raise _LeaseLost()
                elif member.state not in Hedge.CLOSED:
                    hedge_book.close(member, Hedge.FILLED)
        return Outcome(Hedge.FILLED, self.market.pk)

    def release(self, state: str, error: str = "") -> None:
        """Hand the intent back (pending or waiting) if this run still holds it."""
        Hedge.objects.filter(pk=self.hedge.pk, state=Hedge.SENDING, attempts=self.lease).update(
            state=state, error=error[:500], step=self.hedge.step, updated_at=timezone.now()
        )

    def fail(self, reason: str) -> Outcome:
        log.error("hedge %s failed: %s", self.hedge.pk, reason)
        changed = Hedge.objects.filter(pk=self.hedge.pk, state=Hedge.SENDING, attempts=self.lease).update(
            state=Hedge.FAILED, error=reason[:500], step=self.hedge.step, updated_at=timezone.now()
        )
        if changed:
            record("hedge_failed", actor="hedger", market=self.market, subject=f"hedge {self.hedge.pk}",
                   reason=reason, fill=self.hedge.fill.trade_id)
        return Outcome(Hedge.FAILED, self.market.pk)

    def failed_call(self, exc: ccxt.BaseError) -> Outcome:
        """Decide by the error's class, and by whether an order may have reached the venue."""
        text = describe(exc)
        if self.venue_of_call is not None:
            venue_health.mark_down(self.venue_of_call, text)
        if is_transient(exc):
            # An order sent when it came stays "sending": the next run asks the venue for it.
            self.release(Hedge.PENDING, text)
            raise HedgeRetry(text) from exc
        if isinstance(exc, PERMANENT):
            if self.sending is not None:
                HedgeOrder.objects.filter(pk=self.sending.pk).update(state=HedgeOrder.REJECTED, error=text)
            return self.fail(text)
        count = self.hedge.unclassified_errors + 1
        Hedge.objects.filter(pk=self.hedge.pk).update(unclassified_errors=count)
        if count >= UNCLASSIFIED_LIMIT:
            return self.fail(f"{count} unclassified venue errors in a row, the last: {text}")
        self.release(Hedge.PENDING, text)
        raise HedgeRetry(text) from exc

    def wait(self, reason: str, note: str) -> Outcome:
        """Into the pending hedge position, netted with the market's other waiting intents."""
        outcome = Outcome(Hedge.WAITING, self.market.pk)
        lock = hedge_book.netting_lock(self.market.pk)
        held = lock.acquire()
        try:
            with transaction.atomic():
                changed = Hedge.objects.filter(
                    pk=self.hedge.pk, state=Hedge.SENDING, attempts=self.lease
                ).update(state=Hedge.WAITING, wait_reason=reason, error=note[:500], step=0,
                         unclassified_errors=0, updated_at=timezone.now())
                if not changed:
                    raise _LeaseLost()
                carried = [m.pk for m in self.members if m is not self.hedge]
                Hedge.objects.filter(pk__in=carried).update(state=Hedge.WAITING, carrier=None, wait_reason=reason)
                if reason == Hedge.SHORT_OF_BALANCE and self.hedge.wait_reason != reason:
                    log.warning("hedge %s short of balance: %s", self.hedge.pk, note)
                    record("hedge_short_of_balance", actor="hedger", market=self.market,
                           subject=f"hedge {self.hedge.pk}", reason=note)
                if held:
                    outcome = self._regroup(outcome)
        finally:
            if held:
                try:
                    lock.release()
                except redis.exceptions.LockError:
                    pass  # it expired first; whoever holds it now nets with what this run wrote
        return outcome

    def _regroup(self, outcome: Outcome) -> Outcome:
        closed, still = hedge_book.net_pending(self.market)
        if any(h.pk == self.hedge.pk for h in closed):
            outcome.state = Hedge.FILLED
        if not still:
            return outcome
        total = sum((h.remaining for h in still), ZERO)
        route = hedge_routing.plan_route(still[0].side, total, self.read_venues(), self.params)
        if route.orders:
            carrier = hedge_book.form_group(still)
            outcome.queue.append(carrier.pk)
            outcome.state = Hedge.PENDING if carrier.pk == self.hedge.pk else Hedge.CARRIED
        return outcome
