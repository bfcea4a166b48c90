"""The request budget every process shares through Redis: two independent clients of one
exchange host stay within it together, hedges and stops go first when it is tight, a request
that would wait too long fails as transient, and with Redis down cancels still go out."""

from __future__ import annotations

import ccxt
import pytest

from bots.platform import locks
from bots.simulation.stub_exchanges.binance import BinanceStub
from bots.venues import limiter, request_weights
from bots.venues.ccxt_venue import CcxtVenue
from bots.venues.errors import is_transient

SYMBOL = "BTC/USDT"


@pytest.fixture
def stub():
    with BinanceStub() as stub:
        yield stub


def tighten(settings, stub: BinanceStub) -> None:
    """From now on a budget of 60 weight a minute (1% of binance's 6,000): a burst of 10, 2.5 of
    it for hedges and stops; requests may not wait. The stub forgets what it received."""
    settings.REQUEST_BUDGET_SHARE = 0.01
    settings.REQUEST_WAIT_SECONDS = 0
    stub.requests.clear()


def client_of(stub: BinanceStub, name: str) -> CcxtVenue:
    options = {**stub.ccxt_config(), "timeout": 1000}
    venue = CcxtVenue.from_settings(name, "binance", options, {"apiKey": stub.API_KEY, "secret": stub.SECRET})
    venue.load_markets()
    return venue


def received_weight(stub: BinanceStub) -> int:
    return sum(request_weights.binance_weight_of_url(m, p, q) for m, p, q in stub.requests)


def test_two_independent_clients_stay_within_the_budget_together(stub, settings):
    first, second = client_of(stub, "one"), client_of(stub, "two")
    tighten(settings, stub)
    refused = []

    for _ in range(40):  # weight 5 each: 200, over three minutes of this budget
        for venue in (first, second):
            try:
                venue.fetch_order_book(SYMBOL, limit=5)
            except limiter.RequestBudgetExhausted as exc:
                refused.append(exc)

    per_minute = request_weights.LIMIT_PER_MINUTE["binance"] * settings.REQUEST_BUDGET_SHARE
    assert 0 < received_weight(stub) <= per_minute
    assert refused and all(is_transient(exc) for exc in refused)
    assert "BALLAST_REQUEST_WAIT_SECONDS" in str(refused[0]) and "used up" in str(refused[0])
    assert first.kept.budget.key == second.kept.budget.key


def test_a_hedge_goes_when_the_budget_is_too_low_for_anything_else(stub, settings):
    venue = client_of(stub, "both")
    tighten(settings, stub)
    with pytest.raises(limiter.RequestBudgetExhausted):
        for _ in range(10):
            venue.fetch_order_book(SYMBOL, limit=5)  # down to the reserve: refused from there
    books = len(stub.requests)

    with limiter.priority(limiter.HEDGE):
        book = venue.fetch_order_book(SYMBOL, limit=5)
    with pytest.raises(limiter.RequestBudgetExhausted):
        venue.fetch_order_book(SYMBOL, limit=5)

    assert book["bids"] == [] and len(stub.requests) == books + 1


def test_with_redis_down_cancels_go_out_and_other_requests_wait_for_it(stub, settings):
    venue = client_of(stub, "down")
    order = venue.create_order(SYMBOL, "limit", "buy", "0.001", "50000")
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    locks.forget_unreachable()
    try:
        with pytest.raises(limiter.RequestBudgetUnavailable, match="Redis is unreachable") as refused:
            venue.fetch_balance()
        venue.cancel_order(order["id"], SYMBOL)
        with limiter.priority(limiter.STOP):
            open_orders = venue.fetch_open_orders(SYMBOL)
    finally:
        locks.forget_unreachable()

    assert is_transient(refused.value)
    assert open_orders == [] and stub.orders[order["id"]].status == "canceled"


def test_binances_weights_are_ccxts_costs_in_binances_units():
    # ccxt's binance class counts cost = weight / 5 against rateLimit = 50 ms (6,000 a minute).
    client = ccxt.binance()
    public, private = client.api["public"]["get"], client.api["private"]
    assert 60000 / client.rateLimit * 5 == request_weights.LIMIT_PER_MINUTE["binance"]
    for (method, path), weight in request_weights.BINANCE.items():
        table = public if (method == "GET" and path in public) else private[method.lower()]
        assert table[path]["cost"] * 5 == pytest.approx(weight), (method, path)
    assert request_weights.binance_weight("GET", "depth", {"limit": 50}) == public["depth"]["byLimit"][0][1] * 5
    assert request_weights.binance_weight("GET", "openOrders", {}) == private["get"]["openOrders"]["noSymbol"] * 5


def test_a_request_refused_on_what_was_known_does_not_keep_redis_marked_down(stub):
    # Three streams of one process retried every 5 s, each inside the window the one before
    # had opened again; none asked Redis after it came back (the restart drill's Redis outage).
    venue = client_of(stub, "known down")
    locks.mark_down()
    marked_until = locks._down_until
    try:
        with pytest.raises(limiter.RequestBudgetUnavailable, match="found down moments ago"):
            venue.fetch_balance()
        assert locks._down_until == marked_until  # the window still ends when it did

        locks.forget_unreachable()  # the window over: Redis is asked, and it answers
        assert venue.fetch_balance()["free"] is not None
    finally:
        locks.forget_unreachable()
