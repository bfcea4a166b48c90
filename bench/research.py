"""Research mode: the Avellaneda-Stoikov experiment, GLFT beside it, the paper's defaults, one core.

    .venv/bin/python bench/research.py [--repeat 7] [--runs 1000]

Each repeat is one `research.run` (the inventory strategy through the MM engine's Decimal
Avellaneda-Stoikov quote, the GLFT one through its GLFT quote, then the symmetric one, 200 steps
each) with its own seed. Prints the wall time of each repeat,
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

from bots.engine.market_making import glft, volatility  # noqa: E402
from bots.engine.simulation import research


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--runs", type=int, default=1000)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    params = research.Params(runs=args.runs)
    calls = {"as": 0, "glft": 0}

    def counting(name, real):
        def counted(*a, **k):
            calls[name] += 1
            return real(*a, **k)
        return counted

    volatility.avellaneda_stoikov = counting("as", volatility.avellaneda_stoikov)
    glft.glft_quote = counting("glft", glft.glft_quote)
    times = []
    for seed in range(args.repeat):
        calls.update({"as": 0, "glft": 0})
        start = time.perf_counter()
        result = research.run(params, seed=seed)
        times.append(time.perf_counter() - start)
        print(f"repeat {seed + 1}: {times[-1] * 1000:.0f} ms ({calls['as']:,} calls of the "
              f"engine's A-S quote, {calls['glft']:,} of its GLFT quote)")
    print(f"{args.runs:,} runs x {params.steps} steps, three strategies: median "
          f"{statistics.median(times) * 1000:.0f} ms, min {min(times) * 1000:.0f} ms, "
          f"max {max(times) * 1000:.0f} ms")
    for row in result.summary()["strategies"]:
        print(f"  {row['strategy']:<10} spread {row['mean_spread']:.4f}  "
              f"profit {row['profit_mean']:.2f} (std {row['profit_std']:.2f})  "
              f"final q {row['final_inventory_mean']:.3f} "
              f"(std {row['final_inventory_std']:.3f})")


if __name__ == "__main__":
    main()
