"""Run Ballast's processes together: Daphne, a Celery worker, a hedging worker, a ticks worker,
the public demo's worker, Celery beat (two: one active, one standing by), the watchdog, the dead
man's switch and the stream process (and, when REDIS_URL is not set, the embedded Redis). Ctrl-C stops them all.
A process that exits is started again, after a wait that grows while it keeps exiting; one in a
crash loop stops them all (ballast/supervisor.py). `--daphne 2 --workers 3` runs two Daphnes (on --port and the port
after it) and three desk workers (docs/operations.md, "Running two of each").
With `--venues stub`, first the local exchange stubs the stub demo trades on (`manage.py stubs`).

In production run the same commands under your process manager instead (docs/operations.md).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ballast.embedded_redis import EmbeddedRedis
from ballast.supervisor import Supervisor

DEMO_NICENESS = 10


def numbered(name: str, count: int) -> list[str]:
    """name, name-2, name-3...: the first keeps the name a single process always had."""
    return [name if i == 1 else f"{name}-{i}" for i in range(1, count + 1)]


def process_commands(
    host: str, port: int, concurrency: int, demo_concurrency: int = 1, venues: str = "paper",
    daphnes: int = 1, workers: int = 1, beats: int = 2,
) -> dict[str, list[str]]:
    python = sys.executable
    # Several Daphnes listen on consecutive ports, for a proxy in front to spread the load.
    web = {
        name: [python, "-m", "daphne", "-b", host, "-p", str(port + i), "ballast.asgi:application"]
        for i, name in enumerate(numbered("web", daphnes))
    }
    desk_workers = {
        name: [
            python, "-m", "celery", "--quiet", "-A", "ballast", "worker",
            "--hostname", f"{name.replace('worker', 'main')}@%h",
            "--loglevel", "WARNING", "--concurrency", str(concurrency), "--without-mingle", "--without-gossip",
        ]
        for name in numbered("worker", workers)
    }
    # One beat is active, the others wait for its Redis lock (ballast/beat.py).
    beat = {
        name: [python, "-m", "celery", "--quiet", "-A", "ballast", "beat", "--loglevel", "WARNING"]
        for name in numbered("beat", beats)
    }
    stubs = {}
    if venues == "stub":
        # The exchanges themselves, first: HollaEx and binance stubs on loopback.
        stubs["stubs"] = [python, str(settings.BASE_DIR / "manage.py"), "stubs"]
    return stubs | {
        **web,
        **desk_workers,
        # Fill capture and hedges on a worker of their own, so that a hedge never waits behind
        # a tick, a page refresh or a sizing run (the main worker takes them too, as a spare).
        # Without kombu's unacked bookkeeping in Redis: one Redis transaction less before each
        # capture and hedge starts (CELERY_BROKER_TRANSPORT_OPTIONS in ballast/settings.py).
        "hedger": [
            "env", "BALLAST_BROKER_ACK_EMULATION=0",
            python, "-m", "celery", "--quiet", "-A", "ballast", "worker", "--hostname", "hedger@%h",
            "--queues", "hedging", "--pool", "solo", "--loglevel", "WARNING",
            "--without-mingle", "--without-gossip",
        ],
        # Market ticks on a worker of their own, so that a move's tick never waits behind a
        # balance read, a page push or a sizing run (the main worker takes them too, as a
        # spare); without the unacked bookkeeping too, as a lost tick is the next beat's or
        # move's to replace.
        "ticker": [
            "env", "BALLAST_BROKER_ACK_EMULATION=0",
            python, "-m", "celery", "--quiet", "-A", "ballast", "worker", "--hostname", "ticker@%h",
            "--queues", settings.TICKS_QUEUE, "--pool", "solo", "--loglevel", "WARNING",
            "--without-mingle", "--without-gossip",
        ],
        # The public demo's steps (/demo) on a worker of their own, at a lower CPU priority: the
        # only one that takes the `demo` queue, and it takes nothing else.
        "demo": [
            "nice", "-n", str(DEMO_NICENESS), python, "-m", "celery", "--quiet", "-A", "ballast",
            "worker", "--hostname", "demo@%h", "--queues", settings.DEMO_QUEUE,
            "--concurrency", str(demo_concurrency), "--loglevel", "WARNING",
            "--without-mingle", "--without-gossip",
        ],
        **beat,
        # Raises "worker silent" and "beat silent": in neither of the processes it watches.
        "watchdog": [python, str(settings.BASE_DIR / "manage.py"), "watchdog"],
        # Pulls the quotes when ticks stop: the database only, so it outlives workers and Redis.
        "deadman": [python, str(settings.BASE_DIR / "manage.py"), "deadman"],
        # Fills and hedge books pushed by real exchanges (ccxt.pro); idles on paper venues.
        "stream": [python, str(settings.BASE_DIR / "manage.py"), "stream"],
    }


def clear_metrics(folder: Path) -> None:
    """Files of processes of an earlier run: their counts would be summed with the new ones."""
    for path in folder.glob("*.db"):
        path.unlink()


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes")
        parser.add_argument("--daphne", type=int, default=1, help="Daphne processes, on consecutive ports")
        parser.add_argument("--workers", type=int, default=1, help="desk workers (every queue but demo)")
        parser.add_argument("--beats", type=int, default=2, help="Celery beats, one active at a time")
        parser.add_argument(
            "--demo-concurrency", type=int, default=1, help="processes of the public demo's worker"
        )
        parser.add_argument(
            "--venues", choices=["paper", "stub"], default="paper",
            help="stub: also serve the local exchange stubs (seed_demo --venues stub)",
        )

    def handle(
        self, *args, host: str, port: int, concurrency: int, demo_concurrency: int, venues: str,
        daphne: int, workers: int, beats: int, **options,
    ):
        if min(daphne, workers, beats) < 1:
            raise CommandError("--daphne, --workers and --beats take 1 or more")
        env = dict(os.environ)
        clear_metrics(settings.PROMETHEUS_MULTIPROC_DIR)
        redis_server = None
        if not os.environ.get("REDIS_URL"):
            redis_server = EmbeddedRedis(settings.EMBEDDED_REDIS_SOCKET)
            try:
                redis_server.start()
            except RuntimeError as exc:
                raise CommandError(str(exc)) from None
            env["REDIS_URL"] = redis_server.url
            self.stdout.write(f"embedded Redis on {redis_server.socket_path}")
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        supervisor = Supervisor(
            process_commands(host, port, concurrency, demo_concurrency, venues, daphne, workers, beats),
            env, lambda line: self.stderr.write(line),
        )
        try:
            supervisor.start_all()
            urls = ", ".join(f"http://{host}:{port + i}" for i in range(daphne))
            self.stdout.write(self.style.SUCCESS(f"Ballast is up on {urls}  (Ctrl-C stops it)"))
            while not stopping:
                reason = supervisor.poll()
                if reason:
                    self.stderr.write(reason)
                    break
                time.sleep(0.3)
        finally:
            supervisor.stop_all()
            if redis_server:
                redis_server.stop()
            self.stdout.write("Ballast stopped.")
