"""A sizing run through the real Celery worker and Redis: its progress arrives over the sizing
page's websocket (real Redis channel layer), and the row ends done with exactly the figures the
engine gives for the same inputs and seed."""

from __future__ import annotations

import json
from decimal import Decimal as D

import numpy as np
import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from ballast.asgi import application
from bots.engine.simulation.sizing import required_pools, summary
from bots.models import SizingRun
from bots.simulation import sizing_runs
from tests.support.sockets import HOST, ORIGIN, session_cookie

exact = sizing_runs.as_decimal  # the figure as stored
pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]

QUESTION = {
    "trades_per_minute": D("1"),
    "mean_size": D("0.02"),
    "buy_share": D("0.55"),
    "price": D("65000"),
    "daily_volatility_pct": D("3"),
    "mm_half_spread_bps": D("15"),
    "hedge_cost_bps": D("12"),
    "mm_base": D("2"),
    "mm_quote": D("130000"),
    "hedge_base": D("2"),
    "hedge_quote": D("130000"),
    "floor_base": D("0.1"),
    "floor_quote": D("6500"),
    "horizon_days": D("1"),
    "confidence_pct": D("95"),
    "paths": 300,  # a second or two of simulation: several progress messages, a quick test
    "seed": 7,
}


async def test_a_run_reports_progress_over_the_socket_and_ends_with_the_engines_figures(
    demo_market, operator, worker
):
    cookie = await sync_to_async(session_cookie)(operator)
    communicator = WebsocketCommunicator(
        application, "/ws/sizing/", headers=[ORIGIN, HOST, (b"cookie", cookie)]
    )
    assert (await communicator.connect(timeout=10))[0]

    run = await sync_to_async(sizing_runs.start)(demo_market, operator, QUESTION)
    messages = []
    while not messages or messages[-1]["state"] not in ("done", "failed"):
        messages.append(json.loads(await communicator.receive_from(timeout=60)))
    await communicator.disconnect()

    assert {m["run"] for m in messages} == {run.pk} and {m["market"] for m in messages} == {
        "btc-usdt"
    }
    assert messages[-1] == {
        "run": run.pk,
        "market": "btc-usdt",
        "state": "done",
        "progress": 1.0,
        "error": "",
    }
    moving = [m["progress"] for m in messages if m["state"] == "running" and 0 < m["progress"] < 1]
    assert moving, messages  # the bar moved before the end
    assert moving == sorted(moving)

    row = await sync_to_async(SizingRun.objects.select_related("market").get)(pk=run.pk)
    assert (row.state, row.progress, row.error, row.step_seconds) == ("done", 1.0, "", 1)
    assert row.started_at <= row.finished_at

    # The same inputs and seed, run here: the stored answer is exactly the engine's.
    result = await sync_to_async(sizing_runs.simulate_run)(row)
    _, pools = sizing_runs.inputs(row)
    need = required_pools(result, pools, 0.95)
    facts = summary(result)
    assert [row.need_mm_base, row.need_mm_quote, row.need_hedge_base, row.need_hedge_quote] == [
        exact(v) for v in (need.mm_base, need.mm_quote, need.hedge_base, need.hedge_quote)
    ]
    assert row.share_dry == exact(facts["share_dry"])
    assert row.edge_mean == exact(facts["edge_mean"])
    assert (row.edge_p05, row.edge_p95) == (exact(facts["edge_p05"]), exact(facts["edge_p95"]))
    # 55% buying of 29 BTC a day drains the MM account's 1.9 BTC above its floor on most paths.
    assert 0.5 < facts["share_dry"] < 1 and row.median_days_to_dry == exact(
        facts["median_days_to_dry"]
    )
    assert need.mm_base > 2  # it needs more than it holds

    days = row.histograms["days_to_dry"]
    assert len(days["counts"]) == 50 and days["edges"][0] == 0 and days["edges"][-1] == 1
    assert sum(days["counts"]) + days["not_finite"] == 300
    assert days["not_finite"] == int(np.isinf(result.days_to_dry).sum())
    assert sum(row.histograms["edge"]["counts"]) == 300


async def test_an_anonymous_client_cannot_watch_runs():
    communicator = WebsocketCommunicator(application, "/ws/sizing/", headers=[ORIGIN, HOST])
    connected, _ = await communicator.connect(timeout=10)
    assert not connected
