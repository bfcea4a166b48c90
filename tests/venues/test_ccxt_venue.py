"""The ccxt adapter against a local binance: real ccxt over loopback, Decimals out, errors by class."""

from __future__ import annotations

import time
from decimal import ROUND_HALF_EVEN, Decimal, getcontext, localcontext

import ccxt
import pytest

from bots.engine.rules import MarketRules
from bots.models import Account, Venue
from bots.simulation.stub_exchanges.binance import RULES, BinanceStub
from bots.venues import venue_for
from bots.venues.ccxt_venue import CcxtVenue
from bots.venues.errors import is_transient

SYMBOL = "BTC/USDT"
D = Decimal


def stub_venue(stub: BinanceStub, credentials: dict | None = None, **options) -> CcxtVenue:
    # Rate limiting only slows the tests down (ccxt waits 50-200 ms between binance calls).
    config = {**stub.ccxt_config(), "enableRateLimit": False, "timeout": 1000, **options}
    if credentials is None:
        credentials = {"apiKey": stub.API_KEY, "secret": stub.SECRET}
    return CcxtVenue.from_settings("binance-stub", "binance", config, credentials)


@pytest.fixture
def stub():
    with BinanceStub(balances={"BTC": "1", "USDT": "10000"}) as stub:
        yield stub


@pytest.fixture
def venue(stub):
    venue = stub_venue(stub)
    venue.load_markets()
    return venue


def posted_orders(stub: BinanceStub) -> list[dict]:
    return [params for method, path, params in stub.requests if (method, path) == ("POST", "/api/v3/order")]


# --- markets and data ---------------------------------------------------------------------


def test_it_loads_the_market_with_decimal_precision_and_limits(stub):
    market = stub_venue(stub).load_markets()[SYMBOL]

    assert market["precision"] == {
        "amount": D("0.00001"), "price": D("0.01"), "base": D("1E-8"), "quote": D("1E-8")
    }
    assert all(isinstance(v, Decimal) for v in market["precision"].values())
    assert market["limits"]["amount"]["min"] == D("0.00001")
    assert market["limits"]["cost"]["min"] == D("5")
    assert MarketRules.from_market(market) == RULES


def test_order_book_levels_are_decimals_best_first(venue, stub):
    for side, price, amount in [
        ("buy", "99.98", "0.3"), ("buy", "99.99", "0.2"), ("sell", "100.02", "0.4"),
        ("sell", "100.01", "0.1"), ("sell", "100.01", "0.15"),
    ]:
        stub.seed_liquidity(side, price, amount)

    book = venue.fetch_order_book(SYMBOL)

    assert book["bids"] == [[D("99.99"), D("0.2")], [D("99.98"), D("0.3")]]
    assert book["asks"] == [[D("100.01"), D("0.25")], [D("100.02"), D("0.4")]]
    assert all(isinstance(n, Decimal) for level in book["bids"] + book["asks"] for n in level)


def test_balance_is_reported_in_decimals(venue, stub):
    balance = venue.fetch_balance()

    assert balance["USDT"] == {"free": D("10000"), "used": D("0"), "total": D("10000")}
    assert balance["free"]["BTC"] == D("1")
    assert isinstance(balance["total"]["BTC"], Decimal)


# --- orders -------------------------------------------------------------------------------


def test_a_limit_order_reaches_the_exchange_exactly_and_is_found_by_client_id(venue, stub):
    order = venue.create_order(
        SYMBOL, "limit", "buy", D("0.00007") * 1000, D("99.51"), {"clientOrderId": "mm-1"}
    )

    sent = posted_orders(stub)[-1]
    assert (sent["quantity"], sent["price"], sent["newClientOrderId"]) == ("0.07", "99.51", "mm-1")
    assert (order["status"], order["amount"], order["price"]) == ("open", D("0.07"), D("99.51"))
    found = venue.fetch_order(None, SYMBOL, {"clientOrderId": "mm-1"})
    assert (found["id"], found["clientOrderId"], found["remaining"]) == (order["id"], "mm-1", D("0.07"))
    assert stub.balance("USDT") == (D("10000") - D("6.9657"), D("6.9657"))


def test_cancel_order_releases_the_hold(venue, stub):
    order = venue.create_order(SYMBOL, "limit", "sell", D("0.5"), D("120"))
    assert venue.fetch_balance()["BTC"]["used"] == D("0.5")

    canceled = venue.cancel_order(order["id"], SYMBOL)

    assert (canceled["id"], canceled["status"]) == (order["id"], "canceled")
    assert venue.fetch_open_orders(SYMBOL) == []
    assert venue.fetch_balance()["BTC"] == {"free": D("1"), "used": D("0"), "total": D("1")}


