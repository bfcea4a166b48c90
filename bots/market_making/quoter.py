"""One tick of the market-making bot for one market: read the venues, ask the engine, carry out
its plan, record what happened.

The decisions are bots.engine's (quoting, refresh, protection); this module turns venue answers
and records into the engine's plain values and does what the engine returns. Every order is
recorded as "sending" before it is sent, and the venue's open orders are reconciled with the
records each tick: orders cancelled or filled outside the bot are noticed, an order whose send
timed out is looked up by its client order id, and an order that fills while it is being
cancelled still yields its fill, and so its hedge.

One market's trouble never reaches another: venue errors, refused settings and even bugs leave
this market degraded with the reason, and the caller goes on with the next.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from bots.desk.alerts import raise_alert, resolve_cause
from bots.desk.audit import record
from bots.engine.market_making import tick
from bots.engine.market_making.hedge_floor import HedgeFloor, HedgeVenue
from bots.engine.market_making.protection import (
    SideGates,
    Unhedged,
    is_stale,
)
from bots.engine.market_making.quote_config import InvalidSettings, QuoteConfig
from bots.engine.market_making.quoting import Funds, Level
from bots.engine.market_making.refresh import AGED, REFRESH, SURPLUS, RestingOrder
from bots.engine.rules import BUY, SELL, SIDES, ZERO, MarketRules, dec
from bots.hedging.capture import capture_fills
from bots.market_making import tick_reads
from bots.models import Account, Alert, Hedge, Market, Order, QuoteSettings, Venue
from bots.platform import events
from bots.platform.locks import throttle
from bots.platform.log_context import log_context
from bots.platform.sql import update_statement
from bots.venues import at_once, venue_for
from bots.venues import ccxt_errors as ccxt
from bots.venues import stream_state as streams
from bots.venues.errors import describe

log = logging.getLogger(__name__)

BOOK_DEPTH = 50
SHOWN_LEVELS = 40  # of each hedge book, kept for the market page's depth chart
# Hedges in these states are done with or given up on: no hedge of theirs is pending.
FINAL_HEDGES = getattr(Hedge, "FINAL", (Hedge.FILLED, Hedge.FAILED))
# Records the venue's own answer ended: a streamed listing that still has them open is behind it.
ENDED = (Order.CLOSED, Order.CANCELED, Order.EXPIRED)
# While the stream process keeps the MM account's open orders, a tick still asks the venue for
# them by REST this often, in case the stream missed an update without noticing.
OPEN_ORDERS_CHECK_SECONDS = 60
# Who holds a market's quotes off, as the audit log and the state reason name them.
HOLDERS = (tick.BREAKER, tick.STALE, tick.LIMITER)
# Cancels that only make way for a replacement; every other reason is a reason to go first.
REPLACED = (REFRESH, AGED, SURPLUS)


# A venue's precision, minimums and fees change rarely; reading them once a minute per process
# saves two venue calls a tick (ccxt caches its markets the same way, until a reload).
RULES_TTL_SECONDS = 60
_rules: dict[tuple[str, str], tuple[float, MarketRules]] = {}


def market_rules(venue, symbol: str) -> MarketRules:
    key = (venue.id, symbol)
    cached = _rules.get(key)
    if cached is None or cached[0] < time.monotonic():
        cached = (time.monotonic() + RULES_TTL_SECONDS, MarketRules.from_market(venue.market(symbol)))
        _rules[key] = cached
    return cached[1]


def forget_market_rules() -> None:
    _rules.clear()


@dataclass(frozen=True)
class TickReport:
    state: str
    changed: bool  # orders, fills or the market's state changed: balances and pages need a look
    fills: int
    # The market as the tick read it, with its accounts: what the task reads after the tick
    # (balances) without a second read of the row and its relations.
    market: Market


def run_tick(market_id: int, on_hedge: Callable[[int], None], now_ms: int | None = None) -> str:
    """Quote one market once; returns its state afterwards. Callers hold the market's lock."""
    return tick_market(market_id, on_hedge, now_ms).state


