"""What keeping an own venue's streamed book costs the stream process: one save of a book as deep as
the health samples read it (bots/venues/stream_state.py:DEEP_BOOK_LEVELS a side), from ccxt's
floats to the record in Redis, as `bots/streams/runner.py:AccountStream.book` does at each save.

    .venv/bin/python bench/own_book.py [--saves 300]

A throwaway desk's private embedded Redis (bench/paper_markets.py). Prints the p50 and p99 of one
save, and the share of one core it would take at 100 changes a second if every change were saved
(why the own book is saved at most once per WATCHED_BOOK_SECONDS).
"""

from __future__ import annotations

import argparse
import statistics
import time

from paper_markets import Desk, percentile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=300)
    args = parser.parse_args()
    desk = Desk()
    try:
        from decimal import Decimal

        from bots.streams.runner import WATCHED_BOOK_SECONDS
        from bots.venues import stream_state as state

        levels = state.DEEP_BOOK_LEVELS
        # As ccxt.pro keeps a book: floats, best first, amounts that vary.
        book = {
            "bids": [[65_000 - i * 0.5, 0.01 * (i % 7 + 1)] for i in range(levels)],
            "asks": [[65_000.5 + i * 0.5, 0.01 * (i % 5 + 1)] for i in range(levels)],
        }

        def save() -> None:
            bids = [(Decimal(repr(p)), Decimal(repr(a))) for p, a, *_ in book["bids"][:levels]]
            asks = [(Decimal(repr(p)), Decimal(repr(a))) for p, a, *_ in book["asks"][:levels]]
            state.save_book(1, "BTC/USDT", bids, asks, state.now_ms(), levels)

        for _ in range(10):
            save()
        took = []
        for _ in range(args.saves):
            started = time.perf_counter()
            save()
            took.append((time.perf_counter() - started) * 1000)
        p50 = statistics.median(took)
        print(f"one save of the own book, {levels} levels a side: p50 {p50:.2f} ms p99 {percentile(took, 0.99):.2f} ms")
        print(f"every change saved at 100 changes a second: {p50 * 100 / 10:.0f}% of one core; "
              f"at most once per {WATCHED_BOOK_SECONDS:g} s: {p50 / WATCHED_BOOK_SECONDS / 10:.1f}%")
    finally:
        desk.close(True)


if __name__ == "__main__":
    main()
