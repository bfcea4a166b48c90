"""The paper venue answers for an order that filled with its trades (bots/venues/paper_store.py:
order_trades; a tick's open orders that part filled ask for it every tick): the database finds
them through an index on the venue and the order id, not by reading every trade the venue ever
made, which grows with every fill and hedge. On SQLite and on PostgreSQL, by the query plan."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from bots.models import PaperTrade
from bots.venues import paper_store
from tests.support.query_plans import analyze, index_conditions, indexes_of, plan_of

pytestmark = pytest.mark.django_db


def test_an_orders_trades_are_found_by_venue_and_order_id(demo_market):
    account = demo_market.mm_account
    PaperTrade.objects.bulk_create(
        PaperTrade(venue=account.venue, symbol="BTC/USDT", trade_id=f"t{n}", order_id=f"o{n}",
                   account=account, side="buy", price=D("65000"), amount=D("0.01"), cost=D("650"),
                   fee=D("0.00001"), fee_currency="BTC", taker_or_maker="maker", timestamp=n)
        for n in range(3000)
    )  # a venue that has traded for a while
    analyze()

    plan = plan_of(lambda: paper_store.order_trades(account.venue_id, ["o101", "o102"]), "bots_papertrade")

    of_trades = indexes_of("bots_papertrade")
    trades = [c for index, c in index_conditions(plan) if index in of_trades]
    assert trades and all("order_id" in c and "venue_id" in c for c in trades), plan
