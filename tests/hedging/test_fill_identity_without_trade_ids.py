"""Fill identity on an exchange whose trades carry no id (HollaEx through ccxt, on the local stub):
the same trade read twice is one fill, and two trades alike in every field the venue gives (one
order, one price, one amount, one millisecond) are two fills, each with its own hedge intent."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bots.hedging.capture import capture_fills
from bots.models import Account, Fill, Hedge
from bots.simulation.stub_exchanges.hollaex import HollaExStub
from bots.venues import venue_for
from tests.support.hollaex_world import on_hollaex

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def stub():
    with HollaExStub(balances={"BTC": "1", "USDT": "100000"}) as stub:
        yield stub


@pytest.fixture
def market(demo_market, stub):
    return on_hollaex(demo_market, stub, Account.MARKET_MAKING)


def capture(market):
    return capture_fills(market, venue_for(market.mm_account), lambda hedge_id: None)


def rest_ask(market, amount: str):
    return venue_for(market.mm_account).create_order("BTC/USDT", "limit", "sell", D(amount), D("65020"))


def test_the_same_trade_read_twice_is_one_fill(market, stub):
    rest_ask(market, "0.1")
    stub.take("buy", "0.05")

    first = capture(market)
    again = capture(market)  # `since` is inclusive: the trade comes back

    assert [(f.side, f.amount, f.price) for f in first] == [("sell", D("0.05"), D("65020"))]
    assert again == []
    fill = Fill.objects.get()
    assert fill.trade_id.startswith("d-") and fill.trade_id != "None"
    assert Hedge.objects.filter(fill=fill).count() == 1


def test_two_alike_trades_in_one_millisecond_are_two_fills(market, stub):
    order = rest_ask(market, "0.2")
    stub.frozen_ms = 1_800_000_000_123  # both users' orders in the same millisecond
    stub.take("buy", "0.1", account="user-a")
    stub.take("buy", "0.1", account="user-b")

    fills = capture(market)
    capture(market)

    assert len(fills) == 2 == Fill.objects.count() == Hedge.objects.count()
    assert {(f.order_id, f.timestamp, f.price, f.amount) for f in fills} == {
        (order["id"], 1_800_000_000_123, D("65020"), D("0.1"))
    }
    assert len({f.trade_id for f in fills}) == 2


def test_a_later_trade_alike_in_all_but_time_is_a_new_fill(market, stub):
    rest_ask(market, "0.2")
    stub.frozen_ms = 1_800_000_000_123
    stub.take("buy", "0.1")
    assert len(capture(market)) == 1
    stub.frozen_ms += 1
    stub.take("buy", "0.1")

    assert len(capture(market)) == 1
    assert Fill.objects.count() == 2
