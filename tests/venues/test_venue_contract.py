"""The contract every venue implementation passes: the same cases, the same answers, paper and ccxt.

"paper" is PaperVenue on the test database; "ccxt" is CcxtVenue driving real ccxt against the
local binance stub; "hollaex" is CcxtVenue driving ccxt's hollaex class against the local HollaEx
Kit stub. All start the bot with 1 BTC and 10,000 USDT on a BTC/USDT market with tick 0.01, step
0.00001, minimum amount 0.00001 and fees of 0.1%; paper and binance also have a minimum value of
5, hollaex none.

Where HollaEx gives less, the contract holds the promise Ballast's adapter gives instead: its
orders carry no client order id (`client_order_ids` is False, a lookup by one is NotSupported)
and are found by what was sent (bots/venues/order_lookup.py); its trades carry no id and get one
derived from their fields (bots/venues/fill_identity.py); it has no IOC, which the adapter
emulates by cancelling the rest at once; its post-only refusal arrives as OrderImmediatelyFillable.

Their orders and trades are held to ccxt's own parse of Binance's documented answers
(tests/fixtures/binance_spot.json): the same keys, the same datetime format, the same types, so
the paper venue cannot drift from what a real exchange through ccxt returns.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from functools import partial
from pathlib import Path

import ccxt
import pytest

from bots.simulation.stub_exchanges.binance import BinanceStub
from bots.simulation.stub_exchanges.hollaex import HollaExStub
from bots.venues import at_once
from bots.venues.ccxt_venue import CcxtVenue, to_decimals
from bots.venues.order_lookup import find_order
from tests.support.venue_contract import BOT_FUNDS, SYMBOL, balance, ccxt_contract, paper_contract

D = Decimal


# The paper case is marked for the database (not asked for with getfixturevalue inside the
# fixture), so pytest-django builds the test database even when this file runs alone.
@pytest.fixture(params=[pytest.param("paper", marks=pytest.mark.django_db), "ccxt", "hollaex"])
def contract(request):
    if request.param == "paper":
        yield paper_contract()
        return
    if request.param == "ccxt":
        with BinanceStub(balances=BOT_FUNDS) as stub:
            yield ccxt_contract(stub, "binance-stub", "binance", "999999999")
        return
    with HollaExStub(balances=BOT_FUNDS) as stub:
        yield ccxt_contract(stub, "hollaex-stub", "hollaex", "00000000-0000-4000-8000-000000000000")


def minimum_value(venue):
    return venue.market(SYMBOL)["limits"]["cost"]["min"]


def test_markets_have_the_symbol_with_decimal_rules(contract):
    market = contract.venue.load_markets()[SYMBOL]

    assert (market["symbol"], market["base"], market["quote"]) == (SYMBOL, "BTC", "USDT")
    assert market["precision"]["price"] == D("0.01")
    assert market["precision"]["amount"] == D("0.00001")
    assert isinstance(market["precision"]["price"], Decimal)
    assert minimum_value(contract.venue) == (None if contract.venue.id == "hollaex-stub" else D("5"))


def test_order_book_is_sorted_best_first_with_bid_below_ask(contract):
    for side, price in [("buy", "99.98"), ("sell", "100.02"), ("buy", "99.99"), ("sell", "100.01")]:
        contract.seed_liquidity(side, price, "0.1")

    book = contract.venue.fetch_order_book(SYMBOL)

    bids, asks = [p for p, _ in book["bids"]], [p for p, _ in book["asks"]]
    assert bids == [D("99.99"), D("99.98")] and asks == [D("100.01"), D("100.02")]
    assert bids[0] < asks[0]
    assert all(isinstance(a, Decimal) and a == D("0.1") for _, a in book["bids"] + book["asks"])


def test_a_resting_limit_order_holds_funds_and_is_found_by_both_ids(contract):
    """By its id, and by its client order id where the venue keeps one; where not, by what was
    sent (side, price, amount, time), and asking by client order id is NotSupported."""
    venue = contract.venue
    sent_at = contract.stub.clock() if contract.stub else None
    order = venue.create_order(SYMBOL, "limit", "buy", D("0.1"), D("99"), {"clientOrderId": "c-1"})

    assert (order["status"], order["filled"], order["remaining"]) == ("open", D("0"), D("0.1"))
    assert [o["id"] for o in venue.fetch_open_orders(SYMBOL)] == [order["id"]]
    by_id = venue.fetch_order(order["id"], SYMBOL)
    if venue.client_order_ids:
        client_id = "c-1"
        by_client_id = venue.fetch_order(None, SYMBOL, {"clientOrderId": "c-1"})
    else:
        client_id = None
        with pytest.raises(ccxt.NotSupported):
            venue.fetch_order(None, SYMBOL, {"clientOrderId": "c-1"})
        by_client_id = find_order(venue, SYMBOL, client_order_id="c-1", side="buy",
                                  amount=D("0.1"), price=D("99"), sent_at_ms=sent_at)
    for found in (by_id, by_client_id):
        assert (found["id"], found["clientOrderId"], found["status"]) == (order["id"], client_id, "open")
        assert (found["side"], found["price"], found["amount"]) == ("buy", D("99"), D("0.1"))
    assert balance(venue, "USDT") == (D("10000") - D("9.9"), D("9.9"))


def test_cancel_marks_the_order_canceled_and_frees_its_funds(contract):
    venue = contract.venue
    order = venue.create_order(SYMBOL, "limit", "sell", D("0.25"), D("150"))
    assert balance(venue, "BTC") == (D("0.75"), D("0.25"))

    canceled = venue.cancel_order(order["id"], SYMBOL)

    assert (canceled["id"], canceled["status"]) == (order["id"], "canceled")
    assert venue.fetch_order(order["id"], SYMBOL)["status"] == "canceled"
    assert venue.fetch_open_orders(SYMBOL) == []
    assert balance(venue, "BTC") == (D("1"), D("0"))


def test_a_market_buy_fills_against_resting_asks_and_reports_its_trade(contract):
    venue = contract.venue
    contract.seed_liquidity("sell", "100", "0.5")

    order = venue.create_order(SYMBOL, "market", "buy", D("0.1"))

    assert (order["status"], order["filled"], order["amount"]) == ("closed", D("0.1"), D("0.1"))
    assert order["remaining"] == 0
    [trade] = venue.fetch_my_trades(SYMBOL)
    assert (trade["order"], trade["side"], trade["price"], trade["amount"]) == (
        order["id"], "buy", D("100"), D("0.1")
    )
    assert isinstance(trade["price"], Decimal) and isinstance(trade["amount"], Decimal)
    assert trade["fee"]["cost"] == D("0.0001") and trade["fee"]["currency"] == "BTC"
    assert balance(venue, "BTC")[0] == D("1") + D("0.1") - D("0.0001")
    assert balance(venue, "USDT") == (D("10000") - D("10"), D("0"))


def test_an_ioc_limit_that_cannot_fully_fill_leaves_nothing_resting(contract):
    venue = contract.venue
    contract.seed_liquidity("sell", "100", "0.06")

    order = venue.create_order(SYMBOL, "limit", "buy", D("0.1"), D("100"), {"timeInForce": "IOC"})

    assert (order["filled"], order["remaining"]) == (D("0.06"), D("0.04"))
    assert order["status"] != "open"
    assert venue.fetch_open_orders(SYMBOL) == []
    assert balance(venue, "USDT") == (D("10000") - D("6"), D("0"))


@pytest.mark.parametrize("params", [{"timeInForce": "PO"}, {"postOnly": True}], ids=["PO", "postOnly"])
def test_post_only_rests_when_it_makes_and_is_refused_when_it_would_take(contract, params):
    venue = contract.venue
    contract.seed_liquidity("sell", "100", "1")

    resting = venue.create_order(SYMBOL, "limit", "buy", D("0.1"), D("99.99"), params)
    with pytest.raises(ccxt.InvalidOrder) as caught:
        venue.create_order(SYMBOL, "limit", "buy", D("0.1"), D("100"), params)

    assert isinstance(caught.value, ccxt.OrderImmediatelyFillable)
    assert resting["status"] == "open"
    assert [o["id"] for o in venue.fetch_open_orders(SYMBOL)] == [resting["id"]]


@pytest.mark.parametrize(
    ("amount", "price"), [(D("0.000001"), D("100")), (D("0.0001"), D("100"))], ids=["amount", "cost"]
)
def test_an_order_below_the_minimums_is_invalid(contract, amount, price):
    if amount >= D("0.00001") and minimum_value(contract.venue) is None:
        # A venue without a minimum order value (HollaEx) takes an order the others refuse
        # for its cost alone: it rests, and holds what it costs.
        resting = contract.venue.create_order(SYMBOL, "limit", "buy", amount, price)
        assert [o["id"] for o in contract.venue.fetch_open_orders(SYMBOL)] == [resting["id"]]
        assert balance(contract.venue, "USDT") == (D("10000") - amount * price, amount * price)
        return
    with pytest.raises(ccxt.InvalidOrder):
        contract.venue.create_order(SYMBOL, "limit", "buy", amount, price)

    assert contract.venue.fetch_open_orders(SYMBOL) == []
    assert balance(contract.venue, "USDT") == (D("10000"), D("0"))


@pytest.mark.parametrize(
    ("side", "amount", "price"), [("buy", D("0.2"), D("60000")), ("sell", D("1.5"), D("100"))]
)
def test_an_order_larger_than_the_balance_is_insufficient_funds(contract, side, amount, price):
    with pytest.raises(ccxt.InsufficientFunds):
        contract.venue.create_order(SYMBOL, "limit", side, amount, price)

    assert balance(contract.venue, "BTC") == (D("1"), D("0"))
    assert balance(contract.venue, "USDT") == (D("10000"), D("0"))


def test_orders_sent_at_once_are_each_answered_as_sent_and_cancelled_at_once(contract):
    """As many at once as the venue says it takes (a tick's places and cancels, bots/venues/
    at_once.py): each answer is its own order's, none is lost or doubled."""
    venue = contract.venue
    width = venue.requests_at_once
    assert isinstance(width, int) and width >= 1
    prices = [D("90") + i for i in range(8)]
    sends = [partial(venue.create_order, SYMBOL, "limit", "buy", D("0.1"), price, {"clientOrderId": f"w-{i}"})
             for i, price in enumerate(prices)]

    placed = at_once.each(width, sends)

    assert [(o["price"], o["amount"], o["status"]) for o in placed] == [(p, D("0.1"), "open") for p in prices]
    assert len({o["id"] for o in placed}) == 8
    assert {o["id"] for o in venue.fetch_open_orders(SYMBOL)} == {o["id"] for o in placed}
    assert balance(venue, "USDT")[1] == sum(prices) * D("0.1")

    cancelled = at_once.each(width, [partial(venue.cancel_order, o["id"], SYMBOL) for o in placed])

    assert [(o["id"], o["status"]) for o in cancelled] == [(o["id"], "canceled") for o in placed]
    assert venue.fetch_open_orders(SYMBOL) == []
    assert balance(venue, "USDT") == (D("10000"), D("0"))


