"""The dead man's switch with real processes: a Celery worker, beat and the `deadman` process on
a private Redis, the demo market quoting, simulated users trading. The worker, beat and Redis are
killed with SIGKILL; the quotes must go (the paper venue's own timer, armed by every tick, and
the `deadman` process), and no later user order may fill against them. Also: with every Ballast
process dead the venue alone pulls them; and a desk the operator killed stays killed."""

from __future__ import annotations

import os
import signal
import time
from contextlib import ExitStack, contextmanager
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from ballast.embedded_redis import EmbeddedRedis
from bots.market_making import operator_commands
from bots.models import (
    Alert,
    AuditEntry,
    KillSwitch,
    Market,
    PaperCancelDeadline,
    PaperOrder,
    PaperTrade,
)
from bots.platform import events, locks
from bots.simulation.paper_flow import user_trade
from bots.venues import ccxt_errors as ccxt
from tests.support import processes

pytestmark = [
    pytest.mark.processes, pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("drills"),
]
SECONDS = 5  # BALLAST_DEADMAN_SECONDS for the processes
PATIENCE = 120  # how long a condition may take on a busy machine


def wait_for(condition, what: str, timeout: float = PATIENCE, every: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


class Desk:
    """A private Redis and the named processes (worker, beat, deadman) on the test database."""

    def __init__(self, db_url: str, logs: Path, stack: ExitStack):
        self.folder = processes.short_folder("ballast-dm-", stack)
        self.redis = EmbeddedRedis(self.folder / "redis.sock").start()
        stack.callback(self.redis.stop)
        self.db_url, self.logs, self.stack = db_url, logs, stack
        self.processes: dict = {}
        self.started = 0

    def start(self, *names: str) -> None:
        commands = {
            "worker": ["-m", "celery", "-A", "ballast", "worker", "--pool", "solo", "--loglevel", "INFO",
                       "--without-mingle", "--without-gossip", "--hostname", f"deadman-{os.getpid()}@localhost"],
            "beat": ["-m", "celery", "-A", "ballast", "beat", "--loglevel", "INFO",
                     "--schedule", str(self.folder / "beat-schedule")],
            "deadman": ["manage.py", "deadman"],
        }
        for name in names:
            self.started += 1
            self.processes[name] = self.stack.enter_context(processes.ballast_process(
                commands[name], self.db_url, self.redis.url,
                Path(f"{self.logs}-{self.started}-{name}.log"),
                BALLAST_DEADMAN_SECONDS=str(SECONDS),
            ))

    def kill(self, *names: str) -> None:
        """SIGKILL: no process gets to clean up, as in a crash or an OOM kill."""
        for name in names:
            target = self.redis.process if name == "redis" else self.processes[name]
            os.kill(target.pid, signal.SIGKILL)
            target.wait(10)


@contextmanager
def desk(db_url: str, logs: Path, *names: str):
    """The desk's processes; their logs are `logs`-N-name.log."""
    with ExitStack() as stack:
        run = Desk(db_url, logs, stack)
        run.start(*names)
        yield run


def mm_open(market: Market) -> int:
    return PaperOrder.objects.filter(account=market.mm_account, status="open").count()


def mm_fills(market: Market) -> int:
    return PaperTrade.objects.filter(account=market.mm_account).count()


class Users:
    """Simulated users sending small market orders, buys and sells in turn."""

    def __init__(self, market: Market):
        self.market, self.sent = market, 0

    def trade(self) -> None:
        self.sent += 1
        try:
            user_trade(self.market, "buy" if self.sent % 2 else "sell", Decimal("0.01"))
        except ccxt.InvalidOrder:
            pass  # nothing on the book to trade against

    def until_a_fill(self) -> None:
        before = mm_fills(self.market)

        def filled() -> bool:
            self.trade()
            return mm_fills(self.market) > before

        wait_for(filled, "a user's order to fill against the MM bot's quotes", every=0.2)

    def find_nothing_to_fill(self, orders: int = 6) -> None:
        before = mm_fills(self.market)
        for _ in range(orders):
            self.trade()
        assert mm_fills(self.market) == before


@pytest.fixture
def market(demo_market, monkeypatch):
    # The users here are this test process: the fills they make are captured by the private
    # worker's ticks, not pushed to the suite's Redis.
    monkeypatch.setattr(events.trades_made, "receivers", [])
    return demo_market


def deadline_of(market: Market) -> int:
    return PaperCancelDeadline.objects.get(account=market.mm_account).deadline


def test_workers_and_redis_killed_the_quotes_go_and_come_back_with_the_ticks(
    market, test_database_url, artifacts
):
    users = Users(market)
    with desk(test_database_url, artifacts / "deadman-killed", "worker", "beat", "deadman") as run:
        wait_for(lambda: mm_open(market) >= 10, "the MM bot's quotes")
        users.until_a_fill()

        run.kill("worker", "beat", "redis")
        killed_at = timezone.now()
        deadline = deadline_of(market)  # the last tick's; no tick will arm it again

        def pulled() -> bool:
            users.trade()
            return mm_open(market) == 0 and AuditEntry.objects.filter(
                action="dead_man_switch", market=market, at__gte=killed_at
            ).exists()

        wait_for(pulled, "the quotes pulled and the dead man's switch's entry", every=0.2)
        users.find_nothing_to_fill()
        assert max(PaperTrade.objects.filter(account=market.mm_account).values_list("timestamp", flat=True)) <= deadline
        alert = Alert.objects.get(kind=Alert.QUOTES_PULLED, market=market)
        assert alert.state == Alert.OPEN and "quotes pulled" in alert.message
        assert Market.objects.get(pk=market.pk).state == Market.RUNNING  # the operator's call stays

        # Redis and the workers come back: the bot quotes as before, the alert resolves.
        run.redis.start()
        run.start("worker", "beat")
        wait_for(
            lambda: mm_open(market) >= 10 and Alert.objects.get(pk=alert.pk).state == Alert.RESOLVED,
            "quotes back and the alert resolved",
        )
        users.until_a_fill()


def test_with_every_ballast_process_dead_the_venue_pulls_the_quotes_itself(
    market, test_database_url, artifacts
):
    users = Users(market)
    with desk(test_database_url, artifacts / "deadman-venue-alone", "worker", "beat") as run:
        wait_for(lambda: mm_open(market) >= 10, "the MM bot's quotes")
        users.until_a_fill()

        run.kill("worker", "beat", "redis")
        deadline = deadline_of(market)

        def pulled() -> bool:
            users.trade()
            return mm_open(market) == 0

        wait_for(pulled, "the paper venue to pull the quotes", every=0.2)
        users.find_nothing_to_fill()
        assert max(PaperTrade.objects.filter(account=market.mm_account).values_list("timestamp", flat=True)) <= deadline
        assert not AuditEntry.objects.filter(action="dead_man_switch").exists()  # nobody but the venue


def test_a_desk_the_operator_killed_stays_killed_and_quiet(market, test_database_url, artifacts, monkeypatch, settings):
    users = Users(market)
    with desk(test_database_url, artifacts / "deadman-desk-killed", "worker", "beat", "deadman") as run:
        # The operator's command takes the tick lock in the desk's Redis.
        settings.REDIS_URL = run.redis.url
        monkeypatch.setattr(locks, "_client", None)
        wait_for(lambda: mm_open(market) >= 10, "the MM bot's quotes")
        users.until_a_fill()
        operator_commands.kill_all(reason="venue incident", actor="ops")
        wait_for(lambda: mm_open(market) == 0, "the kill's cancels")
        locks._client = None  # its connection goes down with the server

        run.kill("worker", "beat", "redis")
        last_tick = Market.objects.get(pk=market.pk).last_tick_at
        # The deadman looks every second: past the limit by three, it has looked.
        wait_for(lambda: (timezone.now() - last_tick).total_seconds() > SECONDS + 3, "the limit to pass")
        users.find_nothing_to_fill()

        assert run.processes["deadman"].poll() is None
        row = Market.objects.get(pk=market.pk)
        assert row.state == Market.KILLED and row.state_reason.startswith(operator_commands.DESK_KILL)
        assert KillSwitch.is_engaged()
        assert not AuditEntry.objects.filter(action="dead_man_switch").exists()
        assert not Alert.objects.filter(kind=Alert.QUOTES_PULLED).exists()
