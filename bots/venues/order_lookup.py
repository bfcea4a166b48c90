"""Finding an order Ballast sent when the answer never came back, on any venue.

A send whose outcome is unknown (a timeout, a dropped connection) may or may not have placed the
order. Before anything is sent again the order is looked up: by its client order id where the
venue keeps one (`venue.client_order_ids`, true unless the venue says otherwise), else by what
was sent, among the account's open and recent orders: the same side, price and amount, placed no
earlier than the send (less the clock skew allowed) and not already recorded as another order of
Ballast's. Of several such, the oldest: each was sent by Ballast and is unrecorded, so whichever
of the in-flight records takes which, every order placed is accounted for once.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from decimal import Decimal

from bots.engine.rules import ZERO, dec
from bots.venues import ccxt_errors as ccxt

log = logging.getLogger(__name__)

# How far the venue's clock may run behind ours: an order it stamps this much before the send
# can still be the one sent.
CLOCK_SKEW_MS = 60_000


def recent_orders(venue, symbol: str, since: int) -> list[dict]:
    """The account's orders placed since `since` (ms), open and closed, as the venue offers them."""
    has = venue.has
    if has.get("fetchOrders") is True:
        return venue.fetch_orders(symbol, since)
    found = list(venue.fetch_open_orders(symbol, since))
    if has.get("fetchClosedOrders"):
        found += venue.fetch_closed_orders(symbol, since)
    return found


def find_order(
    venue,
    symbol: str,
    *,
    client_order_id: str | None,
    side: str,
    amount: Decimal,
    price: Decimal | None,
    sent_at_ms: int,
    exclude: Collection[str] = (),
) -> dict:
    """The order sent, as the venue reports it now; ccxt.OrderNotFound if it is not there.

    `exclude` holds the exchange ids of orders already recorded, which cannot be this one.
    """
    if getattr(venue, "client_order_ids", True):
        return venue.fetch_order(None, symbol, {"clientOrderId": client_order_id})
    since = sent_at_ms - CLOCK_SKEW_MS
    matches = [
        order for order in recent_orders(venue, symbol, since)
        if str(order["id"]) not in exclude
        and order.get("side") == side
        and order.get("amount") is not None and dec(order["amount"]) == dec(amount)
        and (price is None or (order.get("price") is not None and dec(order["price"]) == dec(price)))
        and (order.get("timestamp") or 0) >= since
    ]
    if not matches:
        raise ccxt.OrderNotFound(
            f"{venue.id} has no {side} order of {amount} at {price} placed since {since}"
        )
    return min(matches, key=lambda order: (order.get("timestamp") or 0, str(order["id"])))


def _fees(order: dict) -> list[dict]:
    """The fees the answer tells: ccxt's "fee", or the "fees" some exchanges give instead."""
    if order.get("fee") and order["fee"].get("cost") is not None:
        return [order["fee"]]
    return [f for f in order.get("fees") or [] if f and f.get("cost") is not None]


def order_fee(order: dict) -> tuple[Decimal, str]:
    """The order's fee and its currency (the fees in the first one's currency; others are
    logged, as no balance here can hold them). Nothing told: zero."""
    fees = _fees(order)
    if not fees:
        return ZERO, ""
    currency = fees[0].get("currency") or ""
    others = [f for f in fees if (f.get("currency") or "") != currency]
    if others:
        log.warning("order %s paid fees in several currencies; kept %s, not %s", order.get("id"), currency, others)
    return sum((dec(f["cost"]) for f in fees if (f.get("currency") or "") == currency), ZERO), currency


def _tells_fee(order: dict) -> bool:
    return bool(_fees(order))


def _tells_cost(order: dict) -> bool:
    # Where an exchange gives neither cost nor average price, ccxt's safe_order makes the cost
    # up as filled times the limit price and leaves the average out: a cost is the venue's only
    # with an average beside it.
    return bool(order.get("cost")) and order.get("average") is not None


def with_costs(venue, symbol: str, order: dict) -> dict:
    """The order with what it cost and paid: as the answer gives them, or, for an order that
    filled and whose answer leaves out its cost or its fee, from its trades. Binance's order
    lookup and cancel answers carry no fee, HollaEx's order answers neither cost nor average
    price: an order recorded from such an answer was recorded as free, or at its limit price,
    and the records drifted from the venue's balance by the difference."""
    filled = dec(order.get("filled") or 0)
    if not filled or (_tells_cost(order) and _tells_fee(order)):
        return order
    trades = [
        t for t in venue.fetch_my_trades(symbol, order.get("timestamp"))
        if str(t.get("order")) == str(order["id"])
    ]
    found = sum((dec(t["amount"]) for t in trades), ZERO)
    told = dict(order)
    if not _tells_fee(order):
        told["fee"], told["fees"] = None, [t["fee"] for t in trades if t.get("fee")]
    if found != filled:
        # Listed late or beyond one page: the fees found are kept, the cost stays the answer's;
        # reconciliation shows the rest.
        log.error("order %s filled %s but its trades listed add up to %s: its cost and fees "
                  "from what was found", order["id"], filled, found)
        return told
    if not _tells_cost(order):
        told["cost"] = sum((dec(t["cost"]) for t in trades), ZERO)
        told["average"] = told["cost"] / filled
    return told
