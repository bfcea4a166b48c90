"""Hedge latency, end to end: from the own venue's trade (its own `timestamp` on the trade) to the
hedge order accepted by the hedge venue, on three paths.

    .venv/bin/python bench/hedge_latency.py [--fills 1000] [--stream-fills 200] [--pause 1.0]
        [--one-worker] [--path both|all|paper|streams|hollaex] [--no-stream] [--busy-cores]

Prints one line per path, `end to end paper: p50 X ms p99 Y ms`,
`end to end ccxt streams: p50 X ms p99 Y ms` and `end to end ccxt streams hollaex: ...`, after
the detail of each. `both` (the default) runs paper and streams; `all` adds hollaex (about four
minutes more at the default pace).

The ccxt streams path: the MM bot quotes on a local binance stub (bots/simulation/stub_exchanges/binance.py,
REST, with its websocket stub beside it) and hedges on a second one; `manage.py stream` runs as
its own process, receives the fill by ccxt.pro's watch_my_trades, captures it and hedges it
through ccxt (REST order to the hedge stub), reading the hedge book and balance it streams. Over loopback,
every process on this machine's cores.

The ccxt streams hollaex path: the same with the MM bot on the HollaEx REST and websocket stubs
(hollaex.py, hollaex_ws.py), the hedge on a binance stub. The kit's usertrade topic carries no
trade id: the stream captures a trade message by a REST read until one such read shows that the
ids it derives are REST's (the trust check, docs/hedging.md), straight from the stream after.
Per stream path the bench counts, over every fill (warm-up included), the fills recorded and
hedged, the fills whose trade was read by REST (a read of the account's trades between that
fill's trade and the next's) and those captured straight from the stream, and the REST reads of
trades in all: on HollaEx one read (the trust check), or a few more where a trade message comes
twice, and none a fill after.

The paper path:

Builds a throwaway world in a temporary folder: a fresh SQLite database (its schema straight from
the models), a private embedded Redis, the demo market seeded, and a real Celery worker process.
Then, one fill at a time, the production path: `manage.py stream` runs beside the workers (as
`manage.py up` starts it), a simulated user trade fills the MM bot's quote, the paper venue
publishes the trade on the MM account's channel, and the stream process records the fill with
its hedge intent and hedges it (bots/venues/paper_stream.py). With --no-stream there is no
stream process: the paper venue's push queues the capture task, and the hedging worker records
the fill and hedges it (a desk without the stream process). The latency is the
hedge order's accepted_at (stamped right after the venue answered) minus the fill's timestamp
(the venue's time of the trade; the paper venue's clock and this machine's are one). The figure
from the fill's row (recorded_at), as this bench measured before, is printed beside it. The next fill waits for the hedge to be done, so this is
latency, not throughput. Prints p50, p90, p99 and max in milliseconds.

Workers, as docs/operations.md recommends for production: one solo worker on the "hedging" queue (fill
capture and hedges, without kombu's ack emulation, as `manage.py up` starts it) and one for
everything else (balances, page snapshots). With --one-worker a
single solo worker takes both queues, and hedges wait behind page refreshes.

With --busy-cores a busy loop at the lowest priority runs on every core while the bench runs
(bench/paper_markets.py:busy_cores): no core idles, so no process waits for its core to wake.
The figures then leave out the machine's wake-ups (bench/wakeups.py measures one); they say how
much of the path is its own work, and are not the targets' figures.

Nothing outside the temporary folder is touched; DATABASE_URL and REDIS_URL are ignored.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path

from paper_markets import busy_cores, stub_account

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def percentile(values: list[float], q: float) -> float:
    """Nearest rank: a latency that occurred."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(round(q * len(ordered) + 0.5)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fills", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--one-worker", action="store_true", help="one worker for every queue")
    parser.add_argument("--path", choices=("both", "all", "paper", "streams", "hollaex"), default="both",
                        help="both: paper and streams; all: both and hollaex")
    parser.add_argument("--stream-fills", type=int, default=200, help="fills on the ccxt path")
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between ccxt fills")
    parser.add_argument("--no-stream", action="store_true",
                        help="paper fills through the capture task, without the stream process")
    parser.add_argument("--busy-cores", action="store_true",
                        help="every core kept awake by a lowest-priority busy loop: the machine's wake-ups left out")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="ballast-bench-"))
    from ballast.embedded_redis import EmbeddedRedis

    redis_server = EmbeddedRedis(folder / "redis.sock").start()
    env = {
        "BALLAST_VAR_DIR": str(folder),
        "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
        "REDIS_URL": redis_server.url,
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "ballast.settings",
    }
    os.environ.update(env)
    processes = []
    done = False
    results = {}
    awake = ExitStack()
    try:
        if args.busy_cores:
            awake.enter_context(busy_cores())
        world = build_world()
        if args.one_worker:
            processes.append(start_worker(env, folder, "all", None))
        else:
            processes.append(start_worker(env, folder, "hedging", "hedging"))
            processes.append(start_worker(env, folder, "general", "celery,ticks"))
        if args.path in ("both", "all", "paper"):
            if not args.no_stream:
                start_stream(env, folder, processes)
            results["paper"] = measure(world, args.warmup, args.fills, streamed=not args.no_stream)
        if args.path in ("both", "all", "streams"):
            results["ccxt streams"] = measure_streams(
                world, env, folder, processes, args.warmup, args.stream_fills, args.pause
            )
        if args.path in ("all", "hollaex"):
            results["ccxt streams hollaex"] = measure_streams(
                world, env, folder, processes, args.warmup, args.stream_fills, args.pause, "hollaex"
            )
        done = True
    finally:
        awake.close()
        for process in processes:
            process.terminate()
            process.wait(10)
        redis_server.stop()
        if done:
            from django.db import connections

            connections.close_all()
            shutil.rmtree(folder)
        else:
            print(f"kept {folder} (its process logs) for a look", file=sys.stderr)
    if "paper" in results:
        end_to_end, from_row = results["paper"]
        print(
            f"paper: {len(end_to_end)} fills, "
            + ("through Celery + Redis, " if args.no_stream else "by the paper venue's stream to manage.py stream, ")
            + ("one solo worker for every queue" if args.one_worker else "a solo worker for the hedging queue")
        )
        print(f"  from the fill's row (as before):  {summary(from_row)}")
        print(f"  from the venue's trade timestamp: {summary(end_to_end)}")
    for name, own in (("ccxt streams", "binance"), ("ccxt streams hollaex", "hollaex")):
        if name not in results:
            continue
        end_to_end, from_row, counts = results[name]
        print(f"{name}: {len(end_to_end)} fills, MM bot on {own} stubs, hedge on a binance stub, "
              "over loopback, manage.py stream")
        print(f"  from the fill's row:              {summary(from_row)}")
        print(f"  from the venue's trade timestamp: {summary(end_to_end)}")
        print(f"  of {counts['fills']} fills (warm-up included): {counts['recorded']} recorded, "
              f"{counts['hedged']} hedged; captured by REST {counts['by REST']} "
              f"({counts['by REST in warm-up']} in the warm-up), straight from the stream "
              f"{counts['fills'] - counts['by REST']}; REST reads of trades {counts['REST reads']}")
    if args.busy_cores:
        print("every core kept awake by a busy loop (--busy-cores): a diagnosis of the machine, not the targets' figures")
    print("targets: paper p50 <= 5 ms, p99 <= 15 ms; ccxt streams p50 <= 15 ms, p99 <= 40 ms")
    for name, (end_to_end, *_) in results.items():
        print(f"end to end {name}: p50 {percentile(end_to_end, 0.5):.1f} ms p99 {percentile(end_to_end, 0.99):.1f} ms")


