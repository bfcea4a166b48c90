"""Research mode: the Avellaneda-Stoikov experiment with the paper's defaults, on one core.

    .venv/bin/python bench/research.py [--repeat 7] [--runs 1000]

Each repeat is one `research.run` (the inventory strategy through the MM engine's Decimal quote,
then the symmetric one, 200 steps each) with its own seed. Prints the wall time of each repeat,
the median, and the figures of the last repeat.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bots.engine.market_making import volatility  # noqa: E402
from bots.engine.simulation import research


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--runs", type=int, default=1000)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    params = research.Params(runs=args.runs)
    real = volatility.avellaneda_stoikov
    calls = 0

    def counted(*a, **k):
        nonlocal calls
        calls += 1
        return real(*a, **k)

    volatility.avellaneda_stoikov = counted
    times = []
    for seed in range(args.repeat):
        calls = 0
        start = time.perf_counter()
        result = research.run(params, seed=seed)
        times.append(time.perf_counter() - start)
        print(f"repeat {seed + 1}: {times[-1] * 1000:.0f} ms "
              f"({calls:,} calls of the engine's quote)")
    print(f"{args.runs:,} runs x {params.steps} steps, both strategies: median "
          f"{statistics.median(times) * 1000:.0f} ms, min {min(times) * 1000:.0f} ms, "
          f"max {max(times) * 1000:.0f} ms")
    for row in result.summary()["strategies"]:
        print(f"  {row['strategy']:<10} spread {row['mean_spread']:.4f}  "
              f"profit {row['profit_mean']:.2f} (std {row['profit_std']:.2f})  "
              f"final q {row['final_inventory_mean']:.3f} "
              f"(std {row['final_inventory_std']:.3f})")


if __name__ == "__main__":
    main()
