"""Market-ticks per second one worker process sustains: 100 markets x 10 levels a side on paper
venues.

    .venv/bin/python bench/mm_ticks.py [--markets 100] [--levels 10] [--rounds 20] [--task]

Builds a throwaway desk (bench/paper_markets.py): N markets between a paper own venue and a paper
outside venue whose deep book follows a random walk, each quoting `levels` a side, all quoted
once. Then, round after round, every outside price takes one step of its walk (as beat does
each second; not timed), and every market ticks once, one after another, in this one process
on one core. Each tick is timed alone.

By default a tick is bots.market_making.quoter.tick_market: reading both venues, the engine's quote
and plan, cancelling and placing on the paper venue, and every record. With --task it is the
Celery task's body instead (bots.tasks.mm_tick.run): the same plus the tick lock in Redis, the
balance snapshots when something changed and the page push.

Prints per-tick p50/p99 and the market-ticks per second of the rounds (median and worst), by the
wall clock and by this process's CPU time (the two agree on an idle machine; on a shared one
the CPU figure is what one core sustains), with the orders placed and cancelled per round to
show the work was real, and the load average to show how idle the machine was.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from paper_markets import Desk, percentile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markets", type=int, default=100)
    parser.add_argument("--levels", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--task", action="store_true", help="time the Celery task's body")
    args = parser.parse_args()

    desk = Desk()
    done = False
    try:
        markets = desk.seed(args.markets, args.levels)
        ticks, rates, cpu_rates, placed, cancelled = run(desk, markets, args.rounds, args.task)
        done = True
    finally:
        desk.close(done)
    what = "bots.tasks.mm_tick (lock, tick, balances, push)" if args.task else (
        "bots.market_making.quoter.tick_market"
    )
    print(f"{args.markets} markets x {args.levels} levels a side, {args.rounds} rounds, one process: {what}")
    print(
        f"  per tick: p50 {percentile(ticks, 0.5):.2f} ms   p99 {percentile(ticks, 0.99):.2f} ms   "
        f"max {max(ticks):.2f} ms"
    )
    overall = len(rates) / sum(1 / r for r in rates)  # all ticks over all the rounds' time
    print(
        f"  market-ticks per second: over all rounds {overall:.0f}   median round "
        f"{statistics.median(rates):.0f}   worst round {min(rates):.0f}   (target: at least 100)"
    )
    print(
        f"  market-ticks per CPU second of this process: median {statistics.median(cpu_rates):.0f}"
        f"   worst round {min(cpu_rates):.0f}   (what one core sustains when other work leaves "
        f"it alone; load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )
    print(
        f"  orders per round: placed median {statistics.median(placed):.0f}, cancelled median "
        f"{statistics.median(cancelled):.0f}"
    )


def run(desk: Desk, markets: list, rounds: int, as_task: bool):
    from bots.market_making import quoter
    from bots.market_making.tasks import mm_tick
    from bots.models import Order

    def one(market_id: int) -> None:
        if as_task:
            mm_tick.run(market_id)
        else:
            quoter.tick_market(market_id, on_hedge=lambda hedge_id: None)

    ids = [m.pk for m in markets]
    ticks, rates, cpu_rates, placed, cancelled = [], [], [], [], []
    for _ in range(rounds):
        desk.move_outside()
        before_orders = Order.objects.count()
        before_cancelled = Order.objects.filter(state=Order.CANCELED).count()
        round_start, round_cpu = time.perf_counter(), time.process_time()
        for market_id in ids:
            start = time.perf_counter()
            one(market_id)
            ticks.append((time.perf_counter() - start) * 1000)
        rates.append(len(ids) / (time.perf_counter() - round_start))
        cpu_rates.append(len(ids) / (time.process_time() - round_cpu))
        placed.append(Order.objects.count() - before_orders)
        cancelled.append(Order.objects.filter(state=Order.CANCELED).count() - before_cancelled)
    return ticks, rates, cpu_rates, placed, cancelled


if __name__ == "__main__":
    main()
