"""A tick records its cancels by the venue's order ids (bots/market_making/quoter.py:
by_exchange_ids): the database finds those rows through an index on the account and the venue's
order id, not by reading every order the account ever placed, which grows by some 28,000 an
hour in the demo and made each tick slower the longer the desk ran. On SQLite and on PostgreSQL,
by the query plan."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from bots.market_making.quoter import by_exchange_ids
from bots.models import Order
from tests.support.query_plans import analyze, index_conditions, indexes_of, plan_of

pytestmark = pytest.mark.django_db


def test_the_cancelled_orders_are_found_by_account_and_venue_order_id(demo_market):
    account = demo_market.mm_account
    Order.objects.bulk_create(
        Order(account=account, market=demo_market, client_order_id=f"past-{n}", exchange_order_id=str(n),
              side="buy", price=D("64000"), amount=D("0.1"), state=Order.CANCELED)
        for n in range(3000)
    )  # an account that has quoted for a while
    analyze()

    plan = plan_of(lambda: by_exchange_ids(account.pk, ["101", "102"]).update(error="x"), "bots_order")

    of_orders = indexes_of("bots_order")
    found = [c for index, c in index_conditions(plan) if index in of_orders]
    assert found and all("exchange_order_id" in c and "account_id" in c for c in found), plan
