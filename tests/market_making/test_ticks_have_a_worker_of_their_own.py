"""A market's tick goes to the `ticks` queue, which `manage.py up` gives a solo worker of its own
without kombu's ack emulation, so that a streamed move's tick never waits behind a balance read,
a page push or a sizing run; the desk worker, started without -Q, takes ticks too, as its spare.
A tick lost with its worker is replaced by the next beat or move: the lock keeps one tick per
market at a time, whichever worker runs it (tests/market_making/test_tick_lock.py)."""

from __future__ import annotations

from django.conf import settings

from ballast.celery import app
from dashboard.management.commands.up import process_commands


def queue_of(name: str) -> str:
    route = app.amqp.router.route({}, name, (1,), {})
    return route["queue"].name


def test_a_tick_goes_to_the_ticks_queue_and_nothing_else_does():
    assert queue_of("bots.tasks.mm_tick") == settings.TICKS_QUEUE == "ticks"
    assert queue_of("bots.tasks.tick_all_markets") == "celery"
    assert queue_of("bots.tasks.hedge_fill") == "hedging"


def test_up_starts_a_solo_ticks_worker_without_ack_emulation():
    commands = process_commands("127.0.0.1", 8000, 2)

    ticker = commands["ticker"]
    assert ticker[:2] == ["env", "BALLAST_BROKER_ACK_EMULATION=0"]
    assert ticker[ticker.index("--queues") + 1] == settings.TICKS_QUEUE
    assert ticker[ticker.index("--pool") + 1] == "solo"
    # The desk worker takes every queue in CELERY_TASK_QUEUES: ticks among them, as a spare.
    assert "--queues" not in commands["worker"]
    assert settings.TICKS_QUEUE in settings.CELERY_TASK_QUEUES

