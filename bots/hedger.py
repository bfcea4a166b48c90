"""Placing the hedge for one fill on the hedge venue, once, and recording what happened.

The Hedge row is the outbox entry written with its fill. An attempt marks it "sending" before
calling the venue; a retry after a crash or a timeout first asks the venue for the order by its
deterministic client order id, and only sends when the venue has never seen it.
"""

from __future__ import annotations

import logging

import ccxt
from django.db import transaction
from django.utils import timezone

from bots.engine.hedging import decide_hedge
from bots.engine.rules import MarketRules, dec
from bots.models import Hedge
from bots.venues import venue_for
from bots.venues.errors import describe, is_transient

log = logging.getLogger(__name__)


class HedgeRetry(Exception):
    """A transient venue error: the hedge is pending again and the task should retry later."""


def execute_hedge(hedge_id: int) -> str:
    with transaction.atomic():
        hedge = (
            Hedge.objects.select_for_update(of=("self",))
            .select_related("fill__market__quote_settings", "account__venue")
            .get(pk=hedge_id)
        )
        if hedge.state != Hedge.PENDING:
            return hedge.state  # done, failed, or another attempt holds it
        hedge.state = Hedge.SENDING
        hedge.attempts += 1
        hedge.save(update_fields=["state", "attempts", "updated_at"])

    venue = venue_for(hedge.account)
    symbol = hedge.fill.market.symbol
    try:
        if hedge.attempts > 1:
            existing = _find_sent(venue, symbol, hedge.client_order_id)
            if existing is not None:
                return _record(hedge, existing)
        book = venue.fetch_order_book(symbol, limit=50)
        rules = MarketRules.from_market(venue.market(symbol))
        decision = decide_hedge(
            hedge.fill.side,
            hedge.amount,
            [(dec(p), dec(a)) for p, a in book["bids"]],
            [(dec(p), dec(a)) for p, a in book["asks"]],
            hedge.fill.market.quote_settings.hedge_slippage_bps,
            rules,
        )
        if decision.order is None:
            return _fail(hedge, decision.reason)
        hedge.limit_price = decision.order.limit_price
        hedge.save(update_fields=["limit_price", "updated_at"])
        order = venue.create_order(
            symbol,
            "limit",
            decision.order.side,
            decision.order.amount,
            decision.order.limit_price,
            {"clientOrderId": hedge.client_order_id, "timeInForce": "IOC"},
        )
    except ccxt.BaseError as exc:
        if is_transient(exc):
            Hedge.objects.filter(pk=hedge.pk).update(state=Hedge.PENDING, error=describe(exc))
            raise HedgeRetry(describe(exc)) from exc
        return _fail(hedge, describe(exc))
    return _record(hedge, order)


def _find_sent(venue, symbol: str, client_order_id: str) -> dict | None:
    try:
        return venue.fetch_order(None, symbol, {"clientOrderId": client_order_id})
    except ccxt.OrderNotFound:
        return None


def _record(hedge: Hedge, order: dict) -> str:
    filled = dec(order["filled"] or 0)
    hedge.exchange_order_id = str(order["id"])
    hedge.filled = filled
    hedge.average_price = dec(order["average"]) if order.get("average") else None
    hedge.fee = dec((order.get("fee") or {}).get("cost") or 0)
    hedge.fee_currency = (order.get("fee") or {}).get("currency") or ""
    if filled >= hedge.amount:
        hedge.state, hedge.error = Hedge.FILLED, ""
    elif order["status"] == "open":
        hedge.state = Hedge.SENDING  # an IOC is never left open; a venue that does is asked again
    else:
        hedge.state = Hedge.PARTIAL
        hedge.error = f"filled {filled} of {hedge.amount} within the protection price {hedge.limit_price}"
    hedge.done_at = timezone.now() if hedge.state in Hedge.FINAL else None
    hedge.save()
    if hedge.state == Hedge.PARTIAL:
        log.warning("hedge %s partial: %s", hedge.pk, hedge.error)
    return hedge.state


def _fail(hedge: Hedge, reason: str) -> str:
    log.error("hedge %s failed: %s", hedge.pk, reason)
    Hedge.objects.filter(pk=hedge.pk).update(
        state=Hedge.FAILED, error=reason[:500], done_at=timezone.now()
    )
    return Hedge.FAILED
