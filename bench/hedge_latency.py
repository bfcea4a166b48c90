"""Hedge latency: from a fill recorded to its hedge accepted by the paper venue, through Celery
and Redis, over 1,000 fills.

    .venv/bin/python bench/hedge_latency.py [--fills 1000] [--one-worker]

Builds a throwaway world in a temporary folder: a fresh SQLite database (its schema straight from
the models), a private embedded Redis, the demo market seeded, and a real Celery worker process.
Then, one fill at a time, the production path: a simulated user trade fills the MM bot's quote,
the paper venue pushes the trade, the worker's capture task records the fill with its hedge
intent and queues the hedge task after the commit, and the worker hedges it. The latency is the
hedge order's accepted_at (stamped right after the venue answered) minus the fill's recorded_at
(stamped as the fill row is written, just before its commit: slightly in the bench's disfavour).
Both clocks are this machine's. The next fill waits for the hedge to be done, so this is
latency, not throughput. Prints p50, p90, p99 and max in milliseconds.

Workers, as docs/operations.md recommends for production: one solo worker on the "hedging" queue (fill
capture and hedges) and one for everything else (balances, page snapshots). With --one-worker a
single solo worker takes both queues, and hedges wait behind page refreshes.

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
from decimal import Decimal
from pathlib import Path

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
    workers = []
    done = False
    try:
        world = build_world()
        if args.one_worker:
            workers.append(start_worker(env, folder, "all", None))
        else:
            workers.append(start_worker(env, folder, "hedging", "hedging"))
            workers.append(start_worker(env, folder, "general", "celery"))
        latencies = measure(world, args.warmup, args.fills)
        done = True
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(10)
        redis_server.stop()
        if done:
            from django.db import connections

            connections.close_all()
            shutil.rmtree(folder)
        else:
            print(f"kept {folder} (its worker logs) for a look", file=sys.stderr)
    print(
        f"fill recorded -> hedge accepted by the paper venue, through Celery + Redis, "
        f"{len(latencies)} fills, "
        + ("one solo worker for every queue:" if args.one_worker else "a solo worker for the hedging queue:")
    )
    print(
        f"  p50 {percentile(latencies, 0.5):.2f} ms   p90 {percentile(latencies, 0.9):.2f} ms   "
        f"p99 {percentile(latencies, 0.99):.2f} ms   max {max(latencies):.2f} ms   "
        f"mean {statistics.fmean(latencies):.2f} ms"
    )
    print("  target: p50 < 5 ms, p99 < 15 ms")


def build_world():
    import django
    from django.conf import settings

    django.setup()
    from django.core.management import call_command

    # A throwaway database: its tables come straight from the models, no migrations needed.
    settings.MIGRATION_MODULES = {app: None for app in ("bots", "dashboard", "auth", "admin",
                                                         "contenttypes", "sessions")}
    call_command("migrate", run_syncdb=True, verbosity=0)
    call_command("seed_demo", "--trades-per-minute", "0", "--username", "bench", stdout=io.StringIO())

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
    log = open(folder / f"worker-{label}.log", "w")  # noqa: SIM115 - lives as long as the worker
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "ballast", "worker", "--pool", "solo", *queues,
         "--loglevel", os.environ.get("BENCH_WORKER_LOG", "WARNING"), "--without-mingle",
         "--without-gossip", "--without-heartbeat", "--hostname", name],
        cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while not app.control.ping([name], timeout=0.5):
        if worker.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the worker did not start; see {folder / f'worker-{label}.log'}")
    return worker


def measure(market, warmup: int, fills: int) -> list[float]:
    from bots.models import Hedge, HedgeOrder
    from bots.simulation.paper_flow import user_trade

    latencies = []
    for i in range(warmup + fills):
        user_trade(market, "buy" if i % 2 else "sell", Decimal("0.01"))
        deadline = time.monotonic() + 10
        while True:
            # Polled gently: the figure comes from the rows' own timestamps, not from when the
            # bench notices, and a busy loop here would take a core from the worker.
            time.sleep(0.02)
            done = Hedge.objects.filter(state=Hedge.FILLED).count()
            if done > i:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"fill {i} was not hedged within 10 s")
        if i >= warmup:
            accepted, recorded = (
                HedgeOrder.objects.order_by("pk")
                .values_list("accepted_at", "hedge__fill__recorded_at")[i : i + 1]
                .get()
            )
            latencies.append((accepted - recorded).total_seconds() * 1000)
    return latencies


if __name__ == "__main__":
    main()
