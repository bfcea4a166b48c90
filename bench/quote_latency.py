"""Quote latency: from a reference price change to the new orders accepted by the own venue, on
two paths: paper venues through Celery and Redis (1,000 changes), and ccxt streams (a book
change on a binance stub's websocket to the new quotes accepted by another binance stub).

    .venv/bin/python bench/quote_latency.py [--path both|paper|streams] [--changes 1000]
        [--stream-changes 200] [--levels 5] [--one-worker]

A throwaway desk (bench/paper_markets.py): one market quoting `levels` a side (the demo's 5 by
default), its refresh time and tolerance at 0 so that every change replaces every order, and a
real Celery worker (solo pool) on a private embedded Redis, and the ticks worker as `manage.py up`
starts it (solo, `-Q ticks`, without kombu's ack emulation; with --one-worker, none: the one
worker takes the ticks too). Each change rests the outside book
around a new price, 8 bps up or down in turn, then queues mm_tick through Redis as a price feed
would. A change's latency runs from the moment its outside book is committed to the moment the
worker recorded the last of the new orders as accepted (Order.updated_at, stamped right after
the paper venue answered). The next change waits for that tick and its bookkeeping, so this is
latency, not throughput. Prints p50, p90, p99 and max in milliseconds, and the same for the
first new order of each change.

The streams path: the market's MM bot quotes on a binance stub (bots/simulation/stub_exchanges/
binance.py) through ccxt, its hedge venue is a second binance stub with its websocket stub
beside it, and `manage.py stream` runs as its own process with the same Celery worker. Each
change lays the hedge stub's outside book again around a new price (one depth event on its
websocket); the stream process receives it by ccxt.pro's watch_order_book, keeps it in Redis and,
the reference having moved beyond the tolerance (0 here), queues the market's tick, which reads
the streamed book and replaces the quotes by REST orders to the own stub. A change's latency runs
from the hedge stub's own timestamp of the book change (the `E` of its depth event) to the
worker's record of the last new order accepted; the own stub's requests a measured change are
printed by kind. Over loopback, every process on this machine's cores. After the first tick the
bench's own process (the stubs) freezes its start-up out of the garbage collector's full
collections, as the worker and the stream process do theirs: the stubs stand for exchanges.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from decimal import Decimal

from paper_markets import ROOT, Desk, percentile, stub_account


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--levels", type=int, default=5)
    parser.add_argument("--path", choices=("both", "paper", "streams"), default="both")
    parser.add_argument("--stream-changes", type=int, default=200, help="changes on the ccxt path")
    parser.add_argument("--one-worker", action="store_true",
                        help="one solo worker takes the ticks too, with ack emulation (no ticks worker)")
    args = parser.parse_args()

    desk = Desk()
    results = {}
    done = False
    try:
        quote_settings = {
            "order_refresh_seconds": Decimal("0"), "refresh_tolerance_bps": Decimal("0"),
            "filled_order_delay_seconds": Decimal("0"),
        }
        if args.path in ("both", "paper"):
            [market] = desk.seed(1, args.levels, **quote_settings)
        desk.start_worker(ticks_worker=not args.one_worker)
        if args.path in ("both", "paper"):
            results["paper"] = measure(market, args.warmup, args.changes, args.levels)
        if args.path in ("both", "streams"):
            *results["streams"], placed, requests = measure_streams(
                desk, args.warmup, args.stream_changes, args.levels, quote_settings
            )
        done = True
    finally:
        desk.close(done)
    workers = "worker solo" if args.one_worker else "ticks worker solo + worker solo"
    for path, (last, first) in results.items():
        if path == "paper":
            print(
                f"reference change -> new orders accepted by the paper venue, through Celery + Redis, "
                f"{len(last)} changes, {args.levels} levels a side replaced each time, {workers}:"
            )
        else:
            print(
                f"book change on the binance stub's websocket (its timestamp) -> new orders accepted by "
                f"the own binance stub, ccxt streams, {len(last)} changes, {args.levels} levels a side "
                f"asked, {placed} orders replaced each time, manage.py stream + {workers}:"
            )
        for label, values in (("all new orders", last), ("first new order", first)):
            print(
                f"  {label:>15}: p50 {percentile(values, 0.5):.2f} ms   p90 {percentile(values, 0.9):.2f} ms   "
                f"p99 {percentile(values, 0.99):.2f} ms   max {max(values):.2f} ms   "
                f"mean {statistics.fmean(values):.2f} ms"
            )
        if path == "streams":
            print(f"  own venue requests a change: {requests}")
        print("  target: p99 < 50 ms")


def measure(market, warmup: int, changes: int, levels: int) -> tuple[list[float], list[float]]:
    from bots.engine.market_making.quoting import quote_levels
    from bots.market_making.tasks import mm_tick
    from bots.models import Account, Market, Order, PaperMarket
    from bots.simulation.paper_flow import OUTSIDE_BOOK
    from bots.venues.paper import PaperVenue, rules_of

    outside = PaperMarket.objects.get(venue=market.hedge_account.venue, symbol=market.symbol)
    liquidity = PaperVenue(Account.objects.get(venue=outside.venue, role=Account.LIQUIDITY))
    rules, mid = rules_of(outside), outside.reference_price
    last, first = [], []
    for i in range(warmup + changes):
        mid = rules.round_price(mid * (1 + (1 if i % 2 else -1) * Decimal("8") / 10000), "buy")
        liquidity.replace_orders(market.symbol, quote_levels(mid, OUTSIDE_BOOK, rules))
        changed = time.time()
        mm_tick.delay(market.pk)
        deadline = time.monotonic() + 10
        while True:
            ticked = Market.objects.filter(pk=market.pk).values_list("last_tick_at", flat=True).get()
            if ticked is not None and ticked.timestamp() > changed:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"change {i} was not quoted within 10 s")
            time.sleep(0.0005)
        accepted = sorted(
            stamp.timestamp()
            for stamp in Order.objects.filter(
                market=market, state=Order.OPEN, created_at__gte=_when(changed)
            ).values_list("updated_at", flat=True)
        )
        if len(accepted) != 2 * levels:
            raise RuntimeError(f"change {i} placed {len(accepted)} orders, not {2 * levels}")
        if i >= warmup:
            last.append((accepted[-1] - changed) * 1000)
            first.append((accepted[0] - changed) * 1000)
        time.sleep(0.1)  # the task's balance snapshots and page push, before the next change
    return last, first


def measure_streams(desk, warmup: int, changes: int, levels: int,
                    quote_settings: dict) -> tuple[list[float], list[float], str, str]:
    """The market quoting on one binance stub, its reference streamed from another's book; the
    latencies, how many orders each change replaced (the engine may place fewer levels than
    asked where the hedge book is thin), and the own stub's requests a measured change, by kind."""
    from bots.engine.market_making.quoting import quote_levels
    from bots.market_making.tasks import mm_tick
    from bots.models import Account, Market, Order, QuoteSettings
    from bots.platform.gc_pauses import freeze_startup
    from bots.simulation.paper_flow import OUTSIDE_BOOK
    from bots.simulation.stub_exchanges.binance import BinanceStub
    from bots.simulation.stub_exchanges.binance_ws import BinanceWsStub
    from bots.simulation.stub_exchanges.exchange import RULES
    from bots.venues import stream_state as state
    from bots.venues import venue_for

    deep = {"BTC": "1000", "USDT": "100000000"}
    own, outside = BinanceStub(balances=deep), BinanceStub(balances=deep)
    own_ws, outside_ws = BinanceWsStub(own), BinanceWsStub(outside)
    changed_at: list[int] = []  # the hedge stub's time of each change of its book
    outside.listeners.append(lambda change: changed_at.append(change.time))
    stream = None
    try:
        def lay(mid: Decimal) -> None:
            outside.lay_liquidity([(lv.side, lv.price, lv.amount) for lv in quote_levels(mid, OUTSIDE_BOOK, RULES)])

        mid = Decimal("65000")
        lay(mid)

        mm = stub_account(own_ws, "own-stub", Account.MARKET_MAKING)
        hedge = stub_account(outside_ws, "hedge-stub", Account.HEDGING)
        market = Market.objects.create(
            slug="btc-usdt-stub", symbol="BTC/USDT", mm_account=mm, hedge_account=hedge,
            last_fill_timestamp=state.now_ms(),
        )
        QuoteSettings.objects.create(market=market, levels=levels, level_amount=Decimal("0.001"),
                                     **quote_settings)
        log = open(desk.folder / "stream.log", "w")  # noqa: SIM115 - lives as long as the process
        stream = subprocess.Popen(
            [sys.executable, "manage.py", "stream"], cwd=ROOT, env={**os.environ, **desk.env},
            stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while not (state.fills_streamed(mm.pk) and state.streamed_book(hedge.venue_id, market.symbol, 60)
                   and state.shared_balance(venue_for(hedge).balance_key)[0]
                   and state.shared_balance(venue_for(mm).balance_key)[0]):
            if stream.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the stream process did not start; see {desk.folder / 'stream.log'}")
            time.sleep(0.1)
        asked = time.time()
        mm_tick.delay(market.pk)  # the first quotes, and the reference the moves are told from
        _wait_for_tick(market.pk, asked, "the first tick", seconds=60)  # markets load first
        # The stubs stand for exchanges, whose pauses are not this bench's subject: this process's
        # start-up (Django, ccxt, the stubs) out of its full collections, 80-160 ms each, as the
        # worker and the stream process do theirs (bots/platform/gc_pauses.py).
        freeze_startup()

        last, first, placed = [], [], set()
        for i in range(warmup + changes):
            if i == warmup:
                sent_before = len(own.requests)
            mid = RULES.round_price(mid * (1 + (1 if i % 2 else -1) * Decimal("8") / 10000), "buy")
            lay(mid)
            changed = changed_at[-1] / 1000
            _wait_for_tick(market.pk, changed, f"change {i}")
            accepted = sorted(
                stamp.timestamp()
                for stamp in Order.objects.filter(
                    market=market, state=Order.OPEN, created_at__gte=_when(changed),
                ).values_list("updated_at", flat=True)
            )
            resting = Order.objects.filter(market=market, state=Order.OPEN).count()
            if not accepted or len(accepted) != resting:
                # What the engine places is its decision (the hedge book's depth may allow fewer
                # levels than asked); what is measured is that every resting quote is new.
                raise RuntimeError(f"change {i}: {len(accepted)} new orders of {resting} resting")
            placed.add(len(accepted))
            if i >= warmup:
                last.append((accepted[-1] - changed) * 1000)
                first.append((accepted[0] - changed) * 1000)
            # The task's balance reads and page push, and the stream's one tick per 100 ms.
            time.sleep(0.2)
        kinds = Counter(f"{method} {path.removeprefix('/api/v3/')}" for method, path, _ in own.requests[sent_before:])
        requests = ", ".join(f"{kind} {count / changes:.2f}" for kind, count in sorted(kinds.items()))
        return last, first, "/".join(map(str, sorted(placed))), requests
    finally:
        if stream is not None:
            stream.terminate()
            stream.wait(10)
        own_ws.stop()
        outside_ws.stop()
        own.stop()
        outside.stop()


def _wait_for_tick(market_id: int, after: float, what: str, seconds: float = 10) -> None:
    """Wait for a tick of the market begun after `after` (seconds) to be recorded: its row is
    written as it ends."""
    from django.db import connection

    from bots.models import Market

    # One plain statement a poll, not a queryset compiled each time: the bench shares the two
    # cores with the path it measures.
    table = connection.ops.quote_name(Market._meta.db_table)
    since = connection.ops.adapt_datetimefield_value(_when(after))
    statement = f"SELECT 1 FROM {table} WHERE id = %s AND last_tick_at > %s"
    deadline = time.monotonic() + seconds
    with connection.cursor() as cursor:
        while True:
            cursor.execute(statement, [market_id, since])
            if cursor.fetchone() is not None:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} was not quoted within {seconds:g} s")
            # Polled gently: the figure comes from the rows' own timestamps, not from when the
            # bench notices, and a busy loop here would take a core from the stream and the worker.
            time.sleep(0.01)


def _when(seconds: float):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(seconds, UTC)


if __name__ == "__main__":
    main()
