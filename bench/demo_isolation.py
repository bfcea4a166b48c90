"""Does the public /demo slow the desk? The desk's latency as an operator feels it (an HTTP round
trip against the running server), idle and while anonymous loops hammer /demo/act.

    .venv/bin/python bench/demo_isolation.py [--loops 6] [--samples 40] [--limits both]

Builds a throwaway world in a temporary folder (its own SQLite database, the demo seeded, users
trading at the demo's rate) and runs `manage.py up` on it: Daphne, the workers, beat, the dead
man's switch and the embedded Redis, exactly as `make demo` does. Logged in as an operator, it
measures, one request at a time:

- a desk page: GET /markets/btc-usdt/ (the market page, the whole HTML);
- an operator command: POST pause, then resume, of the market (htmx, as the page's buttons do).

First idle, then with N loop processes, each an anonymous visitor who opens /demo and then posts
"play 5 seconds" (the Play button's default step) as fast as the answers come, never waiting,
429s or not; a loop whose run is at its longest starts a new one. All loops come from 127.0.0.1,
so the per-address limits (BALLAST_DEMO_STEPS_PER_MINUTE, BALLAST_DEMO_RUNS_PER_MINUTE) refuse
most of their steps: `--limits default` measures that, `--limits off` runs the server with both
limits off (0), so every step reaches the demo's worker, `both` (the default) does one then the
other. Prints medians and p90s in ms, the ratio loaded/idle (the target is at most 2), and what
the loops got (answers by status, their own median).

Nothing outside the temporary folder is touched; DATABASE_URL and REDIS_URL are ignored.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import io
import json
import multiprocessing
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

from paper_markets import free_port

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PASSWORD = "bench-password-1"  # noqa: S105 - a throwaway login in a throwaway database


class Browser:
    """One visitor: cookies kept, the CSRF token sent back, 4xx and 5xx answered not raised."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def csrf(self) -> str:
        return next((c.value for c in self.jar if c.name == "csrftoken"), "")

    def request(self, path: str, data: dict | None = None, headers: dict | None = None):
        body = None if data is None else urllib.parse.urlencode(data).encode()
        request = urllib.request.Request(self.base + path, data=body, headers=headers or {})
        if body is not None:
            request.add_header("X-CSRFToken", self.csrf())
            request.add_header("Referer", self.base + path)
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def timed(self, path: str, data: dict | None = None, headers: dict | None = None):
        started = time.perf_counter()
        status, _ = self.request(path, data, headers)
        return status, (time.perf_counter() - started) * 1000


def demo_loop(base: str, stop, results) -> None:
    """An anonymous visitor playing the demo as fast as the answers come."""
    visitor = Browser(base)
    statuses: Counter = Counter()
    times: list[float] = []
    visitor.request("/demo?scenario=whale&rate=120")
    while not stop.is_set():
        status, ms = visitor.timed(
            "/demo/act", {"action": "play", "seconds": "5"}, {"Accept": "application/json"}
        )
        statuses[status] += 1
        times.append(ms)
        if status == 400:  # the run is at its longest: a new one
            status, ms = visitor.timed(
                "/demo/reset", {"scenario": "whale", "rate": "120"}, {"Accept": "application/json"}
            )
            statuses[status] += 1
    results.put((dict(statuses), statistics.median(times) if times else 0.0))


def build_world(folder: Path) -> dict:
    env = {
        "BALLAST_VAR_DIR": str(folder),
        "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "ballast.settings",
    }
    os.environ.update(env)
    os.environ.pop("REDIS_URL", None)  # `up` starts its embedded Redis in the folder
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from bots.desk.roles import group

    call_command("migrate", verbosity=0)
    call_command("seed_demo", "--minimal", "--username", "bench-seed", stdout=io.StringIO())
    operator = User.objects.create_user(username="olivia", password=PASSWORD)
    operator.groups.add(group("operator"))
    from django.db import connections

    connections.close_all()
    return env


