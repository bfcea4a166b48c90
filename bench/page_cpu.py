"""The market page's cost in the browser: a logged-in BTC/USDT page open in headless Chromium
while the demo desk runs, and the main thread's work of its renderer over a window.

    .venv/bin/python bench/page_cpu.py [--seconds 30] [--warmup 10] [--js FILE]

Builds a throwaway world in a temporary folder, as `make demo` seeds it (three book markets and
the OTC broker market, two paper hedge venues, simulated users): a SQLite database, an embedded
Redis, Daphne, a Celery worker and beat. A viewer logs in through the form in Debian's Chromium
(the one the tests use) and opens the market page; after the warm-up the renderer's own counters
(the DevTools protocol's Performance metrics) are read at the start and the end of the window.

Prints, per second of the window: the renderer main thread's busy time (`task`), the part of it
in scripts (`script`), layout and style, the snapshots the page drew and how many of them drew
the depth chart again (Plotly's react, counted by wrapping it). `--js FILE` serves
FILE in place of static/js/market.js (to compare two versions of the page's script on one
world).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from paper_markets import free_port, stop, wait_listening

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PASSWORD = "page cpu bench password 7"
USERNAME = "bench-viewer"


def prepare() -> None:
    """Migrate, seed the demo desk, and create the viewer."""
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from bots.desk.roles import VIEWER, group

    call_command("migrate", run_syncdb=True, verbosity=0)
    call_command("seed_demo", "--username", "bench-operator", stdout=open(os.devnull, "w"))
    User.objects.create_user(USERNAME, password=PASSWORD).groups.add(group(VIEWER))


def metrics(cdp) -> dict[str, float]:
    return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}


def measure(base: str, args) -> dict:
    from playwright.sync_api import sync_playwright

    from tests.support import chromium  # the browser the tests use, found the same way

    executable = chromium.find()
    if executable is None:
        raise SystemExit(chromium.HOW_TO_INSTALL)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        if args.js:
            body = Path(args.js).read_text()
            page.route("**/js/market*.js", lambda route: route.fulfill(
                status=200, content_type="application/javascript", body=body))
        page.goto(f"{base}/login/")
        page.fill("input[name=username]", USERNAME)
        page.fill("input[name=password]", PASSWORD)
        page.press("input[name=password]", "Enter")
        page.wait_for_load_state()
        page.goto(f"{base}/markets/btc-usdt/")
        page.wait_for_selector("#live.on", timeout=30_000)
        time.sleep(args.warmup)
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable")
        # Plotly's redraws of the depth chart, counted by wrapping its react (the page's script
        # looks it up at each call).
        page.evaluate("""() => { const react = Plotly.react; window.depthDraws = 0;
          Plotly.react = function (gd, ...rest) {
            if (gd === "depth-chart" || gd.id === "depth-chart") window.depthDraws += 1;
            return react.call(this, gd, ...rest); }; }""")
        updates = "Number(document.getElementById('market').dataset.updates || 0)"
        before, drawn_before, started = metrics(cdp), page.evaluate(updates), time.monotonic()
        time.sleep(args.seconds)
        after, drawn_after = metrics(cdp), page.evaluate(updates)
        depth_draws = page.evaluate("window.depthDraws")
        window = time.monotonic() - started
        browser.close()
    change = {k: after[k] - before[k] for k in ("TaskDuration", "ScriptDuration", "LayoutDuration",
                                               "RecalcStyleDuration")}
    return {"window": window, "drawn": drawn_after - drawn_before, "depth": depth_draws, **change}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=10)
    parser.add_argument("--js", help="serve this file in place of static/js/market.js")
    args = parser.parse_args()

    var = Path(tempfile.mkdtemp(prefix="ballast-page-cpu-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ballast.settings")
    os.environ.update({"BALLAST_VAR_DIR": str(var), "DATABASE_URL": f"sqlite:///{var / 'bench.sqlite3'}",
                       "LOG_LEVEL": "WARNING"})
    os.environ.pop("REDIS_URL", None)
    from ballast.embedded_redis import EmbeddedRedis

    redis_server = EmbeddedRedis(var / "redis.sock").start()
    os.environ["REDIS_URL"] = redis_server.url
    children: list[subprocess.Popen] = []
    try:
        prepare()
        port = free_port()
        log = open(var / "desk.log", "w")
        commands = [
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "ballast.asgi:application"],
            [sys.executable, "-m", "celery", "-A", "ballast", "worker", "--loglevel", "WARNING",
             "--concurrency", "2", "--without-mingle", "--without-gossip"],
            [sys.executable, "-m", "celery", "-A", "ballast", "beat", "--loglevel", "WARNING",
             "--schedule", str(var / "celerybeat-schedule")],
        ]
        children += [subprocess.Popen(c, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT) for c in commands]
        wait_listening(port, children[0], var / "desk.log")
        # Playwright's sync API runs an event loop in this thread: Django's ORM is done here.
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        result = measure(f"http://127.0.0.1:{port}", args)
    finally:
        stop(children)
        redis_server.stop()

    per_second = {k: 1000 * result[k] / result["window"] for k in
                  ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration")}
    drawn = result["drawn"]
    print(f"script: {args.js or 'static/js/market.js'}; window {result['window']:.0f} s after a "
          f"{args.warmup:g} s warm-up; machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"market page renderer: task {per_second['TaskDuration']:.0f} ms a second, script "
          f"{per_second['ScriptDuration']:.0f} ms, layout {per_second['LayoutDuration']:.0f} ms, style "
          f"{per_second['RecalcStyleDuration']:.0f} ms; {drawn} snapshots drawn "
          f"({1000 * result['TaskDuration'] / max(1, drawn):.0f} ms of task each), the depth chart "
          f"drawn again for {result['depth']} of them")
    print(f"(run files: {var})")


if __name__ == "__main__":
    main()
