"""Hedging on a real exchange's protocol: the ccxt adapter against the local binance stub.

The hedge order goes out with its deterministic client order id as newClientOrderId, is looked up
by it (origClientOrderId) when an answer is lost, and binance's errors reach the hedger as ccxt's
classes: a 503 carrying {"code": -1008} ("server busy") is a plain ExchangeError that ccxt does
not classify, so Ballast retries it, looking the order up first, instead of losing the hedge.
"""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import ccxt
import pytest
from django.utils import timezone

from bots.hedging import hedger
from bots.models import Account, Hedge, HedgeOrder, Market, Venue
from bots.simulation.stub_exchanges.binance import BinanceStub
from bots.venues import venue_for
from tests.support.hedging_world import one_fill, run_until_done

pytestmark = pytest.mark.django_db
D = Decimal
ORDER = "POST /api/v3/order"
BUSY = '{"code":-1008,"msg":"Server is currently overloaded with other requests. Please try again in a few minutes."}'


@pytest.fixture
def stub():
    with BinanceStub(balances={"BTC": "1", "USDT": "100000"}) as stub:
        for price in ("65010", "65020", "65030"):
            stub.seed_liquidity("sell", price, "0.5")
            stub.seed_liquidity("buy", str(130000 - int(price)), "0.5")
        yield stub


@pytest.fixture
def ccxt_market(hedging_market, stub):
    """The demo market hedging on the binance stub instead of the paper outside venue."""
    venue = Venue.objects.create(
        name="binance-stub", label="Binance (stub)", kind=Venue.CCXT, exchange_id="binance",
        options={**stub.ccxt_config(), "enableRateLimit": False, "timeout": 300},
    )
    account = Account(venue=venue, name="Hedging bot", role=Account.HEDGING)
    account.set_credentials(stub.API_KEY, stub.SECRET)
    account.save()
    Market.objects.filter(pk=hedging_market.pk).update(hedge_account=account)
    return Market.objects.get(pk=hedging_market.pk)


def posted(stub) -> list[dict]:
    return [p for method, path, p in stub.requests if (method, path) == ("POST", "/api/v3/order")]


def test_a_hedge_is_sent_as_an_ioc_with_its_client_order_id(ccxt_market, stub):
    hedge = one_fill(ccxt_market, "buy", "0.02")

    assert run_until_done(hedge.pk) == [Hedge.FILLED]

    order = HedgeOrder.objects.get()
    [sent] = posted(stub)
    assert (sent["newClientOrderId"], sent["timeInForce"], sent["type"]) == (order.client_order_id, "IOC", "LIMIT")
    assert (sent["side"], sent["quantity"]) == ("BUY", "0.02")
    assert (order.filled, order.cost / order.filled) == (D("0.02"), D("65010"))
    found = venue_for(ccxt_market.hedge_account).fetch_order(None, "BTC/USDT", {"clientOrderId": order.client_order_id})
    assert (found["id"], found["status"]) == (order.exchange_order_id, "closed")


def test_an_answer_lost_to_a_timeout_is_found_by_client_id_and_not_sent_again(ccxt_market, stub):
    hedge = one_fill(ccxt_market, "buy", "0.02")
    stub.delay_next(0.6, only=ORDER)  # the stub answers after the client's 300 ms timeout

    with pytest.raises(hedger.HedgeRetry, match="RequestTimeout"):
        hedger.execute_hedge(hedge.pk)
    order = HedgeOrder.objects.get()
    deadline = time.monotonic() + 5
    while not any(o.client_order_id == order.client_order_id for o in list(stub.orders.values())):
        assert time.monotonic() < deadline, "the delayed order never reached the stub"
        time.sleep(0.05)

    assert run_until_done(hedge.pk) == [Hedge.FILLED]

    assert len(posted(stub)) == 1  # looked up, never sent again
    order.refresh_from_db()
    assert (order.state, order.filled) == (HedgeOrder.DONE, D("0.02"))
    # binance's order lookup tells no fee: the order's trades do, and the record has them.
    assert (order.fee, order.fee_currency) == (D("0.00002"), "BTC")
    assert stub.balance("BTC")[0] == D("1") + D("0.02") - order.fee


def test_binance_busy_is_unclassified_and_retried_after_looking_the_order_up(ccxt_market, stub):
    hedge = one_fill(ccxt_market, "sell", "0.02")
    stub.fail_next(503, BUSY, only=ORDER)

    with pytest.raises(hedger.HedgeRetry) as caught:
        hedger.execute_hedge(hedge.pk)

    assert caught.value.__cause__.__class__ is ccxt.ExchangeError  # not a NetworkError subclass
    assert "-1008" in str(caught.value)
    # Not found on the venue, but the request might still be on its way: wait, do not resend.
    with pytest.raises(hedger.HedgeRetry, match="may still be on its way"):
        hedger.execute_hedge(hedge.pk)
    assert all(o.account != "bot" for o in stub.orders.values())
    HedgeOrder.objects.update(sent_at=timezone.now() - timedelta(seconds=60))

    assert run_until_done(hedge.pk) == [Hedge.FILLED]

    orders = list(HedgeOrder.objects.order_by("pk"))
    assert [o.state for o in orders] == [HedgeOrder.UNSENT, HedgeOrder.DONE]
    mine = [o for o in stub.orders.values() if o.account == "bot"]
    assert [o.client_order_id for o in mine] == [orders[1].client_order_id]  # one order reached it
    assert stub.balance("BTC")[0] == D("1") - D("0.02")


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [(429, None, "DDoSProtection"), (418, None, "DDoSProtection"), (503, None, "ExchangeNotAvailable"),
     (502, None, "ExchangeNotAvailable"), (500, None, "ExchangeNotAvailable")],
)
def test_transient_http_errors_leave_the_hedge_pending(ccxt_market, stub, status, body, error):
    hedge = one_fill(ccxt_market, "buy", "0.02")
    stub.fail_next(status, body, only=ORDER)

    with pytest.raises(hedger.HedgeRetry, match=error):
        hedger.execute_hedge(hedge.pk)

    assert Hedge.objects.get(pk=hedge.pk).state == Hedge.PENDING


def test_a_hedge_larger_than_the_binance_balance_hedges_what_it_can(ccxt_market, stub):
    hedge = one_fill(ccxt_market, "sell", "2")  # the hedge sells 2 BTC; the account has 1

    assert hedger.execute_hedge(hedge.pk).state == Hedge.WAITING

    hedge.refresh_from_db()
    assert (hedge.wait_reason, hedge.filled) == (Hedge.SHORT_OF_BALANCE, D("1"))
    assert "Binance (stub) needs 2 BTC, has 1" in hedge.error


def test_binance_refusing_for_insufficient_balance_fails_the_hedge_at_once(ccxt_market, stub):
    # The balance was there when read and gone when the order arrived (another order took it).
    hedge = one_fill(ccxt_market, "buy", "0.02")
    stub.fail_next(400, '{"code":-2010,"msg":"Account has insufficient balance for requested action."}', only=ORDER)

    assert hedger.execute_hedge(hedge.pk).state == Hedge.FAILED

    hedge.refresh_from_db()
    assert hedge.error.startswith("InsufficientFunds:") and hedge.attempts == 1
    assert HedgeOrder.objects.get().state == HedgeOrder.REJECTED
