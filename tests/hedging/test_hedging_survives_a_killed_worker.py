"""A Celery worker killed (SIGKILL) in the middle of hedging, through a real Redis: after the
sweeper runs on a new worker, every fill is hedged, no order was sent twice, and the books
balance. The hedge venue answers orders slowly (after accepting them), so the kill lands
between an order accepted by the venue and its answer recorded: the hardest moment.

Both with kombu's ack emulation (every worker but the hedging one) and without it (the hedging
worker, BALLAST_BROKER_ACK_EMULATION=0): the outbox and the sweeper recover the hedge, not the
broker handing the message out again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.conf import settings

from bots.hedging.capture import capture_fills
from bots.hedging.tasks import hedge_fill, sweep_hedges
from bots.models import Hedge, HedgeOrder, PaperOrder
from bots.platform import events
from bots.simulation.paper_flow import user_trade
from bots.venues import venue_for
from tests.support import processes
from tests.support.hedging_world import (
    assert_balances_equal_records,
    assert_no_hedge_order_sent_twice,
    set_faults,
    starting_balances,
)

pytestmark = [
    pytest.mark.processes, pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("drills"),
]
QUEUE = f"kill-test-{os.getpid()}"


@contextmanager
def worker(db_url: str, log, queues: str, **env):
    """A solo worker on `queues` only, so the suite's shared worker cannot take this test's work."""
    from ballast.celery import app

    name = f"{QUEUE}-{len(env)}@localhost"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "ballast", "worker", "--pool", "solo", "-Q", queues,
             "--loglevel", "INFO", "--without-mingle", "--without-gossip", "--hostname", name],
            cwd=processes.ROOT, env={**processes._env(db_url, settings.REDIS_URL), **env},
            stdout=out, stderr=subprocess.STDOUT,
        )
        try:
            processes._wait(lambda: bool(app.control.ping([name], timeout=0.5)), process, "celery worker")
            yield process
        finally:
            processes._stop(process)


def wait_for(condition, timeout=30.0, every=0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(every)
    raise AssertionError("timed out")


def accepted_not_recorded() -> list[str]:
    """Orders the venue holds whose answer the hedger has not recorded yet."""
    sending = set(HedgeOrder.objects.filter(state=HedgeOrder.SENDING).values_list("client_order_id", flat=True))
    return list(PaperOrder.objects.filter(client_order_id__in=sending).values_list("client_order_id", flat=True))


@pytest.mark.parametrize("ack_emulation", ["1", "0"])
def test_a_worker_killed_mid_hedge_loses_nothing_and_sends_nothing_twice(
    hedging_market, test_database_url, artifacts, monkeypatch, ack_emulation
):
    market = hedging_market
    # This test queues its own hedges: no push to the suite's shared worker.
    monkeypatch.setattr(events.trades_made, "receivers", [])
    start = starting_balances([market.mm_account, market.hedge_account])
    hedge_ids = []
    for i in range(30):
        user_trade(market, "buy" if i % 2 else "sell", Decimal("0.01") + Decimal(i) / 10000)
    for fill in capture_fills(market, venue_for(market.mm_account), lambda hedge_id: None):
        hedge_ids.append(fill.hedge.pk)
    assert len(hedge_ids) == 30
    set_faults("external", {}, latency_ms=300)  # every order answered 0.3 s after it is accepted

    broker = {"BALLAST_BROKER_ACK_EMULATION": ack_emulation}
    with worker(test_database_url, artifacts / "killed-worker.log", QUEUE, **broker) as first:
        for hedge_id in hedge_ids:
            hedge_fill.apply_async((hedge_id,), queue=QUEUE)
        wait_for(lambda: Hedge.objects.filter(state=Hedge.FILLED).count() >= 4)
        wait_for(lambda: len(accepted_not_recorded()) > 0)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)

    [caught] = accepted_not_recorded()  # the worker died holding it: accepted, not recorded
    in_limbo = HedgeOrder.objects.get(client_order_id=caught)
    assert Hedge.objects.get(pk=in_limbo.hedge_id).state == Hedge.SENDING
    assert 4 <= Hedge.objects.filter(state=Hedge.FILLED).count() < 30

    set_faults("external", None)
    with worker(test_database_url, artifacts / "sweeping-worker.log", f"{QUEUE},hedging",
                BALLAST_HEDGE_SWEEP_SECONDS="1", **broker):
        # The rest of the queue runs; the hedge the dead worker held waits for the sweeper.
        time.sleep(1.2)
        sweep_hedges.apply_async(queue=QUEUE)
        wait_for(lambda: Hedge.objects.filter(state=Hedge.FILLED).count() == 30, every=0.1)
        time.sleep(0.5)  # anything sent twice would have arrived by now

    in_limbo.refresh_from_db()
    assert (in_limbo.state, in_limbo.filled) == (HedgeOrder.DONE, in_limbo.amount)  # found, not resent
    assert PaperOrder.objects.filter(client_order_id=caught).count() == 1
    for hedge in Hedge.objects.all():
        assert hedge.filled == hedge.amount
    assert_no_hedge_order_sent_twice(market)
    assert_balances_equal_records(market, start)
