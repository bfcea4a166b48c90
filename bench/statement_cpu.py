"""What one plain statement of the hedge path costs the process that runs it, on the database
driver's own cursor (bots/platform/sql.py:cursor, as the hot paths run them) and on Django's
cursor (as they ran before): the capture's read of its market, a balance read of the paper
venue, and one UPDATE, on the SQLite database of the demo market (a throwaway one).

    .venv/bin/python bench/statement_cpu.py [--statements 20000] [--rounds 2]

Prints, for each cursor and round, the CPU of one statement (this process's), the mean over
`--statements` of each kind after 500 to warm up, in one transaction. The cursors take turns, so a machine that
slows down meanwhile weighs on both. DATABASE_URL is ignored: the database is made in a
temporary folder.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="ballast-bench-"))
    os.environ.update({
        "BALLAST_VAR_DIR": str(folder),
        "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "ballast.settings",
    })
    sys.path.insert(0, str(ROOT))
    try:
        market = build_world()
        statements = hot_statements(market)
        for _ in range(args.rounds):
            for kind in ("driver", "django"):
                cpu = measure(kind, statements, args.statements)
                print(f"plain statement on {kind}'s cursor: cpu {cpu * 1000:.1f} us")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def build_world():
    import django
    from django.conf import settings

    django.setup()
    from django.core.management import call_command

    settings.MIGRATION_MODULES = {app: None for app in ("bots", "dashboard", "auth", "admin",
                                                         "contenttypes", "sessions")}
    call_command("migrate", run_syncdb=True, verbosity=0)
    call_command("seed_demo", "--minimal", "--trades-per-minute", "0", "--username", "bench",
                 stdout=io.StringIO())
    from bots.models import Market

    return Market.objects.get(slug="btc-usdt")


def hot_statements(market) -> list[tuple[str, list, bool]]:
    """(statement, parameters, whether it answers rows) of three of the path's statements."""
    from bots.hedging import capture
    from bots.models import Account
    from bots.platform import sql
    from bots.venues import paper_store

    balances = paper_store._balances(1, None)
    touch = sql.update_statement(Account, ("checked_at",), ("id",))
    return [
        (capture._capture_market(), [market.pk], True),
        (balances, [market.hedge_account_id], True),
        (touch, [None, market.hedge_account_id], False),
    ]


def measure(kind: str, statements, count: int) -> float:
    """Mean CPU in ms of one statement on this kind of cursor."""
    from django.db import connection, transaction

    from bots.platform import sql

    def run(n: int) -> None:
        for _ in range(n):
            for text, params, answers in statements:
                with (sql.cursor() if kind == "driver" else connection.cursor()) as cursor:
                    cursor.execute(text, params)
                    if answers:
                        cursor.fetchall()

    # Inside one transaction, as the path's statements run: no commit in what is measured.
    with transaction.atomic():
        run(500)
        started = time.process_time()
        run(count)
        spent = time.process_time() - started
    return spent * 1000 / (count * len(statements))


if __name__ == "__main__":
    main()
