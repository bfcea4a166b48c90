"""Websocket fan-out: N logged-in clients on the overview while the engine publishes to them.

    .venv/bin/python bench/ws_fanout.py [--clients 500] [--seconds 20] [--rate 2] [--engine]

Everything real and private to the run: an embedded Redis, a SQLite database in a temporary
directory (migrated, seeded with the demo market), one Daphne. Users log in over HTTP with a
password (one user per 25 clients), and every client opens /ws/overview/ with its session. The
bench then does what the health task does, `--rate` times a second: sample every market and
publish the overview (bots.desk.health.sample_all, dashboard.live.overview_push.publish_overview), each push
stamped with the moment it left. With --engine a Celery worker and beat also run the market
making, simulated users and hedging meanwhile (their own health rounds held back, so every push
is the bench's).

Prints what reached the clients against what was published, the event-to-client latency
percentiles, and Daphne's resident memory. Targets: every update delivered, p99 < 200 ms,
Daphne < 150 MB at 500 clients. The rate stays under the page's 4 updates a second, so no push
is merged into the next by design.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from paper_markets import free_port, stop, wait_listening

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CLIENTS_PER_USER = 25
PASSWORD = "fan-out bench password 7"
STAMP = re.compile(rb'data-published-at="(\d+)"')


def rss_mb(pid: int) -> tuple[float, float]:
    """(resident now, peak resident) in MB, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(pct / 100 * len(ordered)) - 1)]


def prepare(users: int) -> None:
    """Migrate, seed the demo market with a first tick and sample, and create the users."""
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from bots.desk import health
    from bots.desk.roles import VIEWER, group
    from bots.market_making import quoter
    from bots.simulation import paper_flow

    # --run-syncdb also creates the tables of apps without migrations (a bench settings module
    # may leave some out); with every migration present it changes nothing.
    call_command("migrate", run_syncdb=True, verbosity=0)
    call_command("seed_demo", "--trades-per-minute", "0", "--username", "bench-operator", stdout=open(os.devnull, "w"))
    paper_flow.move_outside_markets(int(time.time()))
    from bots.models import Market

    for market in Market.objects.all():
        quoter.run_tick(market.pk, on_hedge=lambda hedge_id: None)
    health.sample_all()
    for i in range(users):
        user = User.objects.create_user(f"bench-{i}", password=PASSWORD)
        user.groups.add(group(VIEWER))


async def log_in(base: str, username: str):
    """A real log-in through the form: CSRF cookie and token, then the password."""
    import aiohttp

    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with session.get(f"{base}/login/") as page:
        html = await page.text()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    data = {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token, "next": "/overview/"}
    async with session.post(f"{base}/login/", data=data, headers={"Referer": f"{base}/login/"},
                            allow_redirects=False) as answer:
        if answer.status != 302:
            raise RuntimeError(f"log-in of {username} answered {answer.status}")
    return session


async def client(session, url: str, origin: str, received: list, ready: list, retries: list):
    import aiohttp

    for attempt in range(4):
        try:
            ws = await session.ws_connect(url, headers={"Origin": origin}, heartbeat=None, max_msg_size=0)
            break
        except (aiohttp.WSServerHandshakeError, aiohttp.ClientOSError):
            # Daphne refuses a handshake the app did not accept within 5 s: a busy machine.
            # A browser's page would try again too.
            if attempt == 3:
                raise
            retries.append(1)
            await asyncio.sleep(1 + attempt)
    async with ws:
        ready.append(1)
        async for message in ws:
            now = time.time() * 1000
            match = STAMP.search(message.data.encode() if isinstance(message.data, str) else message.data)
            if match:
                received.append((int(match.group(1)), now - int(match.group(1)), len(message.data)))