def tick_market(
    market_id: int, on_hedge: Callable[[int], None], now_ms: int | None = None
) -> TickReport:
    started = time.perf_counter()
    market = Market.objects.get_for_work(market_id)
    if not market.enabled or market.kind != Market.BOOK:
        return TickReport(market.state, False, 0, market)
    with log_context(market=market.slug, venue=market.mm_account.venue.name):
        report = _tick(market, on_hedge, now_ms)
    events.tick_finished.emit(
        market=market.slug, outcome=report.state, seconds=time.perf_counter() - started
    )
    return report


def _tick(market: Market, on_hedge: Callable[[int], None], now_ms: int | None) -> TickReport:
    tick = MarketTick(market, on_hedge, now_ms)
    # The desk's kill switch stops every market it finds running; the tick checks the switch
    # itself again before it places anything (stopped_meanwhile).
    stopped = market.state in Market.STOPPED
    try:
        return tick.sweep_stopped() if stopped else tick.run()
    except InvalidSettings as exc:
        return tick.settings_refused(exc)
    except ccxt.BaseError as exc:
        log.warning("market %s degraded: %s", market.symbol, describe(exc))
        return tick.finish(Market.DEGRADED, describe(exc))
    except Exception as exc:  # a bug in one market must not stop the desk
        log.exception("tick of %s failed", market.symbol)
        return tick.finish(Market.DEGRADED, f"internal error: {type(exc).__name__}: {exc}")


