"""A paper request loads only the resting orders it can touch, yet time priority holds."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bots.models import Account, PaperBalance, PaperMarket, PaperOrder, Venue
from bots.venues.paper import PaperVenue

D = Decimal
SYMBOL = "BTC/USDT"


@pytest.fixture
def traders(db):
    venue = Venue.objects.create(name="paper-p", label="Paper P", kind=Venue.PAPER)
    PaperMarket.objects.create(
        venue=venue, symbol=SYMBOL, base="BTC", quote="USDT", price_tick=D("0.01"),
        amount_step=D("0.0001"), min_amount=D("0.0001"), min_cost=D("1"),
        maker_fee=D("0"), taker_fee=D("0"),
    )
    accounts = []
    for name in ("first", "second", "taker"):
        account = Account.objects.create(venue=venue, name=name, role=Account.LIQUIDITY)
        for asset in ("BTC", "USDT"):
            PaperBalance.objects.create(account=account, asset=asset, free=D("1000000"))
        accounts.append(PaperVenue(account))
    return accounts


def test_the_earlier_order_at_a_price_fills_first(traders):
    first, second, taker = traders
    early = first.create_order(SYMBOL, "limit", "sell", D("1"), D("100"))
    # Requests in between that load no asks at all: bids far below, and a cancel.
    bid = second.create_order(SYMBOL, "limit", "buy", D("1"), D("50"))
    second.cancel_order(bid["id"], SYMBOL)
    late = second.create_order(SYMBOL, "limit", "sell", D("1"), D("100"))

    taker.create_order(SYMBOL, "market", "buy", D("1.5"))

    seqs = list(PaperOrder.objects.order_by("pk").values_list("seq", flat=True))
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)  # each later than all before
    assert first.fetch_order(early["id"], SYMBOL)["status"] == "closed"
    partly = second.fetch_order(late["id"], SYMBOL)
    assert (partly["status"], partly["filled"]) == ("open", D("0.5"))


def test_a_cancel_touches_only_its_order(traders):
    first, second, _ = traders
    keep = first.create_order(SYMBOL, "limit", "sell", D("1"), D("101"))
    gone = first.create_order(SYMBOL, "limit", "sell", D("2"), D("102"))
    other = second.create_order(SYMBOL, "limit", "buy", D("1"), D("99"))

    first.cancel_order(gone["id"], SYMBOL)

    assert [o["id"] for o in first.fetch_open_orders(SYMBOL)] == [keep["id"]]
    assert [o["id"] for o in second.fetch_open_orders(SYMBOL)] == [other["id"]]
    assert first.fetch_balance()["used"]["BTC"] == D("1")