def test_cancel_of_an_unknown_order_is_order_not_found(contract):
    with pytest.raises(ccxt.OrderNotFound):
        contract.venue.cancel_order(contract.unknown_order_id, SYMBOL)


# --- the shapes: ccxt's parse of Binance's documented answers --------------------------------

DOCUMENTED = json.loads((Path(__file__).parents[1] / "fixtures" / "binance_spot.json").read_text())
CCXT_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
# Keys a venue's trade may carry beyond ccxt's structure: the order's client id, which some
# exchanges' trades have and reconciliation reads when it is there.
TRADE_EXTRAS = {"clientOrderId"}


def ccxt_parse() -> dict[str, dict]:
    """ccxt's binance class parsing the documented answers, as CcxtVenue hands them on."""
    exchange = ccxt.binance()
    exchange.set_markets([
        {"id": base + quote, "symbol": f"{base}/{quote}", "base": base, "quote": quote,
         "baseId": base, "quoteId": quote, "type": "spot", "spot": True, "margin": False,
         "swap": False, "future": False, "option": False, "contract": False, "linear": None,
         "inverse": None, "active": True, "precision": {}, "limits": {}, "info": {}}
        for base, quote in (("LTC", "BTC"), ("BTC", "USDT"), ("BNB", "BTC"))
    ])
    return {
        "order_open": to_decimals(exchange.parse_order(DOCUMENTED["order_open"]["answer"])),
        "order_filled": to_decimals(exchange.parse_order(DOCUMENTED["order_filled"]["answer"])),
        "trade": to_decimals(exchange.parse_trade(DOCUMENTED["trade"]["answer"])),
    }


