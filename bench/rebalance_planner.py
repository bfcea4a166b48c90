"""How long one planning run takes: the demo's two accounts, and the largest input the exact
search takes (five accounts with a band for one asset, two networks between every pair), in the
complete case and in a partial one (funds short everywhere); then the slowest of 400 random
five-account inputs (seeded: bands, holdings, free balances, fees and minimums all drawn).

    .venv/bin/python bench/rebalance_planner.py
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from decimal import Decimal as D
from itertools import permutations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bots.engine.treasury.planner import Band, Holding, Route, plan_asset  # noqa: E402

BAND = Band(D("1"), D("2"), D("3"))


def routes(names, networks=(("BTC", "0.0002", "0.001"), ("LIGHTNING", "0.00001", "0.0001"))):
    return [
        Route(s, d, "BTC", net, D(fee), D(least), D("0.00000001"), 600)
        for s, d in permutations(names, 2)
        for net, fee, least in networks
    ]


CASES = {
    "2 accounts, one drained (the demo)": (
        [
            Holding("mm", "MM", "BTC", D("0.6"), D("0.6"), BAND),
            Holding("h", "H", "BTC", D("3.4"), D("3.4"), BAND),
        ],
        routes(["mm", "h"]),
    ),
    "5 accounts, 2 networks each way, complete plan": (
        [
            Holding(n, n, "BTC", D(x), D(x), BAND)
            for n, x in zip("abcde", ["0.1", "0.2", "5", "4", "2"], strict=True)
        ],
        routes("abcde"),
    ),
    "5 accounts, 2 networks each way, short everywhere (partial)": (
        [
            Holding(n, n, "BTC", D(x), D(x), BAND)
            for n, x in zip("abcde", ["0.1", "0.2", "0.3", "0.4", "2.5"], strict=True)
        ],
        routes("abcde"),
    ),
}


def random_input(rng: random.Random):
    names = "abcde"
    holdings = []
    for name in names:
        low = rng.randint(0, 300)
        target = low + rng.randint(0, 300)
        high = target + rng.randint(0, 300)
        total = rng.choice(
            [rng.randint(0, low), rng.randint(low, high), rng.randint(high, high + 400)]
        )
        free = total - rng.randint(0, total) if rng.random() < 0.3 else total
        band = Band(D(low) / 100, D(target) / 100, D(high) / 100)
        holdings.append(Holding(name, name, "X", D(free) / 100, D(total) / 100, band))
    routes = [
        Route(
            s,
            d,
            "X",
            net,
            D(rng.choice(["0", "0.01", "0.05"])),
            D(rng.choice(["0", "0.1", "0.5", "1"])),
            D("0.01"),
            60,
        )
        for s, d in permutations(names, 2)
        for net in ("A", "B")
        if rng.random() < 0.8
    ]
    return holdings, routes


def main(repeats: int = 20) -> None:
    for name, (holdings, rs) in CASES.items():
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            result = plan_asset(holdings, rs, D("0.01"))
            times.append(time.perf_counter() - start)
        print(
            f"{name}: {len(result.transfers)} transfer(s), complete={result.complete}; "
            f"median {statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms "
            f"over {repeats} runs"
        )
    rng = random.Random(1)
    slowest = 0.0
    for _ in range(400):
        holdings, rs = random_input(rng)
        start = time.perf_counter()
        plan_asset(holdings, rs, D("0.05"))
        slowest = max(slowest, time.perf_counter() - start)
    print(f"400 random five-account inputs: the slowest took {slowest * 1000:.0f} ms")


if __name__ == "__main__":
    main()
