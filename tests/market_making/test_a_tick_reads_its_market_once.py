"""A tick's task reads its market's row (with its accounts, venues and settings: four tables
joined) once: the balance snapshot after a tick that changed orders takes the market as the tick
read it, where it read the row again: 6% of the ticks workers' samples in a profile of the quote
bench (docs/performance.md)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bots.market_making.tasks import mm_tick
from bots.models import Market, Order
from bots.simulation import paper_flow

pytestmark = pytest.mark.django_db


def test_a_tick_that_places_quotes_reads_its_market_once(demo_market):
    paper_flow.move_outside_markets(second=1)  # a book to price from
    table = connection.ops.quote_name(Market._meta.db_table)
    with CaptureQueriesContext(connection) as queries:
        assert mm_tick.apply(args=(demo_market.pk,)).get() == "running"
    assert Order.objects.filter(market=demo_market, state=Order.OPEN).exists()  # it placed quotes
    # The row's read, not the one-column check for a stop during the tick (stopped_meanwhile).
    reads = [q["sql"] for q in queries if q["sql"].startswith(f"SELECT {table}.")]
    assert len(reads) == 1, reads