REFERENCE = ccxt_parse()


def assert_shaped_like(
    found: dict, reference: dict, extras: set[str] = frozenset(), where="", strict=True
):
    """The same keys (plus `extras`), ccxt's datetime format, and per key the same type wherever
    the reference has a value; lists of dicts element by element, dicts key by key. Not
    `strict`: a value may be None where the reference has one (a real exchange's answer may
    lack it, as binance's order lookup lacks the fills)."""
    assert set(found) - set(extras) == set(reference), (
        f"{where}: missing {sorted(set(reference) - set(found))}, "
        f"extra {sorted(set(found) - set(reference) - set(extras))}"
    )
    if "datetime" in reference and (strict or found["datetime"] is not None):
        assert CCXT_DATETIME.match(found["datetime"]), f"{where}: {found['datetime']!r}"
    for key, expected in reference.items():
        value = found[key]
        if expected is None or key == "info" or (value is None and not strict):
            continue
        assert type(value) is type(expected), f"{where}.{key}: {value!r} against {expected!r}"
        if isinstance(expected, dict):
            assert_shaped_like(value, expected, where=f"{where}.{key}", strict=strict)
        elif isinstance(expected, list) and expected and (value or strict):
            assert value, f"{where}.{key} is empty where ccxt's has {len(expected)}"
            inner = TRADE_EXTRAS if key == "trades" else set()
            for item in value:
                assert_shaped_like(item, expected[0], inner, f"{where}.{key}[]", strict)