def start_server(folder: Path, env: dict, extra: dict, port: int) -> subprocess.Popen:
    log = open(folder / f"up-{port}.log", "w")  # noqa: SIM115 - closed with the process
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "up", "--port", str(port)],
        cwd=ROOT, env={**os.environ, **env, **extra}, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            time.sleep(3)  # the workers and beat come up beside Daphne
            return server
        except OSError:
            if server.poll() is not None:
                raise SystemExit(f"manage.py up exited; see {log.name}") from None
            time.sleep(0.2)
    raise SystemExit("manage.py up did not listen within 60 s")


def stop_server(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)


def log_in(base: str) -> Browser:
    operator = Browser(base)
    operator.request("/login/")
    status, _ = operator.request(
        "/login/", {"username": "olivia", "password": PASSWORD, "csrfmiddlewaretoken": operator.csrf()}
    )
    if status != 200 or not any(c.name == "sessionid" for c in operator.jar):
        raise SystemExit(f"could not log in (HTTP {status})")
    return operator


def measure(operator: Browser, samples: int) -> dict[str, list[float]]:
    page, command = [], []
    htmx = {"HX-Request": "true"}
    for i in range(samples):
        status, ms = operator.timed("/markets/btc-usdt/")
        assert status == 200, status
        page.append(ms)
        verb = "pause" if i % 2 == 0 else "resume"
        status, ms = operator.timed(f"/markets/btc-usdt/bot/{verb}", {"reason": "bench"}, htmx)
        assert status == 200, status
        command.append(ms)
        time.sleep(0.1)
    return {"desk page": page, "operator command": command}


def p90(values: list[float]) -> float:
    return sorted(values)[int(0.9 * (len(values) - 1))]


def run(folder: Path, env: dict, limits: str, loops: int, samples: int) -> None:
    extra = {"BALLAST_DEMO_STEPS_PER_MINUTE": "0", "BALLAST_DEMO_RUNS_PER_MINUTE": "0"} if (
        limits == "off"
    ) else {}
    port = free_port()
    server = start_server(folder, env, extra, port)
    base = f"http://127.0.0.1:{port}"
    try:
        operator = log_in(base)
        measure(operator, 5)  # warm: the first requests build caches and connections
        idle = measure(operator, samples)
        stop = multiprocessing.Event()
        results = multiprocessing.Queue()
        workers = [multiprocessing.Process(target=demo_loop, args=(base, stop, results))
                   for _ in range(loops)]
        for w in workers:
            w.start()
        time.sleep(3)
        loaded = measure(operator, samples)
        stop.set()
        loop_results = [results.get(timeout=120) for _ in workers]
        for w in workers:
            w.join(30)
    finally:
        stop_server(server)
    label = "limits off (0): every step reaches the demo worker" if limits == "off" else (
        "default per-address limits"
    )
    print(f"{loops} demo loops, {label}; load average {os.getloadavg()[0]:.1f} (2 shared cores)")
    for what in ("desk page", "operator command"):
        a, b = statistics.median(idle[what]), statistics.median(loaded[what])
        print(f"  {what:<17} idle p50 {a:6.1f} ms p90 {p90(idle[what]):6.1f} ms | "
              f"with loops p50 {b:6.1f} ms p90 {p90(loaded[what]):6.1f} ms | x{b / a:.2f}")
    statuses = sum((Counter(s) for s, _ in loop_results), Counter())
    medians = [m for _, m in loop_results]
    print(f"  the loops' answers: {json.dumps(dict(sorted(statuses.items())))}; "
          f"their median {statistics.median(medians):.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=6)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--limits", choices=("default", "off", "both"), default="both")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="ballast-demo-isolation-"))
    done = False
    try:
        env = build_world(folder)
        for limits in ("default", "off") if args.limits == "both" else (args.limits,):
            run(folder, env, limits, args.loops, args.samples)
        done = True
    finally:
        if done:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            print(f"kept {folder} (the server's log) for a look", file=sys.stderr)


if __name__ == "__main__":
    main()
