"""Event-driven quoting tells a book's move from the reference the market's last tick quoted
from, as that tick left it, not from the stream process's copy of the markets (read from the
database at most once a second): a move right after a tick is not missed, nor one the tick
throttle held back.

The stream process's `book_moved` is called here as its book streams call it, with books laid
around the demo market's reference (its hedge venue is paper: no websocket is needed for this).
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from bots.market_making import quoter
from bots.models import Market
from bots.platform import events
from bots.platform.locks import client
from bots.streams import runner
from bots.streams.runner import StreamProcess
from tests.support.streams import eventually

D = Decimal


@pytest.fixture
def moved():
    """The markets whose tick the stream queued (no Celery here)."""
    told: list[int] = []
    events.reference_moved.disconnect(dispatch_uid="tick on a move")
    events.reference_moved.connect(lambda sender, market_id, **kw: told.append(market_id), weak=False,
                                   dispatch_uid="test move")
    yield told
    events.reference_moved.disconnect(dispatch_uid="test move")
    from bots.market_making.tasks import tick_now  # the listener the app wires, put back

    events.reference_moved.connect(tick_now, dispatch_uid="tick on a move")


def around(mid: Decimal) -> tuple[list, list]:
    """A book whose mid is `mid`."""
    return [(mid - 1, D("1"))], [(mid + 1, D("1"))]


async def book_moved(process: StreamProcess, market: Market, mid: Decimal) -> None:
    await process.book_moved(market.hedge_account.venue_id, market.symbol, *around(mid))


@pytest.fixture
async def process(demo_market, monkeypatch):
    # The process's copy of the markets is never read again within a test, whatever the
    # machine's speed: what is tested does not wait for it.
    monkeypatch.setattr(runner, "WATCHES_SECONDS", 3600.0)
    # Redis outlives each test's database: an earlier test's tick of a market with this id left
    # its reference and throttle there, and this market has ticked nothing yet.
    client().delete(f"ballast:stream:reference:{demo_market.pk}", f"ballast:throttle:stream-tick:{demo_market.pk}")
    yield StreamProcess(on_hedge=lambda hedge_id: None)
    # book_moved read the markets in the ORM's thread: its connection goes with the test, or
    # PostgreSQL could not drop the test database.
    await sync_to_async(connections.close_all)()


@pytest.mark.django_db(transaction=True)
async def test_a_move_right_after_the_first_tick_queues_the_tick(demo_market, process, moved):
    await sync_to_async(Market.objects.filter(pk=demo_market.pk).update)(reference_price=None, reference_at=None)
    await book_moved(process, demo_market, D("65000"))  # the markets read: no reference yet
    assert moved == []  # nothing to tell a move from: the beat quotes first

    await sync_to_async(quoter.run_tick)(demo_market.pk, on_hedge=lambda hedge_id: None)
    reference = await eventually(
        lambda: Market.objects.values_list("reference_price", flat=True).get(pk=demo_market.pk), "the tick"
    )
    await book_moved(process, demo_market, reference)  # where the tick quoted from: no move
    assert moved == []

    await book_moved(process, demo_market, reference * D("1.001"))  # 10 bps, beyond the 2 of the demo
    assert moved == [demo_market.pk]
    await book_moved(process, demo_market, reference * D("1.001"))  # the same move: not news again
    assert moved == [demo_market.pk]


@pytest.mark.django_db(transaction=True)
async def test_a_tick_that_ends_after_a_told_move_is_what_the_next_move_is_told_from(
    demo_market, process, moved, settings
):
    settings.STREAM_TICK_MIN_MS = 1
    await sync_to_async(quoter.run_tick)(demo_market.pk, on_hedge=lambda hedge_id: None)
    reference = await sync_to_async(
        lambda: Market.objects.values_list("reference_price", flat=True).get(pk=demo_market.pk)
    )()
    await book_moved(process, demo_market, reference * D("1.001"))
    assert moved == [demo_market.pk]

    # A tick ends having quoted from the first reference again (it read the book before the
    # move): the book, still moved, is news against what the quotes now stand on.
    await asyncio.sleep(0.01)  # past the throttle of 1 ms
    await sync_to_async(quoter.run_tick)(demo_market.pk, on_hedge=lambda hedge_id: None)
    await book_moved(process, demo_market, reference * D("1.001"))
    assert moved == [demo_market.pk, demo_market.pk]


@pytest.mark.django_db(transaction=True)
async def test_a_move_the_throttle_held_back_is_told_once_it_lets_it(demo_market, process, moved, settings):
    settings.STREAM_TICK_MIN_MS = 200
    await sync_to_async(quoter.run_tick)(demo_market.pk, on_hedge=lambda hedge_id: None)
    reference = await sync_to_async(
        lambda: Market.objects.values_list("reference_price", flat=True).get(pk=demo_market.pk)
    )()
    # A tick of this market was queued a moment ago (by this or another stream process).
    client().set(f"ballast:throttle:stream-tick:{demo_market.pk}", 1, px=200)

    await book_moved(process, demo_market, reference * D("1.001"))
    assert moved == []  # held back for now

    await eventually(lambda: moved, "the held-back move told", seconds=10)
    assert moved == [demo_market.pk]


@pytest.mark.django_db(transaction=True)
def test_the_reference_is_in_redis_before_the_row_says_the_tick_ended(demo_market):
    """A move seen right after the row shows the tick's end is told from that tick's reference:
    Redis has it by then (written after the row, a move in between was missed)."""
    from bots.venues import stream_state

    client().delete(f"ballast:stream:reference:{demo_market.pk}")
    seen = []

    def at_the_row(execute, sql, params, many, context):
        if sql.startswith(f'UPDATE "{Market._meta.db_table}"') and "last_tick_at" in sql:
            seen.append(stream_state.tick_references([demo_market.pk]).get(demo_market.pk))
        return execute(sql, params, many, context)

    with connections["default"].execute_wrapper(at_the_row):
        quoter.run_tick(demo_market.pk, on_hedge=lambda hedge_id: None)

    reference = Market.objects.values_list("reference_price", flat=True).get(pk=demo_market.pk)
    assert reference is not None
    assert len(seen) == 1 and seen[0] is not None and seen[0][0] == reference