def test_the_documented_answers_parse_into_what_the_shapes_expect():
    open_, filled, trade = REFERENCE["order_open"], REFERENCE["order_filled"], REFERENCE["trade"]
    assert (open_["status"], open_["lastTradeTimestamp"], open_["trades"]) == ("open", None, [])
    assert filled["status"] == "closed" and len(filled["trades"]) == 5
    assert filled["lastTradeTimestamp"] == 1507725176595
    assert trade["datetime"] == "2017-07-12T13:19:09.590Z"
    assert isinstance(trade["amount"], Decimal)


def test_orders_and_trades_have_ccxts_keys_formats_and_types(contract):
    venue = contract.venue
    # The paper venue promises every value ccxt's parse has; through ccxt, binance's own
    # answers decide (its order lookup carries no fills, its fills no time).
    strict = not isinstance(venue, CcxtVenue)
    contract.seed_liquidity("sell", "100", "0.5")
    resting = venue.create_order(SYMBOL, "limit", "buy", D("0.1"), D("99"), {"clientOrderId": "c-2"})
    filled = venue.create_order(SYMBOL, "market", "buy", D("0.1"), None, {"clientOrderId": "c-4"})

    for where, found in [
        ("resting", resting),
        ("fetch_order(resting)", venue.fetch_order(resting["id"], SYMBOL)),
        ("fetch_open_orders", venue.fetch_open_orders(SYMBOL)[0]),
    ]:
        assert_shaped_like(found, REFERENCE["order_open"], where=where, strict=strict)
    assert_shaped_like(filled, REFERENCE["order_filled"], where="filled", strict=strict)
    [trade] = venue.fetch_my_trades(SYMBOL)
    assert_shaped_like(trade, REFERENCE["trade"], TRADE_EXTRAS, "fetch_my_trades", strict)
    if filled["lastTradeTimestamp"] is not None or filled["trades"]:
        # Where the venue's order answer carries its trades (hollaex's carries none).
        assert filled["lastTradeTimestamp"] == trade["timestamp"]
        assert [t["price"] for t in filled["trades"]] == [trade["price"]]
    assert trade["id"] is not None and trade["order"] == filled["id"]
    canceled = venue.cancel_order(resting["id"], SYMBOL)
    assert set(canceled) == set(REFERENCE["order_open"])


