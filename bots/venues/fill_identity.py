"""A trade's identity on its venue, for exchanges whose trades carry no id of their own.

Fill capture records each trade once, keyed on venue and trade id. Most exchanges give that id;
some do not (ccxt's `hollaex` class parses every trade with `id` None). For those the id is
derived from what the venue does give: the order id, the timestamp, the side, the price, the
amount and, where the caller knows it (a stream that sees an order's `filled` grow), the order's
cumulative filled after the trade. The same trade read twice gives the same id; two trades of
one order with the same price and amount in the same millisecond are told apart by their place
among the identical ones in the answer (the first, the second...), which is stable as long as a
read that returns one of them returns them all: reads here are by time (`since`, inclusive),
and an exchange writes the trades of one match together.

A trade without an order id or a timestamp has no identity that could be trusted: its id stays
None, and capture refuses it loudly rather than guess.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from decimal import Decimal

PREFIX = "d-"  # a derived id, never mistaken for one the venue gave


def _text(value) -> str:
    # 0.10 and 0.1 are the same amount, whichever way the venue's JSON spelled it.
    if isinstance(value, (Decimal, int, float, str)) and str(value).strip():
        number = Decimal(str(value))
        return format(number.normalize(), "f") if number else "0"
    return ""


def _fields(trade: dict, order_filled=None) -> tuple[str, ...] | None:
    if trade.get("order") in (None, "") or trade.get("timestamp") is None:
        return None
    if trade.get("price") is None or trade.get("amount") is None:
        return None
    return (
        str(trade["order"]), str(int(trade["timestamp"])), str(trade.get("side") or ""),
        _text(trade["price"]), _text(trade["amount"]), _text(order_filled),
    )


def derived_id(trade: dict, occurrence: int = 1, order_filled=None) -> str | None:
    """The id of a trade the venue gave none: `occurrence` is its place (1, 2...) among the
    trades of the same answer with the same fields; None if the trade lacks what it needs."""
    fields = _fields(trade, order_filled)
    if fields is None:
        return None
    text = "|".join((*fields, str(occurrence)))
    return PREFIX + hashlib.sha256(text.encode()).hexdigest()[:32]


def with_ids(trades: list[dict]) -> list[dict]:
    """The trades with `id` filled in where the venue left it empty, in place; see the module."""
    seen: Counter = Counter()
    for trade in trades:
        if trade.get("id") not in (None, ""):
            continue
        fields = _fields(trade, trade.get("orderFilled"))
        if fields is None:
            continue  # no identity: capture refuses it
        seen[fields] += 1
        trade["id"] = derived_id(trade, seen[fields], trade.get("orderFilled"))
    return trades


def usable(trade_id) -> bool:
    """Whether a trade id can key a fill: "None" is what str() made of a missing one."""
    return trade_id is not None and str(trade_id).strip() not in ("", "None", "null")
