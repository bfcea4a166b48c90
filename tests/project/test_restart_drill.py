"""The restart drill (#15): Ballast's processes as `manage.py up` starts them, on a Redis and (on
PostgreSQL) a database server of the test's own, the stub demo's exchanges and users trading 120
times a minute; one after another Redis is restarted, PostgreSQL restarted, the hedging worker
and the stream process killed (SIGKILL) and Daphne restarted, each down 10 s. Afterwards every
fill is hedged exactly once, no client order id went out twice, the ledger equals the stubs'
balances, every market ticked after the last recovery, the market page open in Chromium
reconnected and shows the latest fill hedged, the dead man's switch pulled the quotes while ticks
had stopped, and /health/ said 503 while a part it watches was down and 200 after. The table
(outage, fills during it, time to recover, hedges late and lost) goes to test-artifacts/."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, connections
from django.urls import reverse

from bots.models import AuditEntry, Fill, Hedge, Market
from dashboard.management.commands.up import process_commands
from tests.support import processes, soak, stub_desk
from tests.support.browser import log_in
from tests.support.private_servers import PrivatePostgres, PrivateRedis

pytestmark = [pytest.mark.processes, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

D = Decimal
DOWN_SECONDS = 10
RECOVERY_BOUND = 180  # a bound on waiting on a busy machine, not a figure tested
# The processes of `manage.py up` the drill runs; the watchdog has tests of its own.
PARTS = ("web", "worker", "hedger", "demo", "beat", "deadman", "stream")
# The parts /health/ watches: while one is down it must say 503. A killed hedging worker is not
# one: the desk worker consumes the hedging queue too, as its spare (ballast/settings.py).
WATCHED = {"Redis", "PostgreSQL", "stream process"}


@dataclass
class Outage:
    part: str
    how: str
    down_at: float = 0.0
    up_at: float = 0.0
    recovered_at: float = 0.0
    skipped: str = ""  # why there was nothing to restart (SQLite)
    fills: int = 0
    late: int = 0
    lost: int = 0
    health: list = field(default_factory=list)  # what /health/ answered while it was down
    restarted: list = field(default_factory=list)  # other processes that exited meanwhile

    def row(self) -> str:
        if self.skipped:
            return f"| {self.part} ({self.how}) | {self.skipped} | | | | | |"
        said = ", ".join(sorted({str(s) if s else "no answer" for s in self.health})) or "not asked"
        return (f"| {self.part} ({self.how}) | {self.fills} | {self.recovered_at - self.up_at:.1f} s"
                f" | {self.late} | {self.lost} | {said} | {', '.join(self.restarted) or 'none'} |")


class Desk:
    """Each process on its own, as `manage.py up` would start it (its command line), so that one
    can be killed or stopped and started again (`up` stops all when a child dies); and, as the
    process manager production runs them under (docs/operations.md), any that exits is started
    again, each restart noted."""

    def __init__(self, port: int, env: dict, logs):
        commands = process_commands("127.0.0.1", port, concurrency=1)
        self.commands = {name: commands[name] for name in PARTS}
        self.env = env
        self.logs = logs
        self.running: dict[str, subprocess.Popen] = {}
        self.restarts: list[tuple[float, str, int]] = []  # when, which, its exit code
        self.lock = threading.Lock()

    def start(self, name: str) -> None:
        with self.lock, open(self.logs / f"{name}.log", "a") as out:
            self.running[name] = subprocess.Popen(
                self.commands[name], cwd=processes.ROOT, env=self.env, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
            )

    def end(self, name: str, sig: int) -> None:
        """Send `sig` to the process's group (a prefork worker's children too), and wait."""
        with self.lock:
            process = self.running.pop(name)
        try:
            os.killpg(process.pid, sig)
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        except ProcessLookupError:
            pass

    def supervise(self, stopping: threading.Event) -> None:
        while not stopping.wait(1.0):
            with self.lock:
                dead = [(n, p.returncode) for n, p in self.running.items() if p.poll() is not None]
            for name, code in dead:
                self.restarts.append((time.time(), name, code))
                self.start(name)

    def stop_all(self) -> None:
        for name in list(self.running):
            self.end(name, signal.SIGTERM)


class HealthWatch(threading.Thread):
    """/health/ asked every second through the Daphne for the whole drill."""

    def __init__(self, base: str):
        super().__init__(daemon=True)
        self.base = base
        self.answers: list[tuple[float, int | str | None, list]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(1.0):
            asked = time.time()
            try:
                status, body = processes.health_of(self.base)
            except Exception as exc:  # noqa: BLE001 - an answer that is not JSON: recorded as such
                status, body = type(exc).__name__, {}
            self.answers.append((asked, status, body.get("failing", [])))

    def between(self, start: float, end: float) -> list:
        return [status for asked, status, _ in list(self.answers) if start <= asked <= end]


@pytest.fixture
def drill_database(stub_demo, test_database_url):
    """The seeded test database, on PostgreSQL copied into a private cluster the drill may
    restart, with this process's connection pointed there until the test ends (pytest-django
    then empties the suite's own database, as after any test). On SQLite: the test's file."""
    if test_database_url.startswith("sqlite"):
        yield test_database_url, None
        return
    postgres = PrivatePostgres().init()
    postgres.start()
    saved = dict(connection.settings_dict)
    try:
        url = postgres.copy_database(test_database_url)
        connections.close_all()
        connection.settings_dict.update(HOST="127.0.0.1", PORT=str(postgres.port), NAME=postgres.NAME,
                                        USER="postgres", PASSWORD="")
        yield url, postgres
    finally:
        connections.close_all()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
        postgres.remove()


def since(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def recovered(base: str, up_at: float) -> bool:
    """/health/ 200, and every quoting market ticked since `up_at`."""
    try:
        stuck = Market.objects.filter(enabled=True).exclude(state__in=Market.STOPPED).exclude(
            last_tick_at__gt=since(up_at)
        ).exists()
    except DatabaseError:  # this process's connection did not outlive PostgreSQL's restart
        connections.close_all()
        return False
    return not stuck and processes.health_of(base)[0] == 200


def all_hedged(stubs) -> bool:
    fills = Fill.objects.count()
    return (fills == len(stub_desk.bot_trades(stubs.own))
            and Hedge.objects.filter(state=Hedge.FILLED).count() == fills)


# Counts the page's live indicator going off (its socket lost), for the test to read.
COUNT_DROPS = """() => {
  window.drops = 0;
  const live = document.getElementById("live");
  new MutationObserver(() => { if (live.classList.contains("off")) window.drops += 1; })
    .observe(live, {attributes: true, attributeFilter: ["class"]});
}"""


def test_the_desk_comes_back_from_each_outage_and_every_fill_is_hedged_once(
    stub_demo, stubs, drill_database, browser, tmp_path, artifacts
):
    market, admins = stub_demo
    db_url, postgres = drill_database
    redis_server = PrivateRedis(tmp_path / "redis").start()
    port = processes.free_port()
    base = f"http://127.0.0.1:{port}"
    (tmp_path / "metrics").mkdir()
    env = {
        **processes._env(db_url, redis_server.url),
        # Ticks stopped this long have their quotes pulled: well inside each 10 s outage.
        "BALLAST_DEADMAN_SECONDS": "5",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "BALLAST_TWO_FACTOR": "true",
    }
    desk = Desk(port, env, tmp_path)

    def restart(down, up):
        def run(outage: Outage) -> None:
            outage.down_at = time.time()
            down()
            time.sleep(DOWN_SECONDS)
            up()
            outage.up_at = time.time()
        return run

    outages = [
        (Outage("Redis", "restarted"), restart(redis_server.stop, redis_server.start)),
        (Outage("PostgreSQL", "restarted"), restart(postgres.stop, postgres.start) if postgres else None),
        (Outage("hedging worker", "SIGKILL"), restart(lambda: desk.end("hedger", signal.SIGKILL),
                                                      lambda: desk.start("hedger"))),
        (Outage("stream process", "SIGKILL"), restart(lambda: desk.end("stream", signal.SIGKILL),
                                                      lambda: desk.start("stream"))),
        (Outage("Daphne", "restarted"), restart(lambda: desk.end("web", signal.SIGTERM),
                                                lambda: desk.start("web"))),
    ]
    stop_trading = threading.Event()
    users = threading.Thread(target=stub_desk.trade, args=(stubs, stop_trading), daemon=True)
    watch = HealthWatch(base)
    supervisor = threading.Thread(target=desk.supervise, args=(watch.stopping,), daemon=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        for name in PARTS:
            desk.start(name)
        supervisor.start()
        # Users from the start: the hedge venue's book moves with them, and /health/ calls a
        # streamed book that does not move stale.
        users.start()
        processes.wait_for(lambda: recovered(base, 0), "/health/ 200 before the drill", 180)
        page = context.new_page()
        log_in(page, base, admins[0])
        page.goto(base + reverse("market", args=[market.slug]))
        page.wait_for_selector("#live.on", timeout=60_000)
        page.evaluate(COUNT_DROPS)
        watch.start()
        processes.wait_for(lambda: Fill.objects.count() >= 5, "the first fills", 120)

        for outage, run in outages:
            if run is None:
                outage.skipped = "no database server to restart: the suite runs on SQLite"
                continue
            run(outage)
            try:
                processes.wait_for(lambda o=outage: recovered(base, o.up_at),
                                   f"the desk to recover from the {outage.part} outage", RECOVERY_BOUND)
            except AssertionError as exc:
                raise AssertionError(f"{exc}: /health/ said {watch.answers[-3:]}") from None
            outage.recovered_at = time.time()
            outage.health = watch.between(outage.down_at, outage.up_at)

        # While users still trade, as before: the desk's answer with its parts busy.
        final_health = processes.health_of(base)
        stop_trading.set()
        users.join(10)
        processes.wait_for(lambda: all_hedged(stubs), "every fill captured and hedged", RECOVERY_BOUND)
        # The page reconnected and shows what is current: a push after everything settled, with
        # the latest fill on top of the tape, hedged.
        updates = int(page.get_attribute("#market", "data-updates"))
        page.wait_for_function(
            "n => Number(document.getElementById('market').dataset.updates) > n", arg=updates,
            timeout=60_000,
        )
        live_class = page.get_attribute("#live", "class")
        drops = page.evaluate("window.drops")
        top_row = page.eval_on_selector(
            "#tape tbody tr", "tr => [...tr.cells].map(c => [c.textContent, c.className])"
        )
    finally:
        stop_trading.set()
        watch.stopping.set()
        supervisor.join(10)
        context.close()
        desk.stop_all()
        redis_server.stop()

    table = write_table(outages, desk.restarts, db_url, artifacts)
    print("\n" + table)

    # Every fill hedged exactly once; no client order id twice; the ledger equal to the stubs'.
    result = soak.SoakResult()
    soak.check(market, stubs, result, funds=stub_desk.FUNDS)
    assert result.fills >= 20, result.fills
    assert (result.unhedged, result.hedged_twice, result.duplicate_client_ids) == (0, 0, 0), result
    assert result.ledger_differences == []
    assert [o.part for o, _ in outages if o.lost] == []

    # No stuck tick: every outage recovered with every market ticking (recovered()), the last
    # one too; and /health/ said 503 while a part it watches was down, 200 after.
    ran = [o for o, _ in outages if not o.skipped]
    assert all(o.recovered_at for o in ran)
    for outage in ran:
        if outage.part in WATCHED:
            assert 503 in outage.health, (outage.part, outage.health)
    assert final_health[0] == 200, {name: said for name, said in final_health[1].get("checks", {}).items()
                                     if said != "OK"}
    daphne = next(o for o in ran if o.part == "Daphne")
    assert None in daphne.health  # nothing answered while it was down

    # The dead man's switch pulled the quotes while ticks had stopped (Redis down: no beat, no
    # worker could tick).
    redis_outage = ran[0]
    pulls = AuditEntry.objects.filter(
        action="dead_man_switch", market=market, at__gte=since(redis_outage.down_at),
        at__lte=since(redis_outage.recovered_at),
    )
    assert pulls.exists(), list(AuditEntry.objects.values_list("action", "at"))

    # The open page lost its socket, reconnected, and shows the latest fill, hedged.
    newest = Fill.objects.filter(market=market).order_by("-timestamp", "-pk").first()
    assert drops >= 1 and "on" in live_class.split(), (drops, live_class)
    amount = D(top_row[2][0].replace(",", ""))
    assert abs(amount - newest.amount) < D("0.0001"), (top_row, newest.amount)
    assert "hedge-filled" in top_row[-1][1], top_row


def write_table(outages: list, restarts: list, db_url: str, artifacts) -> str:
    """Each outage's figures (fills by the venue's time while the part was down), as Markdown;
    also to test-artifacts/restart-drill.md."""
    for outage, _ in outages:
        if outage.skipped:
            continue
        fills = Fill.objects.filter(timestamp__gte=int(outage.down_at * 1000),
                                    timestamp__lt=int(outage.up_at * 1000)).select_related("hedge")
        outage.fills = len(fills)
        for fill in fills:
            hedge = getattr(fill, "hedge", None)
            if hedge is None or hedge.state != Hedge.FILLED:
                outage.lost += 1
            elif hedge.done_at > since(outage.up_at):
                outage.late += 1
        outage.restarted = sorted({f"{name} (exit {code})" for at, name, code in restarts
                                   if outage.down_at <= at <= outage.recovered_at})
    database = "SQLite" if db_url.startswith("sqlite") else "PostgreSQL"
    lines = [
        f"Restart drill, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, on {database}, "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; each part down {DOWN_SECONDS} s",
        "",
        "| outage | fills during it | time to recover | hedges late | hedges lost | /health/ while down"
        " | exited, restarted by the supervisor |",
        "|---|---|---|---|---|---|---|",
        *(outage.row() for outage, _ in outages),
    ]
    table = "\n".join(lines)
    (artifacts / "restart-drill.md").write_text(table + "\n")
    return table