class MarketTick:
    def __init__(self, market: Market, on_hedge: Callable[[int], None], now_ms: int | None):
        self.market = market
        self.symbol = market.symbol
        self.on_hedge = on_hedge
        self.now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
        self.now = datetime.fromtimestamp(self.now_ms / 1000, UTC)
        self.mm = venue_for(market.mm_account)
        self.changed = False
        self.fills = 0
        self.notes: list[str] = []
        self.saved: dict = {}  # fields of the market row written with the state
        self.recapture = False
        self.fills_via = ""  # how the stream process streams the MM account's fills, if it does

    # --- the tick ---------------------------------------------------------------------------

    def run(self) -> TickReport:
        # Fills first, whatever else fails: each one's hedge is queued. Unless the stream process
        # captures them as they happen (bots/streams): then reading them here too is only cost.
        self.fills_via = streams.fills_streamed(self.market.mm_account_id)
        if not self.fills_via:
            self.capture()
        self.arm_dead_man_switch()
        try:
            settings = self.market.quote_settings
        except QuoteSettings.DoesNotExist:
            why = "the market has none yet: an admin saves them on its settings page"
            raise InvalidSettings({"": why}) from None
        config = settings.config()
        self.rules = market_rules(self.mm, self.symbol)
        floor, problems, errors = self.read_hedge_venues(config)
        open_orders = self.reconcile()
        resting = [
            RestingOrder(str(o["id"]), o["side"], dec(o["price"]), dec(o["remaining"]), o.get("timestamp"))
            for o in open_orders
        ]
        funds = self.funds(resting)
        unhedged = self.unhedged()
        # The decision is the engine's (bots.engine.market_making.tick, which the simulation drives too);
        # this driver reads its inputs from the venues and records, and carries it out.
        decision = tick.decide(
            tick.TickInputs(
                config, self.now_ms, floor, self.rules, resting, funds,
                self.recent_fills(config), unhedged,
                # New settings take effect now, not once the orders made under the old ones age.
                refresh_all=(self.market.quote_summary or {}).get("settings_version") != settings.version,
                venues_failed=bool(errors),
                no_reference_why="; ".join(problems) or "no hedge venue is configured",
            ),
            self.memory(),
        )
        self.remember(decision.memory)
        if decision.action == tick.STAND:
            # A blip: the reference the resting quotes were made from is still recent.
            return self.finish(Market.DEGRADED, describe(errors[0]))
        if decision.action == tick.HOLD:
            return self.hold(decision.holder, decision.why)
        self.leave_hold()
        self.alert_exposure(decision.exposure)
        self.sigma = decision.sigma_bps
        reference, quote, plan, gates = decision.memory.reference, decision.quote, decision.plan, decision.gates
        self.notes += problems
        self.notes += quote.notes
        # Orders that must go (unprofitable, a stopped side) go first. Orders merely replaced
        # (drifted, aged, surplus) go after their replacements are placed, when the side's
        # allowance holds both for that moment: new quotes reach the book sooner.
        urgent = [c for c in plan.cancel if c[1] not in REPLACED]
        replaced = [c for c in plan.cancel if c[1] in REPLACED]
        self.cancel_all_of(urgent)
        stopped = bool(plan.place) and self.stopped_meanwhile()
        place_first = bool(replaced) and not stopped and _room_for_both(
            plan.place, resting, {oid for oid, _ in urgent}, decision.allowance
        )
        if not place_first:
            self.cancel_all_of(replaced)
        if stopped:
            self.notes.append("stopped during the tick: nothing placed")
        else:
            self.place_all(plan.place, config)
        if place_first:
            self.cancel_all_of(replaced)
        self.capture_after_cancels()
        self.saved["quote_summary"] = self.summary(config, reference, quote, plan.book, gates, problems)
        return self.finish(Market.RUNNING, "; ".join(dict.fromkeys(self.notes)))

    def sweep_stopped(self) -> TickReport:
        """A paused or killed market quotes nothing; orders a failed cancel left behind go now."""
        if Order.objects.filter(market=self.market, state__in=[Order.OPEN, Order.SENDING]).exists():
            self.cancel_everything()
            self.capture()
        return TickReport(self.market.state, self.changed, self.fills, self.market)

    def settings_refused(self, exc: InvalidSettings) -> TickReport:
        # Quotes made under settings that can no longer be read are not left to rest unwatched.
        try:
            self.cancel_everything()
            self.capture_after_cancels()
        except ccxt.BaseError as venue_error:
            self.notes.append(f"could not cancel: {describe(venue_error)}")
        return self.finish(Market.DEGRADED, "; ".join([f"settings refused: {exc}", *self.notes]))

    def arm_dead_man_switch(self) -> None:
        """Give the account's quotes DEADMAN_SECONDS more to live on a venue that can cancel them
        itself (ccxt's cancelAllOrdersAfter): should no tick follow, the venue pulls them, whatever
        is down on Ballast's side. Elsewhere the `deadman` process alone does (bots.market_making.dead_man)."""
        if not self.mm.has.get("cancelAllOrdersAfter"):
            return
        try:
            self.mm.cancel_all_orders_after(int(settings.DEADMAN_SECONDS * 1000))
        except ccxt.NetworkError:
            raise  # the venue is unreachable: the tick cannot go on either
        except ccxt.BaseError as exc:  # the `deadman` process still pulls the quotes
            self.notes.append(f"the venue's dead man's switch is not armed: {describe(exc)}")

    # --- reading the venues -----------------------------------------------------------------

    def capture(self) -> None:
        new = capture_fills(self.market, self.mm, self.on_hedge)
        self.fills += len(new)
        self.changed |= bool(new)

    def capture_after_cancels(self) -> None:
        """An order that filled (in part) as it was cancelled: its fill is read now, so that its
        hedge goes at once. Unless the stream process captures the account's fills as they
        happen: it has this one already, or its resync will when it reconnects."""
        if self.recapture and not self.fills_via:
            self.capture()

    def read_hedge_venues(self, config: QuoteConfig) -> tuple[HedgeFloor, list[str], list[Exception]]:
        read = read_hedge_venues(self.hedge_accounts(), self.symbol, self.rules, config)
        self.hedge_books = read.books  # as read, for the market page: the web process reads no venue
        return read.floor, read.problems, read.errors

    def hedge_accounts(self) -> list[Account]:
        """Market.hedge_accounts(), without a query for the extra ones when there are none."""
        extra = tick_reads.extra_hedge_account_ids(self.market.pk)
        if not extra:
            return [self.market.hedge_account]
        return [self.market.hedge_account, *Account.objects.select_related("venue").filter(pk__in=extra).order_by("pk")]

    def recent_fills(self, config: QuoteConfig) -> list[tuple[str, int]]:
        window_ms = max(60_000, int(config.filled_order_delay_seconds * 1000))
        return tick_reads.recent_fills(self.market.pk, self.now_ms - window_ms)

    def open_orders(self) -> tuple[list[dict], bool]:
        """The account's open orders: as the stream process keeps them while its order stream is
        live (and a REST check is not due), else the venue's by REST; and whether streamed."""
        streamed = streams.streamed_open_orders(self.market.mm_account_id, self.symbol)
        if streamed is not None:
            try:
                due = throttle(f"open-orders-check:{self.market.pk}", OPEN_ORDERS_CHECK_SECONDS * 1000)
            except streams.UNREACHABLE:
                due = True
            if not due:
                return streamed, True
        return self.mm.fetch_open_orders(self.symbol), False

    def reconcile(self) -> list[dict]:
        """The venue's open orders, with the records brought in line with them."""
        open_orders, streamed = self.open_orders()
        listed = {str(o["id"]): o for o in open_orders}
        by_client = {o["clientOrderId"]: o for o in open_orders if o.get("clientOrderId")}
        records = tick_reads.live_orders(self.market.pk, self.market.mm_account_id)
        known, to_check = set(), []
        # Most ticks every record matches a listed order: only the others are loaded and fixed.
        for pk, client_id, exchange_id, state in records:
            seen = by_client.get(client_id) or listed.get(exchange_id)
            if seen is not None:
                known.add(str(seen["id"]))
                if state != Order.OPEN or exchange_id != str(seen["id"]):
                    to_check.append((pk, seen))
            else:
                to_check.append((pk, None))
        orders = Order.objects.in_bulk([pk for pk, _ in to_check]) if to_check else {}
        for pk, seen in to_check:
            order = orders[pk]
            if seen is not None:
                self.record_answer(order, seen)
            elif order.state == Order.OPEN:
                still = self.learn_end(order)
                if still is not None and streamed:
                    # An order the stream has not told of yet (sent a moment ago): it rests.
                    open_orders = [*open_orders, still]
            else:
                self.resolve_sending(order)
        # An order whose send was given up on, yet reached the venue after all.
        late = [cid for oid, o in listed.items() if oid not in known and (cid := o.get("clientOrderId"))]
        behind = set()
        for order in Order.objects.filter(account=self.market.mm_account, client_order_id__in=late):
            if streamed and order.state in ENDED:
                # The venue answered that it ended (a cancel, a fetch) and the stream has not
                # told yet: the answer is the newer news. It rests no more.
                behind.add(str(by_client[order.client_order_id]["id"]))
                continue
            self.record_answer(order, by_client[order.client_order_id])
        return [o for o in open_orders if str(o["id"]) not in behind]

    def learn_end(self, order: Order) -> dict | None:
        """An order the venue no longer lists: ask how it ended (filled, or cancelled by someone).
        The venue's answer when the order has not ended after all, else None."""
        self.changed = True
        try:
            status = self.mm.fetch_order(order.exchange_order_id, self.symbol)
        except ccxt.OrderNotFound:
            order.state, order.error = Order.CANCELED, "gone from the venue"
            order.save(update_fields=["state", "error", "updated_at"])
            return None
        self.record_answer(order, status)
        return status if order.state == Order.OPEN else None

    def resolve_sending(self, order: Order) -> None:
        """A send whose outcome is unknown (a timeout, a crash): the venue knows by client id."""
        grace = getattr(self.mm, "settle_seconds", 30.0)
        if (self.now - order.created_at).total_seconds() < grace:
            return
        try:
            status = self.mm.fetch_order(None, self.symbol, {"clientOrderId": order.client_order_id})
        except ccxt.OrderNotFound:
            order.state, order.error = Order.FAILED, "never reached the venue"
            order.save(update_fields=["state", "error", "updated_at"])
            return
        self.record_answer(order, status)

    def record_answer(self, order: Order, answer: dict) -> None:
        order.exchange_order_id = str(answer["id"])
        order.state = _state(answer.get("status"))
        order.filled = dec(answer.get("filled") or 0)
        order.error = ""
        order.save(update_fields=["exchange_order_id", "state", "filled", "error", "updated_at"])

    def funds(self, resting: list[RestingOrder]) -> Funds:
        balance = streams.read_balance(self.mm)
        held_base = sum((o.amount for o in resting if o.side == SELL), ZERO)
        held_quote = sum((o.amount * o.price for o in resting if o.side == BUY), ZERO)
        return Funds(
            base_total=_total(balance, self.rules.base),
            quote_total=_total(balance, self.rules.quote),
            base_available=_free(balance, self.rules.base) + held_base,
            quote_available=_free(balance, self.rules.quote) + held_quote,
        )

    # --- protection -------------------------------------------------------------------------

    def memory(self) -> tick.TickMemory:
        """What the last ticks left on the market's row, as the engine's tick reads it."""
        market = self.market
        return tick.TickMemory(
            reference=market.reference_price,
            reference_ms=_ms(market.reference_at),
            protect_until_ms=_ms(market.protect_until),
            samples=tuple((int(t), Decimal(p)) for t, p in market.reference_samples or []),
        )

    def remember(self, memory: tick.TickMemory) -> None:
        """Write back what the tick changed of its memory, with the market's state."""
        market = self.market
        if memory.reference_ms != _ms(market.reference_at):
            self.saved["reference_price"] = memory.reference
            self.saved["reference_at"] = datetime.fromtimestamp(memory.reference_ms / 1000, UTC)
        if memory.protect_until_ms != _ms(market.protect_until):
            self.saved["protect_until"] = (
                None if memory.protect_until_ms is None
                else datetime.fromtimestamp(memory.protect_until_ms / 1000, UTC)
            )
        samples = [[t, str(p)] for t, p in memory.samples]
        if samples != (market.reference_samples or []):
            self.saved["reference_samples"] = samples

    def alert_exposure(self, exposure: SideGates) -> None:
        """An alert while unhedged exposure is over the limit, resolved once it is back under.

        The summary remembers the last tick's answer, so a market that stays on one side of the
        limit costs no alert query per tick."""
        over = "; ".join(exposure.stop.values())
        was_over = bool((self.market.quote_summary or {}).get("exposure_over"))
        self.exposure_over = bool(over)
        if over and not was_over:
            raise_alert(
                Alert.EXPOSURE_OVER_LIMIT, self.market,
                f"{self.symbol}: {over}; the side that adds to it stopped quoting until hedges close",
                reverse("market", args=[self.market.slug]) + "#bot-panel",
            )
        elif was_over and not over:
            resolve_cause(Alert.EXPOSURE_OVER_LIMIT, self.market)

    def unhedged(self) -> list[Unhedged]:
        rows = tick_reads.open_hedges(self.market.pk)
        return [
            Unhedged(
                side,
                amount - filled,
                None if state in FINAL_HEDGES else int(created.timestamp() * 1000),
            )
            for side, amount, filled, state, created in rows
        ]

    def hold(self, holder: str, why: str) -> TickReport:
        reason = f"{holder}: {why}"
        self.cancel_everything()
        self.capture_after_cancels()
        previous = self.market.state_reason if self.market.state == Market.HOLDING else ""
        if not previous.startswith(holder):
            record("hold", actor=holder, market=self.market, reason=why)
        self.saved["quote_summary"] = {
            "at": self.now_ms, "levels": [], "hold": reason, "hedge_books": getattr(self, "hedge_books", []),
            "fills": self.fills_line(),
        }
        return self.finish(Market.HOLDING, reason)

    def leave_hold(self) -> None:
        if self.market.state != Market.HOLDING:
            return
        holder = next((h for h in HOLDERS if self.market.state_reason.startswith(h)), "protection")
        record("resume", actor=holder, market=self.market, reason="the condition cleared")

    # --- acting on the venue ----------------------------------------------------------------

    def cancel_everything(self) -> int:
        orders = self.mm.fetch_open_orders(self.symbol)
        self.cancel_all_of([(str(order["id"]), "everything cancelled") for order in orders])
        if not orders:
            # Records of orders the venue no longer has: nothing to cancel, only to learn.
            self.reconcile()
        return len(orders)

    def cancel_all_of(self, cancels: list[tuple[str, str]]) -> None:
        """Cancel each order, as many at once as the venue takes (bots/venues/at_once.py); the
        records are written together afterwards, also when a cancel fails half way (the venue's
        answer is what they record, and the next tick reconciles). After a wave with a failure
        no further wave is sent."""
        done: list[tuple[str, dict, str]] = []
        width = self.mm.requests_at_once
        try:
            for start in range(0, len(cancels), width):
                wave = cancels[start:start + width]
                answers = at_once.each(width, [partial(self.cancel, order_id) for order_id, _ in wave])
                failed = None
                for (order_id, why), answer in zip(wave, answers, strict=True):
                    if isinstance(answer, Exception):
                        failed = failed or answer
                    else:
                        done.append((order_id, answer, why))
                if failed is not None:
                    raise failed
        finally:
            self.record_cancels(done)

    def cancel(self, order_id: str) -> dict:
        """The venue's answer to cancelling the order; an order that ended meanwhile (filled,
        or cancelled by someone else) answers with how it ended."""
        try:
            answer = self.mm.cancel_order(order_id, self.symbol)
        except ccxt.InvalidOrder as refused:  # OrderNotFound among them: it ended, maybe filled
            try:
                answer = self.mm.fetch_order(order_id, self.symbol)
            except ccxt.OrderNotFound:
                answer = {"id": order_id, "status": Order.CANCELED, "filled": None}
            if answer.get("status") == Order.OPEN:
                raise refused  # it did not end: the cancel itself was refused
            self.recapture = True
        if dec(answer.get("filled") or 0) > 0:
            self.recapture = True  # it filled (in part) before the cancel: its fill gets hedged
        return answer

    def record_cancels(self, done: list[tuple[str, dict, str]]) -> None:
        if not done:
            return
        self.changed = True
        groups: dict[tuple[str, Decimal, str], list[str]] = {}
        for order_id, answer, why in done:
            key = (_state(answer.get("status"), Order.CANCELED), dec(answer.get("filled") or 0), why[:500])
            groups.setdefault(key, []).append(order_id)
        for (state, filled, why), ids in groups.items():
            by_exchange_ids(self.market.mm_account_id, ids).update(
                state=state, filled=filled, error=why, updated_at=timezone.now()
            )

    def stopped_meanwhile(self) -> bool:
        """An operator may pause or kill the market, or the desk, while its tick runs."""
        return tick_reads.stopped(self.market.pk)

    def place_all(self, levels: list[Level], config: QuoteConfig) -> None:
        """Record every order as sending (one insert), send them as many at once as the venue
        takes (bots/venues/at_once.py; one by one on the paper venue), record the answers. A
        side short of funds sends nothing more this tick; a network error stops the sending:
        an order in flight then stays "sending" for the next tick to look up by its client order
        id, the ones not sent are marked so. Every request sent has been answered, or has failed,
        before this returns or raises."""
        if not levels:
            return
        orders = Order.objects.bulk_create(
            Order(
                account=self.market.mm_account,
                market=self.market,
                client_order_id=f"q{self.market.pk}-{uuid.uuid4().hex[:20]}",
                side=level.side,
                price=level.price,
                amount=level.amount,
            )
            for level in levels
        )
        self.changed = True
        width = self.mm.requests_at_once
        answered: list[Order] = []
        short: set[str] = set()
        pending = list(orders)
        try:
            while pending:
                wave: list[Order] = []
                while pending and len(wave) < width:
                    order = pending.pop(0)
                    if order.side in short:
                        self.not_sent(order, "not sent: that side was short of funds this tick")
                        answered.append(order)
                    else:
                        wave.append(order)
                refusals = at_once.each(width, [partial(self.place, order, config) for order in wave])
                answered += wave
                failed = next((r for r in refusals if isinstance(r, Exception)), None)
                for order, refused in zip(wave, refusals, strict=True):
                    if refused and not isinstance(refused, Exception):
                        self.notes.append(refused)
                        if refused.startswith("short of funds"):
                            short.add(order.side)
                if failed is not None:
                    # Orders in flight are failed if refused, still "sending" if the venue may
                    # have them; the rest were not sent.
                    why = describe(failed) if isinstance(failed, ccxt.BaseError) else type(failed).__name__
                    for order in pending:
                        self.not_sent(order, f"not sent: {why}")
                    answered += pending
                    pending = []
                    raise failed
        finally:
            record_answers([o for o in answered if o.state != Order.SENDING])

    @staticmethod
    def not_sent(order: Order, why: str) -> None:
        order.state, order.error, order.updated_at = Order.FAILED, why[:500], timezone.now()

    def place(self, order: Order, config: QuoteConfig) -> str:
        """Send a recorded order and note the answer on it (the caller saves it); a refusal
        comes back as a note, other errors are raised."""
        params = {"clientOrderId": order.client_order_id}
        if config.post_only:
            params["postOnly"] = True
        try:
            placed = self.mm.create_order(
                self.symbol, "limit", order.side, order.amount, order.price, params
            )
        except ccxt.NetworkError:
            raise  # the venue may have it: the next tick asks by client order id
        except (ccxt.InsufficientFunds, ccxt.InvalidOrder) as exc:
            self.not_sent(order, describe(exc))
            what = "short of funds" if isinstance(exc, ccxt.InsufficientFunds) else "refused"
            return f"{what}: {order.side} {_plain(order.amount)} at {_plain(order.price)}: {describe(exc)}"
        except ccxt.BaseError as exc:
            self.not_sent(order, describe(exc))
            raise
        # Stamped the moment the venue answered: when the order was accepted.
        order.exchange_order_id = str(placed["id"])
        order.state = _state(placed.get("status"))
        order.filled = dec(placed.get("filled") or 0)
        order.error, order.updated_at = "", timezone.now()
        return ""

    # --- recording ---------------------------------------------------------------------------

    def summary(self, config, reference, quote, book: list[Level], gates: SideGates, problems) -> dict:
        sides = {}
        for side in SIDES:
            why = gates.stop.get(side) or gates.no_new.get(side)
            sides[side] = {"quoting": side not in gates.stop, "adding": not why, "why": why or ""}
        return {
            "at": self.now_ms,
            "settings_version": self.market.quote_settings.version,
            "mode": config.mode,
            "reference": _plain(reference),
            "sigma_bps": _plain(round(self.sigma, 4)),
            "skew": _plain(round(quote.skew, 4)),
            "reservation_bps": None if quote.reservation_bps is None else _plain(round(quote.reservation_bps, 2)),
            "levels": [
                {
                    "side": lv.side,
                    "price": _plain(lv.price),
                    "amount": _plain(lv.amount),
                    "edge_bps": None if lv.edge_bps is None else _plain(round(lv.edge_bps, 2)),
                    "distance_bps": _plain(round((lv.price - reference) / reference * 10000, 2)),
                }
                for lv in book
            ],
            "sides": sides,
            "hedge_problems": problems,
            "hedge_books": self.hedge_books,
            "exposure_over": self.exposure_over,
            "fills": self.fills_line(),
        }

    def fills_line(self) -> str:
        """How this market's fills and hedge books reach Ballast, for the market page."""
        if self.market.mm_account.venue.kind == Venue.PAPER:
            fills = "fills pushed by the paper venue" + (" to the stream" if self.fills_via else "")
        elif self.fills_via:
            fills = f"fills streamed ({self.fills_via})"
        else:
            fills = "fills polled each tick"
        books = getattr(self, "hedge_books", [])
        streamed = sum(1 for book in books if book.get("streamed"))
        if not books or not streamed:
            return f"{fills}; hedge books by REST"
        if streamed == len(books):
            return f"{fills}; hedge books streamed"
        return f"{fills}; hedge books: {streamed} of {len(books)} streamed"

    def finish(self, state: str, reason: str) -> TickReport:
        reason = reason[:500]
        self.changed |= state != self.market.state or reason != self.market.state_reason
        if self.saved.get("reference_price") is not None:
            # For the stream process, which tells the next move of the book from it. Before the
            # row: once the row says the tick ended, a move must be told from this reference,
            # and one that came between the two writes was compared with the last tick's (or
            # none) and missed until the next move or beat.
            streams.save_reference(self.market.pk, self.saved["reference_price"],
                                   _ms(self.saved["reference_at"]))
        Market.objects.filter(pk=self.market.pk).exclude(state__in=Market.STOPPED).update(
            state=state, state_reason=reason, last_tick_at=self.now, **self.saved
        )
        return TickReport(state, self.changed, self.fills, self.market)