def summary(values: list[float]) -> str:
    return (
        f"p50 {percentile(values, 0.5):.2f} ms   p90 {percentile(values, 0.9):.2f} ms   "
        f"p99 {percentile(values, 0.99):.2f} ms   max {max(values):.2f} ms   "
        f"mean {statistics.fmean(values):.2f} ms"
    )


def build_world():
    import django
    from django.conf import settings

    django.setup()
    from django.core.management import call_command

    # A throwaway database: its tables come straight from the models, no migrations needed.
    settings.MIGRATION_MODULES = {app: None for app in ("bots", "dashboard", "auth", "admin",
                                                         "contenttypes", "sessions")}
    call_command("migrate", run_syncdb=True, verbosity=0)
    call_command("seed_demo", "--minimal", "--trades-per-minute", "0", "--username", "bench", stdout=io.StringIO())

    from bots.models import Market, PaperBalance
    from bots.venues.paper import PaperVenue

    market = Market.objects.select_related("mm_account__venue", "hedge_account__venue").get(slug="btc-usdt")
    for account in (market.mm_account, market.hedge_account):
        PaperBalance.objects.filter(account=account, asset="BTC").update(free=Decimal("1000"))
        PaperBalance.objects.filter(account=account, asset="USDT").update(free=Decimal("100000000"))
    mm = PaperVenue(market.mm_account)
    book = PaperVenue(market.hedge_account).fetch_order_book(market.symbol)
    mid = (book["bids"][0][0] + book["asks"][0][0]) / 2
    mm.create_order(market.symbol, "limit", "buy", Decimal("500"), (mid * Decimal("0.999")).quantize(Decimal("0.01")), {"postOnly": True})
    mm.create_order(market.symbol, "limit", "sell", Decimal("500"), (mid * Decimal("1.001")).quantize(Decimal("0.01")), {"postOnly": True})
    return market


