"""The soak: 2,000 fills through ccxt on the demo's stubs (BALLAST_SOAK_FILLS for another count),
10% of them meeting a fault of the fill stream (a dropped connection, a duplicated message, a lost
one); after the sweep none is unhedged, none hedged twice, no client order id is used twice, and
the ledger equals the stubs' balances (tests/support/soak.py; figures in docs/performance.md)."""

from __future__ import annotations

import os

import pytest
from asgiref.sync import sync_to_async

from tests.support.soak import on_stubs, soak, start_stubs

pytestmark = [
    pytest.mark.django_db(transaction=True), pytest.mark.soak,
    pytest.mark.xdist_group("drills"),
]

FILLS = int(os.environ.get("BALLAST_SOAK_FILLS", "2000"))


@pytest.fixture
def stubs():
    stubs = start_stubs()
    yield stubs
    stubs.stop()


async def test_every_fill_is_hedged_once_through_stream_faults(demo_market, stubs):
    market = await sync_to_async(on_stubs)(demo_market, stubs)
    result = await soak(market, stubs, FILLS)
    print("\n" + "\n".join(result.lines()))

    assert result.fills == FILLS
    assert sum(result.faults.values()) > 0
    assert result.unhedged == 0
    assert result.hedged_twice == 0
    assert result.duplicate_client_ids == 0
    assert result.ledger_differences == []
