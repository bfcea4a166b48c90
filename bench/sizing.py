"""Liquidity sizing Monte Carlo: 1,000 paths of one day in one-second steps, on one core.

    .venv/bin/python bench/sizing.py [--repeat 5]

Prints the wall time of each run and the median; the target is under 5 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bots.engine.simulation.sizing import Flow, Pools, histogram, required_pools, simulate, summary  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--paths", type=int, default=1000)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core, as the target says
    flow = Flow(trades_per_minute=12, mean_size=0.05, buy_share=0.52)
    pools = Pools(mm_base=2, mm_quote=130_000, hedge_base=2, hedge_quote=130_000, floor_base=0.1, floor_quote=6_500)
    times = []
    for run in range(args.repeat):
        start = time.perf_counter()
        result = simulate(flow, pools, days=1, paths=args.paths, seed=run)
        times.append(time.perf_counter() - start)
        print(f"run {run + 1}: {times[-1]:.2f} s")
    print(f"{args.paths} paths x 86,400 one-second steps: median {statistics.median(times):.2f} s, "
          f"min {min(times):.2f} s, max {max(times):.2f} s (target for 1,000 paths: < 5 s)")
    print("last run:", {k: round(v, 4) if isinstance(v, float) else v for k, v in summary(result).items()})
    # What a sizing run (bots.simulation.sizing_runs) does with a result: the requirement, the summary and
    # the two 50-bin histograms the page plots.
    start = time.perf_counter()
    need = required_pools(result, pools, 0.95)
    summary(result)
    histogram(result.days_to_dry, low=0, high=1)
    histogram(result.edge)
    print(f"answer from the last run (required pools at 95%, summary, 2 histograms): "
          f"{(time.perf_counter() - start) * 1000:.1f} ms; MM needs {need.mm_base:.3f} base, "
          f"{need.mm_quote:,.0f} quote")


if __name__ == "__main__":
    main()