def start_worker(env: dict, folder: Path, label: str, queue: str | None) -> subprocess.Popen:
    from ballast.celery import app

    name = f"bench-{label}-{os.getpid()}@localhost"
    queues = ["-Q", queue] if queue else []
    # The hedging worker as `manage.py up` starts it (CELERY_BROKER_TRANSPORT_OPTIONS).
    ack = {"BALLAST_BROKER_ACK_EMULATION": "0"} if queue == "hedging" else {}
    log = open(folder / f"worker-{label}.log", "w")  # noqa: SIM115 - lives as long as the worker
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "ballast", "worker", "--pool", "solo", *queues,
         "--loglevel", os.environ.get("BENCH_WORKER_LOG", "WARNING"), "--without-mingle",
         "--without-gossip", "--without-heartbeat", "--hostname", name],
        cwd=ROOT, env={**os.environ, **env, **ack}, stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while not app.control.ping([name], timeout=0.5):
        if worker.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the worker did not start; see {folder / f'worker-{label}.log'}")
    return worker


def start_stream(env: dict, folder: Path, processes: list) -> None:
    """`manage.py stream`, as `manage.py up` starts it (once for both paths)."""
    if getattr(start_stream, "started", False):
        return
    log = open(folder / "stream.log", "w")  # noqa: SIM115 - lives as long as the process
    processes.append(subprocess.Popen(
        [sys.executable, "manage.py", "stream"], cwd=ROOT, env={**os.environ, **env},
        stdout=log, stderr=subprocess.STDOUT,
    ))
    start_stream.started = True


def measure(market, warmup: int, fills: int, streamed: bool) -> tuple[list[float], list[float]]:
    from bots.models import Hedge
    from bots.simulation.paper_flow import user_trade
    from bots.venues import stream_state as state

    deadline = time.monotonic() + 30
    while streamed and not state.fills_streamed(market.mm_account_id):
        if time.monotonic() > deadline:
            raise RuntimeError("the stream process did not stream the paper fills; see stream.log")
        time.sleep(0.1)

    def trade(i: int) -> None:
        user_trade(market, "buy" if i % 2 else "sell", Decimal("0.01"))

    return wait_for_hedges(trade, Hedge.objects.filter(fill__market=market), warmup, fills)


def wait_for_hedges(trade, hedges, warmup: int, fills: int) -> tuple[list[float], list[float]]:
    """Make one trade at a time, wait for its hedge; latencies from the venue's trade time and
    from the fill's row to the hedge's first order accepted."""
    from bots.models import Hedge, HedgeOrder

    # Each poll asks for the hedge after the last one seen, by its key: a count of every hedge
    # so far, or an offset into them, costs more at each fill, and the bench's own process is
    # the own paper venue, on the same two cores as the path it measures.
    last = hedges.order_by("-pk").values_list("pk", flat=True).first() or 0
    end_to_end, from_row = [], []
    for i in range(warmup + fills):
        trade(i)
        deadline = time.monotonic() + 10
        while True:
            # Polled gently: the figure comes from the rows' own timestamps, not from when the
            # bench notices, and a busy loop here would take a core from the worker.
            time.sleep(0.02)
            done = hedges.filter(pk__gt=last, state=Hedge.FILLED).order_by("pk").values_list("pk", flat=True).first()
            if done is not None:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"fill {i} was not hedged within 10 s")
        last = done
        if i >= warmup:
            accepted, traded, recorded = (
                HedgeOrder.objects.filter(hedge_id=done).order_by("pk")
                .values_list("accepted_at", "hedge__fill__timestamp", "hedge__fill__recorded_at")[:1]
                .get()
            )
            end_to_end.append(accepted.timestamp() * 1000 - traded)
            from_row.append((accepted - recorded).total_seconds() * 1000)
    return end_to_end, from_row


