"""2,000 fills hedged through a paper venue that fails 10% of the time, in process.

The hedge venues time out after accepting orders, answer 429 and 5xx, fill IOCs only in part,
refuse with errors ccxt cannot classify, and go down for a while. After the sweeper has run,
every fill is hedged, no hedge order reached a venue twice, and every account's balance on the
venues equals what Ballast's records say to the last unit.
"""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from bots.engine.rules import MarketRules
from bots.market_making import operator_commands
from bots.models import Fill, Hedge, HedgeCover, HedgeOrder, PaperMarket
from bots.platform import events
from bots.venues import faults, venue_for
from tests.support.hedging_world import (
    DEEP,
    Driver,
    add_hedge_venue,
    assert_balances_equal_records,
    assert_no_hedge_order_sent_twice,
    fund,
    refresh_outside,
    rest_mm_quotes,
    set_faults,
    starting_balances,
    user_fills,
)

# Committed as in production: inside one test transaction PostgreSQL keeps every version of
# the few balance rows updated thousands of times, and the run slows down quadratically.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("drills")]

FILLS, BATCH = 2000, 20
# About 10% of the calls to the hedge venues fail: 7% of every call, 6% more of the orders, and
# outages that start at 0.2% of calls and fail the 10 calls after too.
RATES = {
    "timeout": 0.02,
    "rate_limit": 0.025,
    "unavailable": 0.023,
    "outage": 0.002,
    "timeout_after_accept": 0.02,
    "partial": 0.02,
    "reject": 0.01,
    "invalid": 0.0,
}


@pytest.fixture
def quick_commits():
    """Durability is not under test: PostgreSQL need not flush its log at each of ~20,000 commits."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")


def test_every_fill_is_hedged_once_and_the_books_balance(demo_market, quick_commits, monkeypatch):
    market = demo_market
    # The in-process driver is the only worker: no push to the suite's shared one.
    monkeypatch.setattr(events.trades_made, "receivers", [])
    # The hedge venues' minimum order is 10 USDT: the smallest user trades cannot be hedged alone.
    PaperMarket.objects.filter(venue__name="external").update(min_cost=Decimal("10"))
    add_hedge_venue(market, "external-b", taker_fee="0.0008", min_cost="10")
    for account in (market.mm_account, market.hedge_account):
        fund(account, DEEP)
    refresh_outside(1)
    rest_mm_quotes(market)
    accounts = [market.mm_account, *market.hedge_accounts()]
    start = starting_balances(accounts)
    faults.reset()
    set_faults("external", RATES, seed=11, outage_calls=10)
    set_faults("external-b", RATES, seed=12, outage_calls=10)

    driver, rng = Driver(max_retries=2), random.Random(2024)
    for batch in range(FILLS // BATCH):
        if batch % 10 == 0:
            refresh_outside(2 + batch // 10)  # a deep book: every 200 fills is often enough
        for hedge in user_fills(market, rng, BATCH, small_share=0.05):
            driver.push(hedge.pk)
        driver.drain()

    drawn = faults.counts()
    assert Fill.objects.count() == FILLS
    # The injection really happened, every kind of it, on about a tenth of the calls.
    assert all(drawn[kind] > 0 for kind, rate in RATES.items() if rate), drawn
    failed = sum(drawn[kind] for kind in RATES) + drawn["down"]
    assert 0.08 < failed / drawn["calls"] < 0.13, drawn
    assert driver.dropped > 0  # some hedges ran out of task retries: only the sweeper saves them

    set_faults("external", None)
    set_faults("external-b", None)
    for _ in range(3):
        driver.sweep()
    # A hedge whose ladder ran out or that kept failing unclassified is an operator's: retry it.
    for hedge in Hedge.objects.filter(state=Hedge.FAILED):
        assert "ladder exhausted" in hedge.error or "unclassified" in hedge.error, hedge.error
        operator_commands.retry_hedge(hedge.pk, actor="test")
        driver.push(hedge.pk)
    driver.drain()

    # Every fill is hedged: filled exactly, or waiting in a pending position too small to trade.
    states = dict.fromkeys(Hedge.objects.values_list("state", flat=True))
    assert set(states) <= {Hedge.FILLED, Hedge.WAITING}, states
    for hedge in Hedge.objects.filter(state=Hedge.FILLED):
        assert hedge.filled == hedge.amount
    waiting = list(Hedge.objects.filter(state=Hedge.WAITING))
    if waiting:
        assert len({h.side for h in waiting}) == 1
        rules = MarketRules.from_market(venue_for(market.hedge_account).market("BTC/USDT"))
        assert not rules.is_tradable(rules.round_amount(sum(h.remaining for h in waiting)), Decimal("70000"))
    # What each order filled was shared out exactly, and no order reached a venue twice.
    for order in HedgeOrder.objects.filter(state=HedgeOrder.DONE, filled__gt=0):
        assert sum(c.amount for c in order.covers.all()) == order.filled
    assert HedgeCover.objects.filter(kind=HedgeCover.NETTED).exists()
    assert_no_hedge_order_sent_twice(market)
    assert_balances_equal_records(market, start)
    # Both venues took hedges: routing spread them by price and health.
    assert {o.account_id for o in HedgeOrder.objects.filter(filled__gt=0)} == {a.pk for a in accounts[1:]}