def publish(rate: float, seconds: float) -> None:
    """The engine's side, in a process of its own (`--publish`): sample, render and send the
    overview `rate` times a second; print each push's stamp and how long it took."""
    import django

    django.setup()
    from bots.desk import health
    from dashboard.live.overview_push import publish_overview

    interval, start = 1 / rate, time.monotonic()
    for n in range(int(seconds * rate)):
        delay = start + n * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        began = time.perf_counter()
        health.sample_all()
        stamp = publish_overview()
        print(stamp, f"{(time.perf_counter() - began) * 1000:.1f}", flush=True)


async def run(args, base: str, daphne_pid: int) -> dict:
    users = math.ceil(args.clients / CLIENTS_PER_USER)
    started = time.monotonic()
    sessions = await asyncio.gather(*(log_in(base, f"bench-{i}") for i in range(users)))
    print(f"{users} users logged in over HTTP in {time.monotonic() - started:.1f} s")
    url = base.replace("http://", "ws://") + "/ws/overview/"
    received = [[] for _ in range(args.clients)]
    ready: list = []
    retries: list = []
    tasks: list[asyncio.Task] = []
    try:
        started = time.monotonic()
        for i in range(args.clients):
            tasks.append(asyncio.create_task(client(sessions[i % users], url, base, received[i], ready, retries)))
            if (i + 1) % 25 == 0:
                await asyncio.sleep(0.25)  # pages opening over a few seconds, not in one instant
        while len(ready) < args.clients:
            failed = [t for t in tasks if t.done() and t.exception()]
            if failed or time.monotonic() - started > 120:
                cause = repr(failed[0].exception()) if failed else "120 s passed"
                raise RuntimeError(f"only {len(ready)} of {args.clients} clients connected: {cause}")
            await asyncio.sleep(0.1)
        print(f"{len(ready)}/{args.clients} websockets open in {time.monotonic() - started:.1f} s "
              f"({len(retries)} handshakes refused and tried again)")
        await asyncio.sleep(1)  # every group_add has reached Redis

        rss: list[float] = []
        # Its own process: the publisher's CPU must not hold the clients' interpreter.
        engine = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--publish", "--rate", str(args.rate), "--seconds", str(args.seconds),
            stdout=asyncio.subprocess.PIPE,
        )
        cpu_before, wall_before = cpu_seconds(daphne_pid), time.monotonic()
        while engine.returncode is None:
            rss.append(rss_mb(daphne_pid)[0])
            try:
                await asyncio.wait_for(engine.wait(), 0.5)
            except TimeoutError:
                pass
        lines = (await engine.stdout.read()).decode().split()
        stamps = [int(stamp) for stamp in lines[0::2]]
        publish_ms = [float(ms) for ms in lines[1::2]]
        await asyncio.sleep(2)  # the last push's way to every client
        daphne_cpu_s = cpu_seconds(daphne_pid) - cpu_before
        daphne_cpu = daphne_cpu_s / (time.monotonic() - wall_before)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*(s.close() for s in sessions))
    published = set(stamps)
    latencies = [ms for r in received for stamp, ms, _ in r if stamp in published]
    by_push = {stamp: [] for stamp in stamps}
    for r in received:
        for stamp, ms, _ in r:
            if stamp in by_push:
                by_push[stamp].append(ms)
    push_p50 = [statistics.median(by_push[stamp]) if by_push[stamp] else None for stamp in stamps]
    missing = [len(published - {stamp for stamp, _, _ in r}) for r in received]
    sizes = [size for r in received for _, _, size in r]
    return {
        "published": len(stamps),
        "expected": len(stamps) * args.clients,
        "delivered": len(latencies),
        "clients_missing_some": sum(1 for m in missing if m),
        "latencies": latencies,
        "push_p50": push_p50,
        "publish_ms": publish_ms,
        "rss_now": max(rss) if rss else rss_mb(daphne_pid)[0],
        "rss_peak": rss_mb(daphne_pid)[1],
        "daphne_cpu": daphne_cpu,
        "daphne_ms_per_push": 1000 * daphne_cpu_s / max(1, len(stamps)),
        "message_bytes": statistics.median(sizes) if sizes else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rate", type=float, default=2, help="pushes a second (the page takes at most 4)")
    parser.add_argument("--engine", action="store_true", help="also run a Celery worker and beat")
    parser.add_argument("--publish", action="store_true", help=argparse.SUPPRESS)  # the publisher process
    args = parser.parse_args()
    if args.publish:
        publish(args.rate, args.seconds)
        return
    if args.rate > 4:
        parser.error("--rate above 4 a second: the page merges pushes by design, so some never arrive alone")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4 * args.clients + 256)), hard))

    var = Path(tempfile.mkdtemp(prefix="ballast-fanout-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ballast.settings")
    os.environ.update({"BALLAST_VAR_DIR": str(var), "DATABASE_URL": f"sqlite:///{var / 'bench.sqlite3'}",
                       "LOG_LEVEL": "WARNING", "BALLAST_HEALTH_SECONDS": "300"})
    redis_server = None
    children: list[subprocess.Popen] = []
    if not os.environ.get("REDIS_URL"):
        from ballast.embedded_redis import EmbeddedRedis

        redis_server = EmbeddedRedis(var / "redis.sock").start()
        os.environ["REDIS_URL"] = redis_server.url
    try:
        prepare(math.ceil(args.clients / CLIENTS_PER_USER))
        port = free_port()
        log = open(var / "daphne.log", "w")
        daphne = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "ballast.asgi:application"],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        )
        children.append(daphne)
        if args.engine:
            for role in ("worker", "beat"):
                command = [sys.executable, "-m", "celery", "-A", "ballast", role, "--loglevel", "WARNING"]
                if role == "worker":
                    command += ["--concurrency", "2", "--without-mingle", "--without-gossip"]
                else:
                    command += ["--schedule", str(var / "celerybeat-schedule")]
                children.append(subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT))
            from bots.models import Market

            Market.objects.update(sim_trades_per_minute=60)
        wait_listening(port, daphne, var / "daphne.log")
        result = asyncio.run(run(args, f"http://127.0.0.1:{port}", daphne.pid))
    finally:
        stop(children)
        if redis_server is not None:
            redis_server.stop()

    lat = result["latencies"]
    print(f"engine: {'worker and beat running, 60 simulated user trades a minute' if args.engine else 'publishes only'}")
    print(f"published {result['published']} overview pushes at {args.rate:g}/s for {args.seconds:g} s "
          f"(sample + render + send: median {statistics.median(result['publish_ms']):.1f} ms)")
    print(f"delivered {result['delivered']} of {result['expected']} "
          f"({result['clients_missing_some']} clients missed any); a push is {result['message_bytes']:,.0f} characters")
    if lat:
        print(f"event to client: p50 {percentile(lat, 50):.1f} ms, p90 {percentile(lat, 90):.1f} ms, "
              f"p99 {percentile(lat, 99):.1f} ms, max {max(lat):.1f} ms")
    slowest = sorted((p, i) for i, p in enumerate(result["push_p50"]) if p is not None)[-3:]
    print("slowest pushes (median to their clients): " + ", ".join(
        f"push {i + 1} of {len(result['push_p50'])}: {p:.0f} ms" for p, i in reversed(slowest)))
    print(f"Daphne CPU while publishing: {100 * result['daphne_cpu']:.0f}% of one core, "
          f"{result['daphne_ms_per_push']:.0f} ms per push to all clients; machine load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"Daphne RSS: at most {result['rss_now']:.0f} MB sampled during the run, peak (VmHWM) {result['rss_peak']:.0f} MB")
    ok = (result["delivered"] == result["expected"] and lat and percentile(lat, 99) < 200
          and result["rss_peak"] < 150)
    print(f"targets (every update, p99 < 200 ms, Daphne < 150 MB): {'met' if ok else 'NOT met'}")
    print(f"(run files: {var})")


if __name__ == "__main__":
    main()