# The own venue of each ccxt streams path: its stubs (REST, websocket) and the REST path that reads
# the account's trades, whose reads the bench counts.
OWN_STUBS = {
    "binance": ("bots.simulation.stub_exchanges.binance", "BinanceStub",
                "bots.simulation.stub_exchanges.binance_ws", "BinanceWsStub", "/api/v3/myTrades"),
    "hollaex": ("bots.simulation.stub_exchanges.hollaex", "HollaExStub",
                "bots.simulation.stub_exchanges.hollaex_ws", "HollaExWsStub", "/v2/user/trades"),
}


def measure_streams(market, env: dict, folder: Path, processes: list, warmup: int, fills: int,
                    pause: float, own_exchange: str = "binance"):
    """The same market, its MM bot quoting on a stub of `own_exchange` and hedging on a binance
    stub, fills streamed to `manage.py stream`. Besides the latencies: per fill, the REST reads
    of the own account's trades between its trade and the next (a fill the stream did not hand
    over straight, such as the trust check's first batches on HollaEx), the fills and hedges
    recorded, and the REST reads of trades after the last fill."""
    from importlib import import_module

    from bots.models import Account, Fill, Hedge, Market
    from bots.simulation.stub_exchanges.binance import BinanceStub
    from bots.simulation.stub_exchanges.binance_ws import BinanceWsStub
    from bots.venues import stream_state as state
    from bots.venues import venue_for

    rest_module, rest_class, ws_module, ws_class, trades_path = OWN_STUBS[own_exchange]
    deep = {"BTC": "1000", "USDT": "100000000"}
    own = getattr(import_module(rest_module), rest_class)(balances=deep)
    outside = BinanceStub(balances=deep)
    own_ws, outside_ws = getattr(import_module(ws_module), ws_class)(own), BinanceWsStub(outside)
    try:
        for step in range(5):
            outside.seed_liquidity("sell", 65010 + 10 * step, "200")
            outside.seed_liquidity("buy", 64990 - 10 * step, "200")

        mm = stub_account(own_ws, f"own-{own_exchange}-stub", Account.MARKET_MAKING,
                          exchange_id=own_exchange)
        hedge = stub_account(outside_ws, f"hedge-stub-{own_exchange}", Account.HEDGING)
        Market.objects.filter(pk=market.pk).update(
            mm_account=mm, hedge_account=hedge, last_fill_timestamp=int(time.time() * 1000)
        )
        quotes = venue_for(mm)
        quotes.create_order(market.symbol, "limit", "sell", Decimal("400"), Decimal("65100"))
        quotes.create_order(market.symbol, "limit", "buy", Decimal("400"), Decimal("64900"))
        start_stream(env, folder, processes)
        deadline = time.monotonic() + 30
        balance_key = venue_for(hedge).balance_key
        while not (state.fills_streamed(mm.pk) and state.streamed_book(hedge.venue_id, market.symbol, 60)
                   and state.shared_balance(balance_key)[0]):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the stream process did not start; see {folder / 'stream.log'}")
            time.sleep(0.1)

        def trades_read() -> int:
            return sum(1 for _, path, _ in list(own.requests) if path == trades_path)

        reads = [trades_read()]  # before each trade: reads after it belong to the one before

        def trade(i: int) -> None:
            # Paced, one fill a second as the demo's users come (a fill costs the hedge venue one
            # order's weight now that balances and books stream).
            time.sleep(pause)
            reads.append(trades_read())
            own.take("buy" if i % 2 else "sell", "0.01")

        hedges = Hedge.objects.filter(fill__market=market, fill__account=mm)
        latencies = wait_for_hedges(trade, hedges, warmup, fills)
        time.sleep(max(pause, 1.5))  # a REST read of the last fill's trades comes by then
        reads.append(trades_read())
        per_fill = [b - a for a, b in zip(reads[1:], reads[2:], strict=False)]
        counts = {
            "fills": warmup + fills,
            "recorded": Fill.objects.filter(market=market, account=mm).count(),
            "hedged": hedges.count(),
            "by REST": sum(1 for n in per_fill if n),
            "by REST in warm-up": sum(1 for n in per_fill[:warmup] if n),
            "REST reads": sum(per_fill),
        }
        return (*latencies, counts)
    finally:
        own_ws.stop()
        outside_ws.stop()
        own.stop()
        outside.stop()


if __name__ == "__main__":
    main()