@pytest.fixture
def paper(db):
    return paper_contract()


def test_a_paper_trade_says_its_orders_type(paper):
    from bots.models import Account
    from bots.venues.paper import PaperVenue

    paper.seed_liquidity("sell", "100", "0.1")
    paper.venue.create_order(SYMBOL, "market", "buy", D("0.1"))  # takes the whole ask
    paper.venue.create_order(SYMBOL, "limit", "sell", D("0.1"), D("101"))
    PaperVenue(Account.objects.get(name="outside")).create_order(SYMBOL, "market", "buy", D("0.1"))

    assert [t["type"] for t in paper.venue.fetch_my_trades(SYMBOL)] == ["market", "limit"]


def test_a_filled_paper_order_looked_up_later_carries_its_trades(paper):
    paper.seed_liquidity("sell", "100", "0.5")
    venue = paper.venue
    order = venue.create_order(SYMBOL, "limit", "buy", D("0.1"), D("100"), {"clientOrderId": "c-3"})

    found = venue.fetch_order(order["id"], SYMBOL)

    assert found["status"] == "closed" and found["lastTradeTimestamp"] is not None
    assert_shaped_like(found, REFERENCE["order_filled"], where="fetch_order(filled)")
    assert [t["amount"] for t in found["trades"]] == [D("0.1")]
    assert found["trades"][0]["type"] == "limit"


def test_a_paper_refusal_names_the_step_as_people_write_it(paper):
    with pytest.raises(ccxt.InvalidOrder) as refused:
        paper.venue.create_order(SYMBOL, "limit", "buy", D("0.000015"), D("100"))
    with pytest.raises(ccxt.InvalidOrder) as off_tick:
        paper.venue.create_order(SYMBOL, "limit", "buy", D("0.1"), D("100.005"))

    assert str(refused.value) == "amount 0.000015 is not a positive multiple of 0.00001"
    assert str(off_tick.value) == "price 100.005 is not a positive multiple of 0.01"


def test_my_trades_without_since_are_the_newest_oldest_first(contract):
    venue = contract.venue
    contract.seed_liquidity("sell", "100", "1")
    ids = [venue.create_order(SYMBOL, "market", "buy", D(a))["id"] for a in ("0.1", "0.2", "0.3")]

    newest = venue.fetch_my_trades(SYMBOL, limit=2)
    everything = venue.fetch_my_trades(SYMBOL)

    assert [t["order"] for t in newest] == ids[1:]
    assert [t["order"] for t in everything] == ids
    assert [t["order"] for t in venue.fetch_my_trades(SYMBOL, everything[0]["timestamp"], 1)] == ids[:1]


def test_cancel_all_orders_after_is_there_where_has_says_so(contract):
    """The dead man's switch, ccxt's way: arming and disarming it leave the orders resting (its
    expiry is the paper venue's own test); a venue without one says NotSupported."""
    venue = contract.venue
    order = venue.create_order(SYMBOL, "limit", "buy", D("0.1"), D("99"))

    if venue.has.get("cancelAllOrdersAfter"):
        armed = venue.cancel_all_orders_after(60_000)
        disarmed = venue.cancel_all_orders_after(0)
        assert isinstance(armed, dict) and isinstance(disarmed, dict)
    else:
        with pytest.raises(ccxt.NotSupported):
            venue.cancel_all_orders_after(60_000)

    assert [o["id"] for o in venue.fetch_open_orders(SYMBOL)] == [order["id"]]


def test_the_deposit_address_is_the_accounts_own_for_the_asset_and_network(contract):
    """ccxt's address structure, for the network asked; the one the exchange says it is."""
    found = contract.venue.fetch_deposit_address("BTC", {"network": "BTC"})

    assert set(found) >= {"info", "currency", "network", "address", "tag"}
    assert found["currency"] == "BTC" and found["network"] in (None, "BTC")
    assert isinstance(found["address"], str) and found["address"]
    assert found["tag"] is None
    if contract.stub is not None:  # the (address, tag) the exchange behind it holds
        assert (found["address"], "") in contract.stub.deposit_addresses.values()
