"""One tick of the market-making bot for one market: read the reference, quote, record."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

import ccxt
from django.utils import timezone

from bots.engine.books import mid_price
from bots.engine.quoting import Level, OpenQuote, fit_to_budget, plan_refresh, quote_levels
from bots.engine.rules import MarketRules, dec
from bots.fills import capture_fills
from bots.models import Market, Order
from bots.venues import venue_for
from bots.venues.errors import describe

log = logging.getLogger(__name__)

# A side that cannot be quoted (its account ran dry) is reported, not fatal: the other side
# still quotes, and the balance panel shows why.
SIDE_SKIPPED = (ccxt.InsufficientFunds, ccxt.InvalidOrder)


def load_market(market_id: int) -> Market:
    return Market.objects.select_related(
        "mm_account__venue", "hedge_account__venue", "quote_settings"
    ).get(pk=market_id)


def run_tick(market_id: int, on_hedge: Callable[[int], None]) -> str:
    """Quote one market once; returns its state afterwards. Callers hold the market's lock."""
    market = load_market(market_id)
    if not market.enabled or market.state == Market.PAUSED:
        return market.state
    mm = venue_for(market.mm_account)
    try:
        capture_fills(market, mm, on_hedge)
        notes = _quote(market, mm)
    except ccxt.BaseError as exc:
        log.warning("market %s degraded: %s", market.symbol, describe(exc))
        return _set_state(market, Market.DEGRADED, describe(exc))
    return _set_state(market, Market.RUNNING, "; ".join(notes))


def _set_state(market: Market, state: str, reason: str) -> str:
    Market.objects.filter(pk=market.pk).exclude(state=Market.PAUSED).update(
        state=state, state_reason=reason[:500], last_tick_at=timezone.now()
    )
    return state


def _quote(market: Market, mm) -> list[str]:
    symbol = market.symbol
    settings = market.quote_settings
    book = venue_for(market.hedge_account).fetch_order_book(symbol, limit=50)
    mid = mid_price(
        [(dec(p), dec(a)) for p, a in book["bids"]], [(dec(p), dec(a)) for p, a in book["asks"]]
    )
    if mid is None:
        raise ccxt.ExchangeError(f"the hedge venue's {symbol} book is empty: no reference price")
    rules = MarketRules.from_market(mm.market(symbol))
    desired = quote_levels(mid, settings.params(), rules)
    open_orders = mm.fetch_open_orders(symbol)
    _forget_closed(market, {o["id"] for o in open_orders}, mm)
    plan = plan_refresh(
        desired,
        [OpenQuote(o["id"], o["side"], dec(o["price"]), dec(o["remaining"])) for o in open_orders],
        settings.refresh_tolerance_bps,
    )
    for order_id in plan.cancel:
        try:
            mm.cancel_order(order_id, symbol)
            state = Order.CANCELED
        except ccxt.OrderNotFound:
            state = Order.CLOSED  # it filled between our look and the cancel
        Order.objects.filter(account=market.mm_account, exchange_order_id=order_id).update(state=state)
    notes = []
    to_place = plan.place
    if to_place:
        free = mm.fetch_balance().get("free") or {}
        to_place, dropped = fit_to_budget(
            to_place, dec(free.get(rules.base) or 0), dec(free.get(rules.quote) or 0)
        )
        for side, asset in (("sell", rules.base), ("buy", rules.quote)):
            missing = sum(1 for lv in dropped if lv.side == side)
            if missing:
                notes.append(f"{missing} {side} level(s) not quoted: MM account short of {asset}")
    for level in to_place:
        note = _place(market, mm, level)
        if note and note not in notes:
            notes.append(note)
    return notes


def _forget_closed(market: Market, open_ids: set[str], mm) -> None:
    """Orders we think are open but the venue no longer lists: learn how they ended."""
    for order in Order.objects.filter(market=market, account=market.mm_account, state=Order.OPEN):
        if order.exchange_order_id in open_ids:
            continue
        status = mm.fetch_order(order.exchange_order_id, market.symbol)
        order.state = status["status"] if status["status"] in dict(Order.STATE_CHOICES) else Order.CLOSED
        order.filled = dec(status["filled"])
        order.save(update_fields=["state", "filled", "updated_at"])


def _place(market: Market, mm, level: Level) -> str:
    """Record the order as sending, send it, record the answer. Returns a note when refused."""
    order = Order.objects.create(
        account=market.mm_account,
        market=market,
        client_order_id=f"q{market.pk}-{uuid.uuid4().hex[:20]}",
        side=level.side,
        price=level.price,
        amount=level.amount,
    )
    try:
        placed = mm.create_order(
            market.symbol,
            "limit",
            level.side,
            level.amount,
            level.price,
            {"clientOrderId": order.client_order_id, "postOnly": True},
        )
    except SIDE_SKIPPED as exc:
        order.state, order.error = Order.FAILED, describe(exc)
        order.save(update_fields=["state", "error", "updated_at"])
        return f"{level.side} side not fully quoted: {describe(exc)}"
    order.exchange_order_id = str(placed["id"])
    order.state = placed["status"] if placed["status"] in dict(Order.STATE_CHOICES) else Order.OPEN
    order.filled = dec(placed["filled"] or 0)
    order.save(update_fields=["exchange_order_id", "state", "filled", "updated_at"])
    return ""
