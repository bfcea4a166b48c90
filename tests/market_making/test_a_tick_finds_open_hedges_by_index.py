"""Each tick reads its market's hedges not yet closed (bots/market_making/tick_reads.py:
open_hedges). They are named by state (`Hedge.OPEN`, the complement of `Hedge.CLOSED`), so the
state index finds the few open among the many closed; "state NOT IN closed" read every fill of
the market each tick, a cost that grew with every fill the desk had hedged. On SQLite (without
statistics, as the desk runs it) and on PostgreSQL (with them), by the query plan."""

from __future__ import annotations

import time
from decimal import Decimal as D

import pytest
from django.db import connection

from bots.market_making import tick_reads
from bots.models import Fill, Hedge
from tests.support.query_plans import analyze, index_conditions, indexes_of, plan_of

pytestmark = pytest.mark.django_db


def test_open_and_closed_are_every_state_once():
    every = {state for state, _ in Hedge.STATE_CHOICES}
    assert set(Hedge.OPEN) | set(Hedge.CLOSED) == every
    assert not set(Hedge.OPEN) & set(Hedge.CLOSED)


def test_the_open_hedges_are_found_by_state(demo_market):
    now = int(time.time() * 1000)
    fills = Fill.objects.bulk_create(
        Fill(venue=demo_market.mm_account.venue, trade_id=f"past-{n}", account=demo_market.mm_account,
             market=demo_market, order_id=f"o{n}", side="buy", price=D("65000"), amount=D("0.01"),
             cost=D("650"), timestamp=now - n)
        for n in range(3000)
    )  # a market that has traded for a while, every fill hedged
    Hedge.objects.bulk_create(
        Hedge(fill=fill, account=demo_market.hedge_account, side="sell", amount=D("0.01"),
              filled=D("0.01"), client_order_id=f"h-{fill.trade_id}", state=Hedge.FILLED)
        for fill in fills
    )
    if connection.vendor == "postgresql":
        analyze()  # its autovacuum keeps statistics; SQLite's are never gathered on the desk

    plan = plan_of(lambda: tick_reads.open_hedges(demo_market.pk), "bots_hedge")

    of_hedges = indexes_of("bots_hedge")
    by_state = [c for index, c in index_conditions(plan) if index in of_hedges and "state" in c]
    assert by_state, plan
