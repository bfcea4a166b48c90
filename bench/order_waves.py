"""A tick's order requests one by one and at once: 8 limit orders placed and then cancelled on the
binance stub through the ccxt adapter (CcxtVenue, the shared request budget on), as many in flight
as `--widths` says (bots/venues/at_once.py), the widths taking turns round after round so that
each sees the same machine.

    .venv/bin/python bench/order_waves.py [--rounds 100] [--orders 8] [--widths 1,4,8]

Each turn rests 0.3 s, so the requests stay within the shared budget's refill. Prints, per width, p50 and p99 in milliseconds of placing all the orders (the last one
accepted) and of cancelling them all. A throwaway desk (bench/paper_markets.py) gives the
private Redis the budget lives in; the stub serves on loopback from this process's threads, so
on this 2-core machine client and exchange share the cores, as in bench/quote_latency.py.
"""

from __future__ import annotations

import argparse
import time
from decimal import Decimal
from functools import partial

from paper_markets import Desk, percentile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--orders", type=int, default=8)
    parser.add_argument("--widths", default="1,4,8")
    args = parser.parse_args()
    widths = [int(w) for w in args.widths.split(",")]

    desk = Desk()
    from bots.simulation.stub_exchanges.binance import BinanceStub
    from bots.venues import at_once
    from bots.venues.ccxt_venue import CcxtVenue

    stub = BinanceStub(balances={"BTC": "1000", "USDT": "100000000"})
    done = False
    try:
        venue = CcxtVenue.from_settings(
            "own-stub", "binance", {**stub.ccxt_config(), "timeout": 3000},
            {"apiKey": BinanceStub.API_KEY, "secret": BinanceStub.SECRET},
        )
        venue.load_markets()
        placing: dict[int, list[float]] = {w: [] for w in widths}
        cancelling: dict[int, list[float]] = {w: [] for w in widths}
        for round_ in range(args.rounds + 5):
            for width in widths:
                sends = [
                    partial(venue.create_order, "BTC/USDT", "limit", "buy", Decimal("0.001"),
                            Decimal(60000 + i), {"clientOrderId": f"w{width}-{round_}-{i}"})
                    for i in range(args.orders)
                ]
                began = time.perf_counter()
                placed = at_once.each(width, sends)
                took = time.perf_counter() - began
                if any(isinstance(p, Exception) for p in placed):
                    raise RuntimeError(f"a send failed: {placed}")
                began = time.perf_counter()
                done = at_once.each(width, [partial(venue.cancel_order, p["id"], "BTC/USDT") for p in placed])
                undone = time.perf_counter() - began
                if any(isinstance(d, Exception) for d in done):
                    raise RuntimeError(f"a cancel failed: {done}")
                if round_ >= 5:  # connections opened and warm
                    placing[width].append(took * 1000)
                    cancelling[width].append(undone * 1000)
                # 16 of the budget's weight a turn: paced to stay within its refill (about 66 a
                # second for binance's 6,000 a minute), or the budget's waits are what is measured.
                time.sleep(0.3)
        done = True
    finally:
        stub.stop()
        desk.close(done)
    print(f"{args.orders} orders placed, then cancelled, on the binance stub through ccxt, "
          f"{args.rounds} rounds, widths taking turns:")
    for width in widths:
        print(f"  {width} at once: place p50 {percentile(placing[width], 0.5):.2f} ms "
              f"p99 {percentile(placing[width], 0.99):.2f} ms; cancel p50 "
              f"{percentile(cancelling[width], 0.5):.2f} ms p99 {percentile(cancelling[width], 0.99):.2f} ms")


if __name__ == "__main__":
    main()