ANSWER_FIELDS = ("exchange_order_id", "state", "filled", "error", "updated_at")


@dataclass
class HedgeRead:
    """What reading a market's hedge venues gave: the floor over the usable ones, why the others
    were left out, the venue errors, and the books as read (for the market page)."""

    floor: HedgeFloor
    problems: list[str]
    errors: list[Exception]
    books: list[dict]


def read_hedge_venues(
    accounts: list[Account], symbol: str, rules: MarketRules, config: QuoteConfig
) -> HedgeRead:
    """Every hedge venue's book, taker fee and the hedge account's funds; a venue that errs or
    whose book is empty or stale is left out, with the reason. A tick prices its levels off the
    floor this builds, and a broker market its quotes (bots/otc/quotes.py)."""
    usable: list[HedgeVenue] = []
    problems: list[str] = []
    errors: list[Exception] = []
    books: list[dict] = []
    for account in accounts:
        venue = venue_for(account)
        try:
            # The streamed book when the stream process keeps a fresh one, else by REST.
            stale = min(config.stale_after_seconds, Decimal(str(settings.STREAM_BOOK_STALE_SECONDS)))
            book = streams.read_book(venue, account.venue_id, symbol, BOOK_DEPTH, stale)
            # A book's age is judged by the wall clock when it arrived: a REST answer without
            # a time is as fresh as its arrival; a cached or streamed one carries its time.
            received_ms = int(time.time() * 1000)
            taker = market_rules(venue, symbol).taker_fee
            balance = streams.read_balance(venue)  # one read for every market
        except ccxt.BaseError as exc:
            errors.append(exc)
            problems.append(f"hedge venue {venue.id}: {describe(exc)}")
            books.append({"venue": str(account.venue), "error": describe(exc)})
            continue
        bids = [(dec(p), dec(a)) for p, a in book["bids"]]
        asks = [(dec(p), dec(a)) for p, a in book["asks"]]
        books.append({
            "venue": str(account.venue),
            "streamed": bool(book.get("streamed")),
            "bids": [[_plain(p), _plain(a)] for p, a in bids[:SHOWN_LEVELS]],
            "asks": [[_plain(p), _plain(a)] for p, a in asks[:SHOWN_LEVELS]],
        })
        stamp = book.get("timestamp") or received_ms
        if not bids or not asks:
            problems.append(f"hedge venue {venue.id}: its {symbol} book is empty")
        elif is_stale(stamp, received_ms, config.stale_after_seconds):
            age = (received_ms - stamp) / 1000
            problems.append(f"hedge venue {venue.id}: its book is {age:.1f} s old")
        else:
            usable.append(HedgeVenue(
                venue.id, bids, asks, taker, _free(balance, rules.base), _free(balance, rules.quote),
            ))
    return HedgeRead(HedgeFloor(usable, rules.maker_fee, config.hedge_buffer_bps), problems, errors, books)


