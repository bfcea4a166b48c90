"""The ids the adapter derives for trades a venue gives none: the same for the same trade read
again (however its numbers are spelled), different for trades that differ in any field, in
their place among identical ones, or in the order's cumulative filled; the venue's own id kept."""

from __future__ import annotations

from decimal import Decimal

from bots.venues.fill_identity import derived_id, usable, with_ids

D = Decimal


def trade(**changes):
    return {"id": None, "order": "o-1", "timestamp": 1_800_000_000_123, "side": "sell",
            "price": D("65020.0"), "amount": D("0.10")} | changes


def test_the_same_trade_read_twice_gets_the_same_id():
    first = with_ids([trade()])[0]["id"]
    again = with_ids([trade(price=D("65020"), amount=D("0.1"))])[0]["id"]

    assert first == again and first.startswith("d-")


def test_identical_trades_in_one_answer_get_ids_by_their_place():
    ids = [t["id"] for t in with_ids([trade(), trade(), trade(amount=D("0.2"))])]

    assert len(set(ids)) == 3
    assert ids[:2] == [t["id"] for t in with_ids([trade(), trade()])]


def test_any_field_or_the_orders_filled_tells_trades_apart():
    base = derived_id(trade())
    others = [derived_id(trade(**{key: value})) for key, value in [
        ("order", "o-2"), ("timestamp", 1_800_000_000_124), ("side", "buy"),
        ("price", D("65020.01")), ("amount", D("0.11")),
    ]]

    assert base not in others and len(set(others)) == len(others)
    assert derived_id(trade(), order_filled=D("0.1")) != derived_id(trade(), order_filled=D("0.2"))


def test_a_venues_own_id_is_kept_and_a_trade_without_order_or_time_keeps_none():
    given, no_order, no_time = with_ids([trade(id=42), trade(order=None), trade(timestamp=None)])

    assert given["id"] == 42 and no_order["id"] is None and no_time["id"] is None
    assert not usable(None) and not usable("None") and not usable("") and usable("d-1")
