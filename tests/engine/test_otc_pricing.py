"""A broker quote's price: the hedge venue's volume-weighted price for the size plus the spread,
never beyond the hedge floor, rounded away from the user; and when it still stands."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from bots.engine.market_making.hedge_floor import HedgeFloor, HedgeVenue
from bots.engine.otc import pricing
from bots.engine.otc.pricing import BrokerTerms, Priced, Refusal
from bots.engine.rules import BUY, SELL, MarketRules

RULES = MarketRules("B/Q", "B", "Q", D("0.01"), D("0.001"), min_amount=D("0.001"), maker_fee=D("0.001"))
TERMS = BrokerTerms(spread_bps=D("30"), max_amount=D("5"), daily_limit=D("1000"), tolerance_bps=D("10"))
# Two levels a side: the second 1% out, so a size past the first level costs more per unit.
THIN = HedgeVenue(
    "thin", [(D("99.9"), D("1")), (D("98.9"), D("10"))], [(D("100.1"), D("1")), (D("101.1"), D("10"))],
    D("0.001"), D("100"), D("100000"),
)


def floor(*venues, buffer="0") -> HedgeFloor:
    return HedgeFloor(list(venues or [THIN]), RULES.maker_fee, D(buffer))


def test_the_price_walks_the_book_for_the_size():
    one = pricing.price(floor(), BUY, D("1"), TERMS, RULES)
    two = pricing.price(floor(), BUY, D("2"), TERMS, RULES)
    assert isinstance(one, Priced) and isinstance(two, Priced)
    assert one.reference == D("100.1") and two.reference == D("100.6")  # (100.1 + 101.1) / 2
    assert two.price > one.price
    assert one.venue == "thin"


def test_a_thin_spread_is_held_at_the_hedge_floor():
    terms = BrokerTerms(D("0"), D("5"), D("1000"), D("10"))
    priced = pricing.price(floor(buffer="5"), BUY, D("1"), terms, RULES)
    assert priced.price >= priced.floor > priced.reference  # taker and maker fee and buffer
    sold = pricing.price(floor(buffer="5"), SELL, D("1"), terms, RULES)
    assert sold.price <= sold.floor < sold.reference


def test_no_venue_deep_enough_means_no_quote():
    refused = pricing.price(floor(), BUY, D("12"), TERMS, RULES)
    assert isinstance(refused, Refusal) and refused.code == "no_liquidity"


def test_requests_outside_the_limits_are_refused_before_pricing():
    assert pricing.check_request("hold", D("1"), TERMS, RULES).code == "bad_side"
    assert pricing.check_request(BUY, D("0"), TERMS, RULES).code == "bad_amount"
    assert pricing.check_request(BUY, D("0.0001"), TERMS, RULES).code == "bad_amount"
    assert pricing.check_request(BUY, D("6"), TERMS, RULES).message == "amount is over this market's limit of 5 a quote"
    assert pricing.check_request(SELL, D("5"), TERMS, RULES) is None


def test_the_daily_limit_counts_what_was_used():
    assert pricing.over_daily_limit(D("900"), D("100"), TERMS) is None
    over = pricing.over_daily_limit(D("900"), D("100.01"), TERMS)
    assert over.code == "over_daily_limit" and "100 of 1000" in over.message


def test_acceptance_within_and_beyond_the_tolerance():
    quoted = pricing.price(floor(), BUY, D("1"), TERMS, RULES)
    up_5bps = HedgeVenue("thin", THIN.bids, [(D("100.15"), D("1")), (D("101.1"), D("10"))], THIN.taker_fee, D("100"), D("100000"))
    fresh = floor(up_5bps)
    assert pricing.accept(quoted.price, pricing.price(fresh, BUY, D("1"), TERMS, RULES), fresh, BUY, D("1"), TERMS) is None
    up_20bps = HedgeVenue("thin", THIN.bids, [(D("100.3"), D("1")), (D("101.1"), D("10"))], THIN.taker_fee, D("100"), D("100000"))
    fresh = floor(up_20bps)
    moved = pricing.accept(quoted.price, pricing.price(fresh, BUY, D("1"), TERMS, RULES), fresh, BUY, D("1"), TERMS)
    assert moved.code == "price_moved" and "tolerance is 10 bps" in moved.message


prices = st.decimals(min_value=D("1"), max_value=D("100000"), places=2)
sizes = st.decimals(min_value=D("0.001"), max_value=D("5"), places=3)
bps = st.decimals(min_value=D("0"), max_value=D("200"), places=1)


@given(best=prices, gap=st.decimals(min_value=D("0.01"), max_value=D("50"), places=2), size=sizes,
       spread=bps, buffer=bps, taker=st.decimals(min_value=D("0"), max_value=D("0.005"), places=4))
def test_a_quote_never_lets_the_hedge_lose(best, gap, size, spread, buffer, taker):
    venue = HedgeVenue(
        "v", [(best, D("2")), (best - gap / 2, D("10"))], [(best + gap, D("2")), (best + 2 * gap, D("10"))],
        taker, D("1e6"), D("1e12"),
    )
    terms = BrokerTerms(spread, D("5"), D("1e15"), D("10"))
    hedge = floor(venue, buffer=str(buffer))
    for side in (BUY, SELL):
        priced = pricing.price(hedge, side, size, terms, RULES)
        if isinstance(priced, Refusal):
            continue
        # The hedge floor holds, and the quote is the book's price moved by at least the spread.
        assert hedge.respects(pricing.desk_side(side), priced.price, D(0), size)
        assert pricing.accept(priced.price, priced, hedge, side, size, terms) is None
        if side == BUY:
            assert priced.price >= priced.reference * (1 + spread / 10000)
        else:
            assert priced.price <= priced.reference * (1 - spread / 10000)
        assert priced.price % RULES.price_tick == 0
