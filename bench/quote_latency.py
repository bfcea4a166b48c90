"""Quote latency: from a reference price change to the new orders accepted by the paper venue,
through Celery and Redis, over 1,000 changes.

    .venv/bin/python bench/quote_latency.py [--changes 1000] [--levels 5]

A throwaway desk (bench/paper_markets.py): one market quoting `levels` a side (the demo's 5 by
default), its refresh time and tolerance at 0 so that every change replaces every order, and a
real Celery worker (solo pool) on a private embedded Redis. Each change rests the outside book
around a new price, 8 bps up or down in turn, then queues mm_tick through Redis as a price feed
would. A change's latency runs from the moment its outside book is committed to the moment the
worker recorded the last of the new orders as accepted (Order.updated_at, stamped right after
the paper venue answered). The next change waits for that tick and its bookkeeping, so this is
latency, not throughput. Prints p50, p90, p99 and max in milliseconds, and the same for the
first new order of each change.
"""

from __future__ import annotations

import argparse
import statistics
import time
from decimal import Decimal

from paper_markets import Desk, percentile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--levels", type=int, default=5)
    args = parser.parse_args()

    desk = Desk()
    try:
        [market] = desk.seed(
            1, args.levels, order_refresh_seconds=Decimal("0"), refresh_tolerance_bps=Decimal("0"),
            filled_order_delay_seconds=Decimal("0"),
        )
        desk.start_worker()
        last, first = measure(market, args.warmup, args.changes, args.levels)
    finally:
        desk.close()
    print(
        f"reference change -> new orders accepted by the paper venue, through Celery + Redis, "
        f"{len(last)} changes, {args.levels} levels a side replaced each time, worker solo:"
    )
    for label, values in (("all new orders", last), ("first new order", first)):
        print(
            f"  {label:>15}: p50 {percentile(values, 0.5):.2f} ms   p90 {percentile(values, 0.9):.2f} ms   "
            f"p99 {percentile(values, 0.99):.2f} ms   max {max(values):.2f} ms   "
            f"mean {statistics.fmean(values):.2f} ms"
        )
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


def _when(seconds: float):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(seconds, UTC)


if __name__ == "__main__":
    main()
