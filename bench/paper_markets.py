"""A throwaway desk for the market-making benches: a temporary folder with its own SQLite database
(tables straight from the models), a private embedded Redis, any number of markets between a
paper own venue and a paper outside venue with a deep book, and optionally a Celery worker; and
the small helpers every bench shares (a free port, stopping the processes a bench started,
keeping every core awake).

Nothing outside the temporary folder is touched; DATABASE_URL and REDIS_URL are ignored.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def percentile(values: list[float], q: float) -> float:
    """Nearest rank: a value that occurred."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(round(q * len(ordered) + 0.5)) - 1))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, process: subprocess.Popen, log: Path, seconds: float = 30) -> None:
    """Until `process` (Daphne) accepts connections on `port`; an error naming its log if it
    exits or does not within `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"Daphne did not start: see {log}") from None
            time.sleep(0.1)


def stop(processes: list[subprocess.Popen]) -> None:
    """Ask each process to stop (SIGTERM, as a service manager does), then wait; killed after 10 s."""
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def busy_cores():
    """One busy loop per core at the lowest priority while the block runs: every core stays
    awake, so a process woken by a message starts at once instead of after its core's wake-up
    (on a virtual machine whose idle cores halt, a few tenths of a millisecond each). The loops
    yield to every other process. A diagnosis of the machine, not a way to run Ballast."""
    loops = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"], preexec_fn=lambda: os.nice(19))
        for _ in range(os.cpu_count() or 1)
    ]
    try:
        time.sleep(0.5)  # scheduled and spinning before anything is measured
        yield
    finally:
        for loop in loops:
            loop.kill()
        for loop in loops:
            loop.wait()


# The outside markets' random walks are seeded by the second: a fixed start replays one walk.
FIRST_SECOND = 1_750_000_000


def stub_account(stub, name: str, role: str, label: str = "", exchange_id: str = "binance"):
    """An account on a ccxt venue (binance unless said) pointed at a stub (its REST side, or a
    websocket stub's REST and websocket), with the stub's key: the stream paths' MM and hedge
    accounts."""
    from bots.models import Account, Venue

    rest = getattr(stub, "rest", stub)
    venue = Venue.objects.create(
        name=name, label=label or name, kind=Venue.CCXT, exchange_id=exchange_id,
        options={**stub.ccxt_config(), "timeout": 3000},
    )
    row = Account(venue=venue, name=f"{label or name} bot", role=role)
    row.set_credentials(rest.API_KEY, rest.SECRET)
    row.save()
    return row


class Desk:
    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="ballast-bench-"))
        from ballast.embedded_redis import EmbeddedRedis

        self.redis = EmbeddedRedis(self.folder / "redis.sock").start()
        self.env = {
            "BALLAST_VAR_DIR": str(self.folder),
            "DATABASE_URL": f"sqlite:///{self.folder / 'bench.sqlite3'}",
            "REDIS_URL": self.redis.url,
            "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "ballast.settings",
        }
        os.environ.update(self.env)
        self.workers: list[subprocess.Popen] = []
        import django
        from django.conf import settings
        from django.core.management import call_command

        django.setup()
        settings.MIGRATION_MODULES = {
            app: None for app in ("bots", "dashboard", "auth", "admin", "contenttypes", "sessions")
        }
        call_command("migrate", run_syncdb=True, verbosity=0)

    def seed(self, count: int, levels: int, **quote_settings) -> list:
        """`count` markets B000/USDT... with `levels` levels a side, quoted once.

        Each market has an own venue and an outside venue of its own, as separate exchanges
        would. The outside walks start from a fixed second, so every run of a bench sees the
        same prices and does the same work.
        """
        from bots.market_making import quoter
        from bots.models import Account, Market, PaperBalance, PaperMarket, QuoteSettings, Venue
        from bots.simulation.paper_flow import move_outside_markets

        rules = {"quote": "USDT", "price_tick": Decimal("0.01"), "amount_step": Decimal("0.001"),
                 "min_amount": Decimal("0.001"), "min_cost": Decimal("1")}
        balances, markets = [], []
        for i in range(count):
            base = f"B{i:03d}"
            symbol = f"{base}/USDT"
            own = Venue.objects.create(name=f"own-{i}", label=f"Own {i}", kind=Venue.PAPER)
            outside = Venue.objects.create(name=f"outside-{i}", label=f"Outside {i}", kind=Venue.PAPER)
            mm = Account.objects.create(venue=own, name="MM bot", role=Account.MARKET_MAKING)
            hedge = Account.objects.create(venue=outside, name="Hedging bot", role=Account.HEDGING)
            liquidity = Account.objects.create(venue=outside, name="Outside", role=Account.LIQUIDITY)
            PaperMarket.objects.create(venue=own, symbol=symbol, base=base, taker_fee=Decimal("0.001"), **rules)
            PaperMarket.objects.create(
                venue=outside, symbol=symbol, base=base, maker_fee=Decimal("0.001"),
                taker_fee=Decimal("0.001"), reference_price=Decimal(100 + i), **rules,
            )
            for account, amount in ((mm, "1e6"), (hedge, "1e6"), (liquidity, "1e9")):
                balances += [(account, base, Decimal(amount)), (account, "USDT", Decimal(amount) * 1000)]
            market = Market.objects.create(slug=base.lower(), symbol=symbol, mm_account=mm, hedge_account=hedge)
            QuoteSettings.objects.create(
                market=market, levels=levels, level_amount=Decimal("0.05"), amount_growth=Decimal("0.2"),
                **quote_settings,
            )
            markets.append(market)
        PaperBalance.objects.bulk_create(
            PaperBalance(account=a, asset=asset, free=amount) for a, asset, amount in balances
        )
        self.second = FIRST_SECOND
        move_outside_markets(self.second)
        for market in markets:
            quoter.tick_market(market.pk, on_hedge=lambda hedge_id: None)
        return markets

    def move_outside(self) -> None:
        """One step of every outside market's random walk, as beat does once a second."""
        from bots.simulation.paper_flow import move_outside_markets

        self.second += 1
        move_outside_markets(self.second)

    def start_worker(self, ticks_worker: bool = False) -> None:
        """A solo worker taking every queue; with `ticks_worker`, also the ticks worker as
        `manage.py up` starts it (solo, `-Q ticks`, without kombu's ack emulation)."""
        self.workers.append(self._worker("worker", []))
        if ticks_worker:
            self.workers.append(self._worker("ticker", ["--queues", "ticks"],
                                             {"BALLAST_BROKER_ACK_EMULATION": "0"}))

    def _worker(self, label: str, queues: list[str], env: dict | None = None) -> subprocess.Popen:
        from ballast.celery import app

        name = f"bench-{label}-{os.getpid()}@localhost"
        log = open(self.folder / f"{label}.log", "w")  # noqa: SIM115 - lives as long as the worker
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "ballast", "worker", "--pool", "solo", *queues,
             "--loglevel", "WARNING", "--without-mingle", "--without-gossip", "--without-heartbeat",
             "--hostname", name],
            cwd=ROOT, env={**os.environ, **self.env, **(env or {})}, stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while not app.control.ping([name], timeout=0.5):
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start; see {self.folder / f'{label}.log'}")
        return worker

    def close(self, done: bool) -> None:
        """Stop the workers and Redis; remove the folder when the bench is `done`, else keep it
        (its process logs) and say where."""
        for worker in self.workers:
            worker.terminate()
        for worker in self.workers:
            worker.wait(10)
        self.redis.stop()
        if done:
            from django.db import connections

            connections.close_all()
            shutil.rmtree(self.folder)
        else:
            print(f"kept {self.folder} (its process logs) for a look", file=sys.stderr)