def test_a_market_buy_fills_and_shows_in_my_trades(venue, stub):
    stub.seed_liquidity("sell", "100.01", "0.05")
    stub.seed_liquidity("sell", "100.02", "1")

    order = venue.create_order(SYMBOL, "market", "buy", D("0.1"), D("999"))

    assert "quoteOrderQty" not in posted_orders(stub)[-1]  # the price of a market order is dropped
    assert (order["status"], order["filled"], order["remaining"]) == ("closed", D("0.1"), D("0"))
    assert order["cost"] == D("0.05") * D("100.01") + D("0.05") * D("100.02")
    trades = venue.fetch_my_trades(SYMBOL)
    assert [(t["order"], t["price"], t["amount"], t["side"]) for t in trades] == [
        (order["id"], D("100.01"), D("0.05"), "buy"), (order["id"], D("100.02"), D("0.05"), "buy")
    ]
    assert trades[0]["fee"] == {"cost": D("0.00005"), "currency": "BTC"}


def test_post_only_is_sent_as_binance_limit_maker(venue, stub):
    order = venue.create_order(SYMBOL, "limit", "buy", D("0.1"), D("99"), {"timeInForce": "PO"})

    sent = posted_orders(stub)[-1]
    assert sent["type"] == "LIMIT_MAKER" and "timeInForce" not in sent
    assert (order["status"], order["postOnly"]) == ("open", True)


def test_an_amount_off_the_step_is_refused_not_truncated(venue, stub):
    with pytest.raises(ccxt.InvalidOrder, match="off the market's precision"):
        venue.create_order(SYMBOL, "limit", "buy", D("0.123456"), D("100"))
    assert posted_orders(stub) == []


def test_the_adapter_does_not_change_the_callers_decimal_context(venue):
    # ccxt's precision helpers set ROUND_HALF_UP on the thread's context.
    with localcontext() as context:
        context.rounding = ROUND_HALF_EVEN
        venue.create_order(SYMBOL, "limit", "buy", D("0.1"), D("99"))
        venue.amount_to_precision(SYMBOL, D("0.123456"))
        assert getcontext().rounding == ROUND_HALF_EVEN


def test_precision_helpers_return_decimals(venue):
    assert venue.amount_to_precision(SYMBOL, D("0.123456")) == D("0.12345")
    assert venue.price_to_precision(SYMBOL, D("100.016")) == D("100.02")


# --- errors, by class ---------------------------------------------------------------------

CALLS = {
    "fetch_order_book": lambda v: v.fetch_order_book(SYMBOL),
    "fetch_balance": lambda v: v.fetch_balance(),
    "create_order": lambda v: v.create_order(SYMBOL, "limit", "buy", D("0.1"), D("99")),
    "cancel_order": lambda v: v.cancel_order("1", SYMBOL),
    "fetch_order": lambda v: v.fetch_order("1", SYMBOL),
    "fetch_open_orders": lambda v: v.fetch_open_orders(SYMBOL),
    "fetch_my_trades": lambda v: v.fetch_my_trades(SYMBOL),
}
FAULTS = {
    "429": (429, None, ccxt.DDoSProtection),
    "418": (418, None, ccxt.DDoSProtection),
    "503": (503, None, ccxt.ExchangeNotAvailable),
    "malformed": (200, '{"bids": [["100.0', ccxt.BadResponse),
}


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("fault", FAULTS)
def test_each_call_raises_the_ccxt_class_of_each_fault(venue, stub, call, fault):
    status, body, error = FAULTS[fault]
    stub.fail_next(status, body)

    with pytest.raises(error) as caught:
        CALLS[call](venue)

    assert type(caught.value) is error
    assert is_transient(caught.value) is (error is not ccxt.BadResponse)


@pytest.mark.parametrize("call", CALLS)
def test_each_call_times_out_as_request_timeout(stub, call):
    venue = stub_venue(stub, timeout=200)
    venue.load_markets()
    stub.delay_next(0.6)

    with pytest.raises(ccxt.RequestTimeout) as caught:
        CALLS[call](venue)

    assert is_transient(caught.value)


def test_an_order_whose_request_timed_out_may_still_exist(stub):
    venue = stub_venue(stub, timeout=200)
    venue.load_markets()
    stub.delay_next(0.5)
    with pytest.raises(ccxt.RequestTimeout):
        venue.create_order(SYMBOL, "limit", "buy", D("0.1"), D("99"), {"clientOrderId": "mm-7"})

    # The stub served the request after the client gave up: a retry must look the order up by
    # its client id before sending it again.
    deadline = time.monotonic() + 5
    while not any(o.client_order_id == "mm-7" for o in list(stub.orders.values())):
        assert time.monotonic() < deadline, "the delayed order never reached the book"
        time.sleep(0.05)
    found = stub_venue(stub).fetch_order(None, SYMBOL, {"clientOrderId": "mm-7"})
    assert (found["status"], found["amount"]) == ("open", D("0.1"))


def test_a_stopped_exchange_is_a_network_error(venue, stub):
    stub.stop()

    with pytest.raises(ccxt.NetworkError) as caught:
        venue.fetch_order_book(SYMBOL)

    assert type(caught.value) is ccxt.NetworkError
    assert is_transient(caught.value)


