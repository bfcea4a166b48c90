"""The market page's first load in a busy market: its history rebuilt from the records.

    .venv/bin/python bench/market_page.py [--fills 1000 5000] [--repeat 5]

A throwaway world in a temporary folder (its own SQLite database and embedded Redis, the demo
market seeded on paper venues). Users trade against the MM bot through the paper venue, each
fill is recorded and hedged as the hedging worker does it (the accounts' balances read every
10 fills, as the workers' refreshes do), until the market holds each count of hedged fills given; then the page's history (dashboard.market_making.market_history.market_history) and the
whole page (a logged-in GET of /markets/btc-usdt/, history and snapshot included) are timed.
All the trades fall inside the page's 6-hour window, as in a market trading that much in it.
Prints the median and the worst of the repeats.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fills", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="ballast-bench-"))
    from ballast.embedded_redis import EmbeddedRedis

    redis_server = EmbeddedRedis(folder / "redis.sock").start()
    os.environ.update({
        "BALLAST_VAR_DIR": str(folder),
        "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
        "REDIS_URL": redis_server.url,
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "ballast.settings",
    })
    try:
        market, client = build_world()
        made = 0
        for target in sorted(args.fills):
            made = trade(market, made, target)
            history, page = time_page(market, client, args.repeat)
            print(
                f"{made:>6} hedged fills in the window: history rebuilt median {statistics.median(history):.0f} ms "
                f"(worst {max(history):.0f}), whole page median {statistics.median(page):.0f} ms "
                f"(worst {max(page):.0f}), {args.repeat} loads"
            )
    finally:
        redis_server.stop()


def build_world():
    """The hedge-latency bench's world (the demo seeded, deep MM quotes), and a logged-in client."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from hedge_latency import build_world as demo_world

    market = demo_world()
    settings.ALLOWED_HOSTS = ["*"]
    client = Client()
    client.force_login(get_user_model().objects.get(username="bench"))
    return market, client


def trade(market, made: int, target: int) -> int:
    """User trades, each fill captured and hedged at once, until `target` fills are hedged; the
    accounts' balances read every 10 fills, as the workers' refreshes after hedges do."""
    from bots.hedging import hedger
    from bots.hedging.capture import capture_fills
    from bots.simulation.paper_flow import user_trade
    from bots.treasury.balances import refresh_balances
    from bots.venues import venue_for

    mm = venue_for(market.mm_account)
    while made < target:
        user_trade(market, "buy" if made % 2 else "sell", Decimal("0.01"))
        for fill in capture_fills(market, mm, lambda hedge_id: None):
            hedger.execute_hedge(fill.hedge.pk)
            made += 1
            if made % 10 == 0:
                for account in (market.mm_account, market.hedge_account):
                    refresh_balances(account, [market.base, market.quote])
    return made


def time_page(market, client, repeat: int) -> tuple[list[float], list[float]]:
    from dashboard.market_making.market_history import market_history

    history, page = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        market_history(market)
        history.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        response = client.get(f"/markets/{market.slug}/")
        page.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"the market page answered {response.status_code}")
    return history, page


if __name__ == "__main__":
    main()
