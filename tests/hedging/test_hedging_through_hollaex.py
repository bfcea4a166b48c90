"""Hedging with HollaEx through ccxt, on the local HollaEx stub: an exchange whose orders carry no
client order id and whose trades carry no id.

A hedge whose send timed out is found among the account's recent orders by side, price, amount
and time, and never sent twice; a fill on HollaEx as the own venue is captured and hedged once.
"""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from bots.hedging import hedger
from bots.hedging.capture import capture_fills
from bots.models import Account, Fill, Hedge, HedgeOrder
from bots.simulation.stub_exchanges.hollaex import HollaExStub
from bots.venues import venue_for
from tests.support.hedging_world import one_fill, run_until_done
from tests.support.hollaex_world import on_hollaex

pytestmark = pytest.mark.django_db
D = Decimal
ORDER = "POST /v2/order"


@pytest.fixture
def stub():
    with HollaExStub(balances={"BTC": "1", "USDT": "100000"}) as stub:
        for price in ("65010", "65020", "65030"):
            stub.seed_liquidity("sell", price, "0.5")
            stub.seed_liquidity("buy", str(130000 - int(price)), "0.5")
        yield stub


def posted(stub) -> list[dict]:
    return [p for method, path, p in stub.requests if f"{method} {path}" == ORDER]


def bot_orders(stub) -> list:
    return [o for o in list(stub.orders.values()) if o.account == "bot"]


def test_a_hedge_whose_send_timed_out_is_found_and_not_sent_twice(hedging_market, stub):
    market = on_hollaex(hedging_market, stub, Account.HEDGING)
    hedge = one_fill(market, "buy", "0.02")
    stub.delay_next(2.5, only=ORDER)  # answered after the client's 1.5 s timeout

    with pytest.raises(hedger.HedgeRetry, match="RequestTimeout"):
        hedger.execute_hedge(hedge.pk)
    deadline = time.monotonic() + 5
    while not bot_orders(stub):
        assert time.monotonic() < deadline, "the delayed order never reached the stub"
        time.sleep(0.05)

    assert run_until_done(hedge.pk) == [Hedge.FILLED]

    [sent] = posted(stub)  # looked up among the recent orders, never sent again
    assert "clientOrderId" not in sent and (sent["side"], sent["size"]) == ("buy", "0.02")
    [order] = bot_orders(stub)
    row = HedgeOrder.objects.get()
    assert (row.state, row.exchange_order_id, row.filled) == (HedgeOrder.DONE, order.id, D("0.02"))
    assert stub.balance("BTC")[0] == D("1") + D("0.02") - D("0.00002")


def test_an_order_recorded_for_another_hedge_is_not_taken_for_the_lost_one(hedging_market, stub):
    market = on_hollaex(hedging_market, stub, Account.HEDGING)
    first = one_fill(market, "buy", "0.02")
    assert run_until_done(first.pk) == [Hedge.FILLED]
    second = one_fill(market, "buy", "0.02")  # same side and amount as the first
    stub.fail_next(503, only=ORDER)  # the send fails before the stub serves it

    with pytest.raises(hedger.HedgeRetry):
        hedger.execute_hedge(second.pk)
    # Not there (the first hedge's order is excluded), and too recent to call it never sent.
    with pytest.raises(hedger.HedgeRetry, match="may still be on its way"):
        hedger.execute_hedge(second.pk)
    assert len(posted(stub)) == 2 and len(bot_orders(stub)) == 1  # the 503 was never served


def test_a_fill_on_hollaex_is_captured_and_hedged_once(hedging_market, stub):
    market = on_hollaex(hedging_market, stub, Account.MARKET_MAKING)
    mm = venue_for(market.mm_account)
    mm.create_order("BTC/USDT", "limit", "sell", D("0.05"), D("65005"))  # best ask on the stub
    stub.take("buy", "0.03")

    fills = capture_fills(market, mm, lambda hedge_id: None)
    assert capture_fills(market, mm, lambda hedge_id: None) == []
    [fill] = fills
    assert run_until_done(fill.hedge.pk) == [Hedge.FILLED]

    assert Fill.objects.count() == 1
    hedge = Hedge.objects.get()
    assert (hedge.side, hedge.filled, hedge.state) == ("buy", D("0.03"), Hedge.FILLED)
    assert HedgeOrder.objects.filter(hedge=hedge, state=HedgeOrder.DONE).count() == 1


def test_a_hedge_is_recorded_at_what_its_orders_cost(hedging_market, stub):
    market = on_hollaex(hedging_market, stub, Account.HEDGING)
    hedge = one_fill(market, "buy", "0.7")  # in child orders, through 65,010 then 65,020

    assert run_until_done(hedge.pk) == [Hedge.FILLED]

    # HollaEx's order answers tell neither cost nor average price (ccxt's hollaex class then
    # has none): the orders' trades do. Recorded at their limit price, the records would hold
    # less USDT than the stub by the price improvement.
    rows = list(HedgeOrder.objects.filter(state=HedgeOrder.DONE))
    trades = [t for t in stub.trades if t.account == "bot"]
    assert sum(r.filled for r in rows) == D("0.7")
    assert sum(r.cost for r in rows) == sum(t.cost for t in trades) < sum(r.filled * r.limit_price for r in rows)
    assert sum(r.fee for r in rows) == D("0.0007") and {r.fee_currency for r in rows} == {"BTC"}
    assert stub.balance("USDT")[0] == D("100000") - sum(r.cost for r in rows)
    assert stub.balance("BTC")[0] == D("1") + D("0.7") - D("0.0007")
