"""Request weight the desk spends at its exchanges: 10 markets on Binance-shaped stubs through ccxt.

    .venv/bin/python bench/request_budget.py [--markets 10] [--minutes 5] [--page]

Builds a throwaway desk in a temporary folder (SQLite, a private embedded Redis): one local
Binance REST stub (bots/simulation/stub_exchanges/binance.py) as the hedge venue every market hedges on,
with a deep book on both sides, and one stub per market as its own venue, all reached through
the real ccxt client (so through the kept clients and the shared request budget). Each market
quotes with the demo's settings, and simulated users trade with the MM bot at the demo's rate
(12 trades a minute per market: a user's limit order at the bot's best price, on the own stub).

Then, for `--minutes` of wall-clock time, the desk's beat schedule runs in this process as the
workers would run it (Celery's eager mode): the market-making ticks every
BALLAST_TICK_SECONDS, the health samples, the hedge sweeper and reconciliation, the planner and
the transfer watch. Beside it, as production runs them, `manage.py stream` (fills, hedge books
and balances by websocket from the stubs' websocket side, stub_exchanges/binance_ws.py;
each fill captured and hedged there) and one Celery worker for what that process queues (the
balance snapshots and page refresh after a hedge, retries). No page is open, unless `--page`:
then the first market's page snapshot (dashboard/live/publisher.py) is built at the page's
fastest rate, one every PUBLISH_EVERY_MS, as for an operator who keeps that market's page open
through a busy spell. With `--polling` the stream process and its worker are left out: books and
fills are read by REST each tick, as before streams.

Each stub counts what it received, weighed as Binance publishes (bots/venues/request_weights.py).
Prints the hedge venue's and the own venue's (all own stubs together: one exchange) weight per
minute against Binance's 6,000, the own venue's peak orders per 10 s (Binance allows 100 per
account), and the fills and hedges made, to show the work was real.

Nothing outside the temporary folder is touched; DATABASE_URL and REDIS_URL are ignored.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

from paper_markets import stub_account

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bots.venues.request_weights import binance_weight_of_url  # noqa: E402 - plain Python, after the path

USERS_PER_MINUTE = 12  # the demo's rate (bots/management/commands/seed_demo.py)
MID = Decimal("65000")
PAPER_ONLY = {"outside market", "simulated users"}  # beat entries that drive paper venues


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markets", type=int, default=10)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--polling", action="store_true", help="without the stream process")
    parser.add_argument("--page", action="store_true",
                        help="one market's page open, its snapshot pushed at the fastest rate")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="ballast-bench-"))
    from ballast.embedded_redis import EmbeddedRedis

    redis_server = EmbeddedRedis(folder / "redis.sock").start()
    os.environ.update({
        "BALLAST_VAR_DIR": str(folder),
        "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
        "REDIS_URL": redis_server.url,
        "LOG_LEVEL": "ERROR",
        "DJANGO_SETTINGS_MODULE": "ballast.settings",
    })
    stubs, sockets, processes = [], [], []
    try:
        import django
        from django.conf import settings
        from django.core.management import call_command

        django.setup()
        settings.MIGRATION_MODULES = {
            app: None for app in ("bots", "dashboard", "auth", "admin", "contenttypes", "sessions")
        }
        call_command("migrate", run_syncdb=True, verbosity=0)
        from ballast.celery import app

        app.conf.task_always_eager = True  # every queued task runs here, as a worker would
        from bots.simulation.stub_exchanges.binance import BinanceStub
        from bots.simulation.stub_exchanges.binance_ws import BinanceWsStub

        hedge_stub = BinanceStub(balances={"BTC": "1000", "USDT": "100000000"})
        own_stubs = [BinanceStub(balances={"BTC": "100", "USDT": "10000000"}) for _ in range(args.markets)]
        stubs = [hedge_stub, *own_stubs]
        sockets = [BinanceWsStub(stub) for stub in stubs]
        for step in range(1, 6):
            for side, sign in (("sell", 1), ("buy", -1)):
                hedge_stub.seed_liquidity(side, MID + sign * 10 * step, "500")
        seed_markets(sockets[0], sockets[1:])
        if not args.polling:
            processes = start_streams(folder)
        for stub in stubs:
            stub.requests.clear()  # setting up is not the desk's traffic
        orders = run(app, own_stubs, args.minutes * 60, random.Random(args.seed), args.page)
        report(hedge_stub, own_stubs, orders, args.minutes, args.polling, args.page)
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)
        for socket in sockets:
            socket.stop()
        for stub in stubs:
            stub.stop()
        redis_server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def start_streams(folder: Path) -> list:
    """`manage.py stream` and a worker, as production runs them; back once every account's
    fills, books (the hedge venue's and each own venue's) and balances stream."""
    from hedge_latency import start_worker

    from bots.models import Market
    from bots.venues import stream_state as state
    from bots.venues import venue_for

    env = dict(os.environ)
    log = open(folder / "stream.log", "w")  # noqa: SIM115 - lives as long as the process
    processes = [subprocess.Popen([sys.executable, "manage.py", "stream"], cwd=ROOT, env=env,
                                  stdout=log, stderr=subprocess.STDOUT)]
    processes.append(start_worker(env, folder, "all", None))
    markets = list(Market.objects.select_related("mm_account__venue", "hedge_account__venue"))
    accounts = {m.mm_account_id: m.mm_account for m in markets} | {m.hedge_account_id: m.hedge_account for m in markets}
    deadline = time.monotonic() + 60
    while True:
        fills = all(state.fills_streamed(m.mm_account_id) for m in markets)
        books = all(state.streamed_book(a.venue_id, m.symbol, 60)
                    for m in markets for a in (m.hedge_account, m.mm_account))
        balances = all(state.shared_balance(venue_for(a).balance_key)[0] for a in accounts.values())
        if fills and books and balances:
            return processes
        if time.monotonic() > deadline:
            raise RuntimeError(f"the stream process did not start; see {folder / 'stream.log'}")
        time.sleep(0.2)


def seed_markets(hedge_stub, own_stubs) -> None:
    """The markets; the stubs are websocket stubs, whose ccxt options point at both sides."""
    from bots.management.commands.seed_demo import STUB_QUOTES
    from bots.models import Account, Market, QuoteSettings

    hedge = stub_account(hedge_stub, "hedge-stub", Account.HEDGING, "Hedge venue")
    for i, stub in enumerate(own_stubs):
        mm = stub_account(stub, f"own-stub-{i}", Account.MARKET_MAKING, f"Own venue {i}")
        market = Market.objects.create(
            slug=f"btc-usdt-{i}", symbol="BTC/USDT", mm_account=mm, hedge_account=hedge,
            target_base=Decimal("100"),
        )
        QuoteSettings.objects.create(market=market, **{**STUB_QUOTES, "level_amount": Decimal("0.001")})


def run(app, own_stubs, seconds: float, rng: random.Random, page: bool) -> list[int]:
    """The beat schedule and the users for `seconds`; the own stubs' orders sent each second.
    `page`: the first market's page snapshot built every PUBLISH_EVERY_MS in between."""
    from django.conf import settings

    from bots.models import Market
    from dashboard.live.publisher import PUBLISH_EVERY_MS, snapshot_json

    schedule = {
        entry["task"]: float(entry["schedule"])
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items() if name not in PAPER_ONLY
    }
    due = dict.fromkeys(schedule, 0.0)
    orders_per_second, sent_before = [], 0
    start = time.monotonic()
    second = 0
    while (now := time.monotonic() - start) < seconds:
        for task, every in schedule.items():
            if now >= due[task]:
                due[task] = now + every
                try:
                    app.tasks[task].apply()
                except Exception as exc:  # a task that fails here fails in a worker too: go on
                    print(f"  {task} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        for stub in own_stubs:
            if rng.random() < USERS_PER_MINUTE / 60:
                user_trade(stub, rng)
        sent = sum(posted(stub) for stub in own_stubs)
        orders_per_second.append(sent - sent_before)
        sent_before = sent
        second += 1
        while page and time.monotonic() < start + second:
            # What publish_market builds for a watched page (the channel layer is left out).
            snapshot_json(Market.objects.select_related("mm_account__venue").order_by("pk").first())
            time.sleep(max(0.0, min(PUBLISH_EVERY_MS / 1000, start + second - time.monotonic())))
        time.sleep(max(0.0, start + second - time.monotonic()))
    return orders_per_second


def user_trade(stub, rng: random.Random) -> None:
    """A user takes the MM bot's best quote on one side, in part."""
    side = rng.choice(("buy", "sell"))
    levels = stub.book.depth("sell" if side == "buy" else "buy")
    if levels:
        price, amount = levels[0]
        stub.seed_liquidity(side, price, min(amount, Decimal("0.0005")))


def posted(stub) -> int:
    return sum(1 for method, path, _ in list(stub.requests) if (method, path) == ("POST", "/api/v3/order"))


def weight(stub) -> int:
    return sum(binance_weight_of_url(method, path, params) for method, path, params in list(stub.requests))


def report(hedge_stub, own_stubs, orders: list[int], minutes: float, polling: bool, page: bool) -> None:
    from bots.models import Fill, Hedge

    peak = max((sum(orders[i:i + 10]) for i in range(max(1, len(orders) - 9))), default=0)
    own_weight = sum(weight(stub) for stub in own_stubs)
    print(f"{len(own_stubs)} markets, {minutes:g} minutes, users at {USERS_PER_MINUTE} trades a minute per market, "
          + ("books and fills by REST polling" if polling else "manage.py stream beside the beat")
          + (", one market's page pushed at its fastest rate" if page else ""))
    print(f"hedge venue request weight per minute: {weight(hedge_stub) / minutes:.0f} (limit 6000)")
    print(f"own venue request weight per minute: {own_weight / minutes:.0f} (limit 6000)")
    print(f"own venue orders per 10 s at the peak: {peak} (binance allows 100 per account)")
    hedges = Counter(Hedge.objects.values_list("state", flat=True))
    print(f"  fills {Fill.objects.count()}, hedges by state {dict(hedges)}")
    for name, stubs in (("hedge", [hedge_stub]), ("own", own_stubs)):
        by_endpoint = Counter()
        for stub in stubs:
            for method, path, params in list(stub.requests):
                by_endpoint[f"{method} {path}"] += binance_weight_of_url(method, path, params)
        top = ", ".join(f"{k} {v / minutes:.0f}" for k, v in by_endpoint.most_common(6))
        print(f"  {name} venue weight a minute by endpoint: {top}")


if __name__ == "__main__":
    main()
