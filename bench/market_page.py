"""The market page's first load in a busy market: its history rebuilt from the records.

    .venv/bin/python bench/market_page.py [--fills 1000 5000] [--repeat 5]

A throwaway world in a temporary folder (its own SQLite database and embedded Redis, the demo
market seeded on paper venues). Users trade against the MM bot through the paper venue, each
fill is recorded and hedged as the hedging worker does it (the accounts' balances read every
10 fills, as the workers' refreshes do), until the market holds each count of hedged fills given; then the page's history (dashboard.market_history.market_history) and the
whole page (a logged-in GET of /markets/btc-usdt/, history and snapshot included) are timed.
All the trades fall inside the page's 6-hour window, as in a market trading that much in it.
Prints the median and the worst of the repeats.
"""

from __future__ import annotations

import argparse
import io
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
    from dashboard.embedded_redis import EmbeddedRedis

    redis_server = EmbeddedRedis(folder / "redis.sock").start()
    os.environ.update({
        "BALLAST_VAR_DIR": str(folder),
        "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
        "REDIS_URL": redis_server.url,
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
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
    import django
    from django.conf import settings

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    settings.MIGRATION_MODULES = {app: None for app in ("bots", "dashboard", "auth", "admin",
                                                         "contenttypes", "sessions")}
    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", run_syncdb=True, verbosity=0)
    call_command("seed_demo", "--trades-per-minute", "0", "--username", "bench", stdout=io.StringIO())

    from django.contrib.auth import get_user_model

    from bots.models import Market, PaperBalance
    from bots.venues.paper import PaperVenue

    market = Market.objects.select_related("mm_account__venue", "hedge_account__venue").get(slug="btc-usdt")
    for account in (market.mm_account, market.hedge_account):
        PaperBalance.objects.filter(account=account, asset="BTC").update(free=Decimal("1000"))
        PaperBalance.objects.filter(account=account, asset="USDT").update(free=Decimal("100000000"))
    mm = PaperVenue(market.mm_account)
    book = PaperVenue(market.hedge_account).fetch_order_book(market.symbol)
    mid = (book["bids"][0][0] + book["asks"][0][0]) / 2
    for side, factor in (("buy", Decimal("0.999")), ("sell", Decimal("1.001"))):
        price = (mid * factor).quantize(Decimal("0.01"))
        mm.create_order(market.symbol, "limit", side, Decimal("500"), price, {"postOnly": True})
    client = Client()
    client.force_login(get_user_model().objects.get(username="bench"))
    return market, client


def trade(market, made: int, target: int) -> int:
    """User trades, each fill captured and hedged at once, until `target` fills are hedged; the
    accounts' balances read every 10 fills, as the workers' refreshes after hedges do."""
    from bots import hedger
    from bots.balances import refresh_balances
    from bots.fills import capture_fills
    from bots.paper_flow import user_trade
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
    from dashboard.market_history import market_history

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
