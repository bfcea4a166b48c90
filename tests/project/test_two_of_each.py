"""Two Daphnes and three workers on one database and one Redis (`manage.py up --daphne 2
--workers 3`, real processes): every desk page answers through either Daphne, whichever one the
user logged in through, the market page's live socket hears the workers' pushes on both, and
/health/ answers 200 JSON through each; with users trading on the exchange stubs through ccxt,
every fill is hedged exactly once (no client order id twice); and no log line of the whole run, every
process's at DEBUG and as JSON, holds one of the API keys the venues were signed with."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import threading
import uuid
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest
import requests
from django.conf import settings
from django.urls import URLPattern, get_resolver, reverse

from bots.desk import two_factor
from bots.models import Fill, Hedge, HedgeOrder
from bots.simulation.stub_exchanges.binance import BinanceStub
from bots.simulation.stub_exchanges.exchange import BOT
from bots.simulation.stub_exchanges.hollaex import HollaExStub
from tests.support.processes import ballast_process, health_of, listening, wait_for
from tests.support.stub_desk import bot_trades, trade
from tests.support.users import PASSWORD

pytestmark = [
    pytest.mark.processes, pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("drills"),
]

D = Decimal
FILLS = 6  # users trade until this many fills are recorded (or TRADING_SECONDS pass)
TRADING_SECONDS = 25
# Planted afresh each run: nothing else in the world holds these strings.
PLANTED = {name: f"PLANTED{name}{uuid.uuid4().hex}" for name in ("HOLLAEXKEY", "HOLLAEXSECRET",
                                                                    "BINANCEKEY", "BINANCESECRET")}


def consecutive_ports() -> int:
    """A free port whose next one is free too (up's Daphnes take --port and the port after)."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
        return port
    raise RuntimeError("no two consecutive free ports")


def children_of(pid: int) -> set[int]:
    """Every process below `pid` (read from /proc): up starts each in a session of its own."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        for child, its_parent in parents.items():
            if its_parent == parent and child not in found:
                found.add(child)
                todo.append(child)
    return found


def stop_up(process: subprocess.Popen, seen: set[int]) -> None:
    """SIGTERM to up, which stops its children in order; whatever of them outlives that goes."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    for pid in seen:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def desk_pages(slug: str) -> list[str]:
    """Every route a GET can reach without a record's id: those of no argument and those of a
    market's slug (POST-only ones answer 405, and the test says which did), and Django's admin.
    Not the OTC API (its clients sign in with tokens, not a session; tests/otc has its tests) nor
    a broker market's OTC page (the demo's market is none: it answers 404 by design)."""
    urls = ["/admin/", "/admin/bots/market/"]
    for pattern in get_resolver().url_patterns:
        if not isinstance(pattern, URLPattern) or not pattern.name or pattern.name == "otc-market":
            continue
        if str(pattern.pattern).startswith("api/"):
            continue
        arguments = set(pattern.pattern.converters)
        if not arguments:
            urls.append(reverse(pattern.name))
        elif arguments == {"slug"}:
            urls.append(reverse(pattern.name, kwargs={"slug": slug}))
    return urls


def answer_of(response: requests.Response) -> str:
    """A page (200, or a redirect to a page: / goes to the market, /two-factor/ once given), a
    POST-only route (405), or what went wrong: the status, and where a redirect sent the user
    (to log in again: the session did not hold)."""
    if response.status_code == 200:
        return "page"
    if response.status_code == 405:
        return "POST only"
    target = response.headers.get("Location", "")
    if response.status_code == 302 and not target.startswith(("/login/", "/two-factor/")):
        return "page"
    return f"{response.status_code} {target}"


def csrf_of(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def log_in(base: str, user) -> requests.Session:
    """The password, then the two-factor code, through this Daphne's forms."""
    session = requests.Session()
    form = session.get(f"{base}/login/", timeout=30)
    answer = session.post(f"{base}/login/", timeout=30, data={
        "username": user.username, "password": PASSWORD, "csrfmiddlewaretoken": csrf_of(form.text),
    })
    assert "/two-factor/" in answer.url, answer.url
    device = two_factor.device_of(user)
    answer = session.post(f"{base}/two-factor/", timeout=30, data={
        "code": two_factor.current_code(device), "csrfmiddlewaretoken": csrf_of(answer.text),
    })
    assert answer.status_code == 200 and "/two-factor/" not in answer.url, answer.text[:300]
    return session


async def first_push(base: str, session: requests.Session, slug: str) -> bool:
    headers = {"Origin": base, "Cookie": f"sessionid={session.cookies['sessionid']}"}
    async with aiohttp.ClientSession() as http:
        url = base.replace("http://", "ws://") + f"/ws/markets/{slug}/"
        async with http.ws_connect(url, headers=headers, timeout=aiohttp.ClientWSTimeout(ws_close=5)) as ws:
            message = await ws.receive(timeout=20)
            return message.type == aiohttp.WSMsgType.TEXT and "market" in message.data


async def pushes(daphnes: list[str], sessions: list[requests.Session], slug: str) -> list[bool]:
    return list(await asyncio.gather(*(first_push(b, s, slug) for s in sessions for b in daphnes)))


def ok_health(base: str) -> dict | None:
    status, body = health_of(base)
    return body if status == 200 else None


@pytest.fixture
def planted(monkeypatch):
    monkeypatch.setattr(HollaExStub, "API_KEY", PLANTED["HOLLAEXKEY"])
    monkeypatch.setattr(HollaExStub, "SECRET", PLANTED["HOLLAEXSECRET"])
    monkeypatch.setattr(BinanceStub, "API_KEY", PLANTED["BINANCEKEY"])
    monkeypatch.setattr(BinanceStub, "SECRET", PLANTED["BINANCESECRET"])


@pytest.fixture
def stubs(planted, stubs):
    """The stubs of tests/project/conftest.py, built once the keys are planted: the demo's
    accounts take them."""
    return stubs


def test_two_daphnes_and_three_workers_serve_every_page_and_hedge_every_fill_once(
    stub_demo, stubs, test_database_url, tmp_path
):
    market, admins = stub_demo
    port = consecutive_ports()
    log = tmp_path / "up.log"
    env = {
        "LOG_FORMAT": "json", "LOG_LEVEL": "DEBUG",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),  # up clears its folder's files
        "BALLAST_METRICS_ALLOWED_ADDRESSES": "127.0.0.1/32",
        "BALLAST_TWO_FACTOR": "true",
    }
    (tmp_path / "metrics").mkdir()
    stop_trading = threading.Event()
    command = ["manage.py", "up", "--daphne", "2", "--workers", "3", "--concurrency", "1", "--port", str(port)]
    # Every process up starts writes to up's own output: the log holds the whole run.
    with ballast_process(command, test_database_url, settings.REDIS_URL, log, **env) as up:
        seen: set[int] = set()
        users = threading.Thread(target=trade, args=(stubs, stop_trading), daemon=True)
        try:
            daphnes = [f"http://127.0.0.1:{p}" for p in (port, port + 1)]
            wait_for(lambda: up.poll() is None and all(listening(p) for p in (port, port + 1))
                     or up.poll() is not None, "both Daphnes", 60)
            assert up.poll() is None, log.read_text()[-3000:]
            seen |= children_of(up.pid)
            users.start()

            # Each admin logs in through one Daphne; each session works through both.
            sessions = [log_in(daphnes[0], admins[0]), log_in(daphnes[1], admins[1])]
            pages = desk_pages(market.slug)
            answers: dict[str, set[int]] = {}
            bodies = []
            for session in sessions:
                for base in daphnes:
                    for url in pages:
                        response = session.get(base + url, timeout=30, allow_redirects=False)
                        answers.setdefault(url, set()).add(answer_of(response))
                        bodies.append(response.text)
            # The market page's live socket, through each Daphne for each session, hears the
            # workers' pushes (the channel layer in Redis reaches every Daphne).
            pushed = asyncio.run(pushes(daphnes, sessions, market.slug))
            # /health/ answers 200 JSON through each Daphne (a part a busy machine let lag a
            # moment, the wait allows for), while users trade: the hedge venue's book moves, as
            # the streams check wants it to.
            healths = [wait_for(lambda b=b: ok_health(b), f"/health/ 200 through {b}", 60)
                       for b in daphnes]
            seen |= children_of(up.pid)

            wait_for(lambda: Fill.objects.count() >= FILLS, f"{FILLS} fills", TRADING_SECONDS)
            stop_trading.set()
            users.join(10)
            # Every fill recorded, and its hedge done, whichever process took it.
            wait_for(lambda: Fill.objects.count() == len(bot_trades(stubs.own)), "every fill captured", 30)
            wait_for(lambda: Hedge.objects.exclude(state=Hedge.FILLED).count() == 0
                     and Hedge.objects.count() == Fill.objects.count(), "every hedge done", 30)
            metrics = requests.get(f"{daphnes[1]}/metrics", timeout=30).text
            seen |= children_of(up.pid)
        finally:
            stop_trading.set()
            stop_up(up, seen)

    # Every page answered through both Daphnes, for both sessions, the same way.
    pages_served = sorted(url for url, codes in answers.items() if codes == {"page"})
    actions = sorted(url for url, codes in answers.items() if codes == {"POST only"})
    assert sorted(answers) == sorted(pages_served + actions), {
        url: codes for url, codes in answers.items() if codes not in ({"page"}, {"POST only"})
    }
    assert {reverse("overview"), reverse("market", args=[market.slug]), reverse("rebalance")} <= set(pages_served)
    assert len(pages_served) >= 15
    assert pushed == [True] * 4
    for body in healths:
        assert body["status"] == "ok" and body["failing"] == [], body
        assert {"database", "redis", "queue:hedging", "beat", "ticks", "streams"} <= set(body["checks"])

    # Each fill hedged exactly once.
    fills = list(Fill.objects.filter(market=market))
    hedges = list(Hedge.objects.filter(fill__market=market))
    assert len(fills) >= FILLS and len(hedges) == len(fills)
    assert all(h.filled == h.amount for h in hedges)
    client_ids = list(HedgeOrder.objects.values_list("client_order_id", flat=True))
    assert len(client_ids) == len(set(client_ids))
    sent = [o.client_order_id for o in stubs.outside.orders.values() if o.account == BOT]
    assert len(sent) == len(set(sent)) and set(sent) <= set(client_ids)
    hedged = sum((t.amount for t in bot_trades(stubs.outside)), D(0))
    assert hedged == sum((f.amount for f in fills), D(0))
    assert "ballast_stream_lag_seconds{" in metrics  # the stream process's figures, across processes

    # No line of the run's log, nor any page, holds a planted key; and the grep means something:
    # the venues took signed requests with those keys, and every kind of process logged.
    lines = log.read_text().splitlines()
    leaks = [line[:200] for line in lines + bodies for value in PLANTED.values() if value in line]
    assert leaks == []
    assert bot_trades(stubs.own) and any("signature" in params for _, _, params in stubs.outside.requests)
    logged = [json.loads(line) for line in lines if line.startswith("{")]
    loggers = {entry["logger"].split(".")[0] for entry in logged}
    assert {"bots", "daphne", "celery", "django"} <= loggers, loggers
    assert len({entry["process"] for entry in logged}) >= 8  # Daphnes, workers, beats, stream...