def by_exchange_ids(account_id: int, ids: list[str]):
    """The account's orders of these venue order ids (an index holds both: an account keeps
    every order it ever placed)."""
    return Order.objects.filter(account_id=account_id, exchange_order_id__in=ids)


def record_answers(orders: list[Order]) -> None:
    """The venue's answers to a tick's orders, in one statement run once per order.

    The hot path of a tick that requotes: Django's bulk_update builds a CASE per field and costs
    more than the orders it saves, one update() per order a query compile each.
    """
    if not orders:
        return
    fields = [Order._meta.get_field(name) for name in ANSWER_FIELDS]
    sql = update_statement(Order, ANSWER_FIELDS, ("id",))
    rows = [
        [f.get_db_prep_save(getattr(order, f.attname), connection) for f in fields] + [order.pk]
        for order in orders
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _need(side: str, price: Decimal, amount: Decimal) -> Decimal:
    return amount if side == SELL else amount * price


def _room_for_both(
    new: list[Level], resting: list[RestingOrder], gone: set[str], allowance: dict[str, Decimal]
) -> bool:
    """Whether every resting order not cancelled yet and every new one fit each side's
    allowance (budget, balance and reserve) at once."""
    for side in SIDES:
        committed = sum((_need(side, o.price, o.amount) for o in resting if o.side == side and o.id not in gone), ZERO)
        committed += sum((_need(side, lv.price, lv.amount) for lv in new if lv.side == side), ZERO)
        if committed > allowance[side]:
            return False
    return True


def _free(balance: dict, asset: str) -> Decimal:
    return dec((balance.get(asset) or {}).get("free") or 0)


def _total(balance: dict, asset: str) -> Decimal:
    row = balance.get(asset) or {}
    total = row.get("total")
    return dec(total) if total is not None else _free(balance, asset) + dec(row.get("used") or 0)


def _state(status: str | None, default: str = Order.OPEN) -> str:
    if status == "rejected":
        return Order.FAILED
    return status if status in dict(Order.STATE_CHOICES) else default


def _ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


def _plain(value: Decimal) -> str:
    return f"{(value + 0).normalize():f}"  # + 0 turns -0 into 0