def test_a_malformed_body_is_a_bad_response_not_an_empty_result(venue, stub):
    stub.fail_next(200, "<html>maintenance</html>")

    with pytest.raises(ccxt.BadResponse, match="not JSON"):
        venue.fetch_balance()  # ccxt alone returns a balance of nothing here


def test_json_of_the_wrong_shape_is_a_bad_response(venue, stub):
    stub.fail_next(200, '{"lastUpdateId": 1, "bids": 5, "asks": []}')

    with pytest.raises(ccxt.BadResponse, match="malformed answer to fetch_order_book: TypeError"):
        venue.fetch_order_book(SYMBOL)


def test_an_order_larger_than_the_balance_is_insufficient_funds(venue, stub):
    with pytest.raises(ccxt.InsufficientFunds) as caught:
        venue.create_order(SYMBOL, "limit", "sell", D("2"), D("100"))

    assert not is_transient(caught.value)
    assert stub.balance("BTC") == (D("1"), D("0"))


@pytest.mark.parametrize(
    ("amount", "price"), [(D("0.000001"), D("100")), (D("0.0001"), D("100"))], ids=["amount", "cost"]
)
def test_an_order_below_the_minimums_is_refused_before_sending(venue, stub, amount, price):
    with pytest.raises(ccxt.InvalidOrder) as caught:
        venue.create_order(SYMBOL, "limit", "buy", amount, price)

    assert not is_transient(caught.value)
    assert posted_orders(stub) == []


def test_a_market_order_below_the_notional_is_binances_bad_request(venue, stub):
    # A market order has no price to check here, so binance judges it: -1013 NOTIONAL, which
    # ccxt maps to BadRequest, not InvalidOrder.
    stub.seed_liquidity("sell", "100", "1")

    with pytest.raises(ccxt.BadRequest, match="NOTIONAL") as caught:
        venue.create_order(SYMBOL, "market", "buy", D("0.0001"))

    assert not isinstance(caught.value, ccxt.InvalidOrder) and not is_transient(caught.value)


def test_post_only_that_would_take_is_order_immediately_fillable(venue, stub):
    stub.seed_liquidity("sell", "100", "1")

    with pytest.raises(ccxt.OrderImmediatelyFillable):
        venue.create_order(SYMBOL, "limit", "buy", D("0.1"), D("100"), {"postOnly": True})

    assert venue.fetch_open_orders(SYMBOL) == []


def test_cancel_of_an_unknown_order_is_order_not_found(venue):
    with pytest.raises(ccxt.OrderNotFound):
        venue.cancel_order("424242", SYMBOL)


@pytest.mark.parametrize(
    ("credentials", "message"),
    [
        ({}, 'requires "apiKey"'),  # ccxt refuses before sending
        ({"apiKey": "someone-else", "secret": "x"}, "-2015"),
        ({"apiKey": BinanceStub.API_KEY, "secret": "wrong"}, "-1022"),
    ],
    ids=["missing", "unknown-key", "wrong-secret"],
)
def test_bad_credentials_are_an_authentication_error(stub, credentials, message):
    venue = stub_venue(stub, credentials=credentials)

    with pytest.raises(ccxt.AuthenticationError, match=message) as caught:
        venue.fetch_balance()

    assert not is_transient(caught.value)


# --- construction -------------------------------------------------------------------------


@pytest.mark.parametrize("exchange_id", ["kraken", "okx", "hollaex"])
def test_it_builds_a_client_for_any_ccxt_exchange_from_an_account(exchange_id):
    venue_row = Venue(name="x", label="X", kind=Venue.CCXT, exchange_id=exchange_id,
                      options={"timeout": 3000, "options": {"defaultType": "spot"}})
    account = Account(venue=venue_row, name="mm", role=Account.MARKET_MAKING)
    account.set_credentials("key", "secret", "passphrase")

    venue = CcxtVenue(account)

    assert (venue.id, venue.client.id) == ("x", exchange_id)
    assert (venue.client.apiKey, venue.client.secret, venue.client.password) == (
        "key", "secret", "passphrase"
    )
    # ccxt's pacing knows only its process: the budget shared through Redis paces instead.
    assert venue.client.timeout == 3000 and venue.client.enableRateLimit is False
    assert venue.client.options["defaultType"] == "spot"
    assert venue.client.options["adjustForTimeDifference"] is True


@pytest.mark.parametrize("exchange_id", ["nosuchexchange", "Exchange", ""])
def test_an_unknown_exchange_id_is_a_clear_error(exchange_id):
    with pytest.raises(ccxt.BadRequest, match=f"{exchange_id!r} is not a ccxt exchange id"):
        CcxtVenue.from_settings("mystery", exchange_id)


def test_venue_for_picks_the_implementation_by_kind():
    from bots.venues.paper import PaperVenue  # here, so the adapter's tests need no paper venue

    ccxt_account = Account(venue=Venue(name="b", kind=Venue.CCXT, exchange_id="binance"))
    paper_account = Account(venue=Venue(name="p", kind=Venue.PAPER))

    assert isinstance(venue_for(ccxt_account), CcxtVenue)
    assert isinstance(venue_for(paper_account), PaperVenue)
