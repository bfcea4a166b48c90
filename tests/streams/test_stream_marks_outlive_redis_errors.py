"""The stream process renews its "fills streamed" mark every couple of seconds; a Redis that is
unreachable for a while (restarted, say) fails a renewal, and the next one renews the mark again
(the restart drill found the renewal ending for good at the first error, /health/ saying 503
ever after)."""

from __future__ import annotations

import asyncio

import pytest
import redis
from asgiref.sync import sync_to_async

from bots.venues import stream_state as state
from tests.support.streams import eventually, fills_live, make_on_stub, running

pytestmark = pytest.mark.django_db(transaction=True)


async def test_the_fill_mark_is_renewed_once_redis_answers_again(demo_market, stubs, monkeypatch):
    market = await sync_to_async(make_on_stub)(demo_market, stubs)
    renew = state.mark_fills_streamed
    unreachable = True

    def mark(account_id: int, via: str) -> None:
        if unreachable:
            raise redis.ConnectionError("Error 111 connecting: Connection refused.")
        renew(account_id, via)

    async with running(lambda hedge_id: None):
        await eventually(lambda: fills_live(market.mm_account_id), "the fill stream")
        monkeypatch.setattr(state, "mark_fills_streamed", mark)
        await sync_to_async(state.mark_fills_polled)(market.mm_account_id)  # the mark lapsed
        await asyncio.sleep(state.HEARTBEAT_SECONDS * 1.5)  # a renewal or two fail meanwhile
        assert not await sync_to_async(fills_live)(market.mm_account_id)
        unreachable = False
        await eventually(lambda: fills_live(market.mm_account_id), "the mark renewed")
