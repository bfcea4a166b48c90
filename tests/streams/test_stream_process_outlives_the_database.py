"""The stream process outlives a database that is down or restarting: a plan it cannot read is
logged and read again at the next round, the streams keep the plan they have, and the ORM's
connection is closed after each round so captures connect afresh (the restart drill saw the
process exit when PostgreSQL went down during a round)."""

from __future__ import annotations

import asyncio

import pytest
from django.db import OperationalError

from bots.streams import runner, work

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_plan_that_cannot_be_read_is_read_again_at_the_next_round(monkeypatch):
    monkeypatch.setattr(runner, "REPLAN_SECONDS", 0.05)
    reads = []

    def plan():
        reads.append(1)
        if len(reads) == 1:
            raise OperationalError("connection failed: Connection refused")
        return []

    monkeypatch.setattr(work, "plan", plan)
    stop = asyncio.Event()
    task = asyncio.ensure_future(runner.StreamProcess(on_hedge=lambda hedge_id: None).run(stop))
    for _ in range(200):  # a bound on waiting, not a figure tested
        if len(reads) >= 3 or task.done():
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, 15)  # ended by the stop, not by the error

    assert len(reads) >= 3
