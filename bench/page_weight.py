"""Page weight: the first load of the market page over the wire, as a browser fetches it.

    .venv/bin/python bench/page_weight.py [--budget-kb 700]

Runs collectstatic (whitenoise then serves each file's .gz to browsers that take gzip) into a
temporary var directory with its own SQLite database, embedded Redis and Daphne, seeds the demo
market, and logs in with a real headless Chromium. A second browser context with an empty cache
and only the session cookie then opens the market page, and the bench adds up what Chromium's
network stack counted for every response: headers plus the body as sent (compressed when it
was). The websocket's pushes after the load are not part of the first load and not counted.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from paper_markets import free_port, wait_listening

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PASSWORD = "page weight bench password 7"


def prepare() -> None:
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from bots.desk import health
    from bots.desk.roles import VIEWER, group
    from bots.market_making import quoter
    from bots.models import Market
    from bots.simulation import paper_flow

    call_command("migrate", run_syncdb=True, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    call_command("seed_demo", "--minimal", "--trades-per-minute", "0", "--username", "bench-operator", stdout=open(os.devnull, "w"))
    paper_flow.move_outside_markets(int(time.time()))
    for market in Market.objects.all():
        quoter.run_tick(market.pk, on_hedge=lambda hedge_id: None)
    health.sample_all()
    User.objects.create_user("bench-viewer", password=PASSWORD).groups.add(group(VIEWER))


def measure(base: str, path: str) -> list[tuple[str, int, int, str]]:
    """(url, header bytes, body bytes as sent, content-encoding) of each response of one cold load."""
    from playwright.sync_api import sync_playwright

    from tests.support import chromium  # the browser the tests use, found the same way

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium.find())
        login = browser.new_context()
        page = login.new_page()
        page.goto(f"{base}/login/")
        page.fill("input[name=username]", "bench-viewer")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        cookies = login.cookies()
        login.close()

        cold = browser.new_context(viewport={"width": 1280, "height": 900})
        cold.add_cookies(cookies)
        page = cold.new_page()
        responses = []
        page.on("requestfinished", lambda request: responses.append(request))
        page.goto(f"{base}{path}", wait_until="networkidle")
        page.wait_for_selector("#depth-chart .main-svg")
        rows = []
        for request in responses:
            sizes = request.sizes()
            response = request.response()
            encoding = (response.headers.get("content-encoding") or "") if response else ""
            rows.append((request.url.removeprefix(base), sizes["responseHeadersSize"], sizes["responseBodySize"], encoding))
        cold.close()
        browser.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget-kb", type=float, default=700)
    parser.add_argument("--path", default="/markets/btc-usdt/")
    args = parser.parse_args()

    var = Path(tempfile.mkdtemp(prefix="ballast-weight-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ballast.settings")
    os.environ.update({"BALLAST_VAR_DIR": str(var), "DATABASE_URL": f"sqlite:///{var / 'bench.sqlite3'}",
                       "LOG_LEVEL": "WARNING", "DEBUG": "false"})
    redis_server = None
    if not os.environ.get("REDIS_URL"):
        from ballast.embedded_redis import EmbeddedRedis

        redis_server = EmbeddedRedis(var / "redis.sock").start()
        os.environ["REDIS_URL"] = redis_server.url
    daphne = None
    try:
        prepare()
        port = free_port()
        daphne = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "ballast.asgi:application"],
            cwd=ROOT, stdout=open(var / "daphne.log", "w"), stderr=subprocess.STDOUT,
        )
        wait_listening(port, daphne, var / "daphne.log")
        rows = measure(f"http://127.0.0.1:{port}", args.path)
    finally:
        if daphne is not None:
            daphne.send_signal(signal.SIGTERM)
            daphne.wait(10)
        if redis_server is not None:
            redis_server.stop()

    total = 0
    for url, headers, body, encoding in sorted(rows, key=lambda row: -row[2]):
        total += headers + body
        print(f"{(headers + body) / 1024:9.1f} KB  {encoding or 'identity':8}  {url}")
    verdict = "under" if total / 1024 < args.budget_kb else "OVER"
    print(f"first load of {args.path}: {len(rows)} responses, {total / 1024:.1f} KB over the wire "
          f"({verdict} the {args.budget_kb:g} KB budget)")


if __name__ == "__main__":
    main()
