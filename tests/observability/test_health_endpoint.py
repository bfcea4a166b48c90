"""/health/ answers 200 when every part is well and 503 naming each failing part, from a real
Daphne; with Redis or the database down it still answers, naming them."""

from __future__ import annotations

import dataclasses
import json
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable

from ballast.observability import health_checks
from bots.desk.health import WORKER
from bots.models import Heartbeat, Market
from bots.platform import beat_heartbeat
from tests.support import processes

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]

EVERY_PART = {
    "database", "redis", "queue:celery", "queue:hedging", "queue:ticks", "queue:demo", "beat", "ticks",
    "streams",
}


def get(url: str) -> tuple[int, dict]:
    # The timeout only keeps a hung endpoint from hanging the suite; nothing measures time.
    try:
        with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def no_beat(redis_client):
    redis_client.delete(beat_heartbeat.KEY)
    yield redis_client
    redis_client.delete(beat_heartbeat.KEY)


def test_every_part_well_answers_200(live_url, worker, demo_worker, demo_market, no_beat):
    Heartbeat.objects.create(name=WORKER, beat_at=timezone.now())
    beat_heartbeat.stamp(no_beat, "beat-host:1")
    Market.objects.update(last_tick_at=timezone.now())
    status, body = get(live_url + "/health/")
    assert (status, body["status"], body["failing"]) == (200, "ok", []), body
    assert set(body["checks"]) == EVERY_PART
    assert set(body["checks"].values()) == {"OK"}


def test_a_silent_beat_and_a_market_without_ticks_answer_503_naming_them(live_url, demo_market, no_beat):
    Market.objects.update(last_tick_at=timezone.now() - timedelta(hours=1), started_at=None)
    status, body = get(live_url + "/health/")
    assert status == 503
    assert body["status"] == "failing"
    assert {"beat", "ticks"} <= set(body["failing"])
    assert "btc-usdt silent" in body["checks"]["ticks"]
    assert "no heartbeat" in body["checks"]["beat"]
    assert body["checks"]["database"] == body["checks"]["redis"] == "OK"


def test_a_paused_market_is_not_expected_to_tick(live_url, demo_market):
    Market.objects.update(
        last_tick_at=timezone.now() - timedelta(hours=1), started_at=None, state=Market.PAUSED
    )
    _, body = get(live_url + "/health/")
    assert body["checks"]["ticks"] == "OK"


def test_redis_down_answers_503_naming_redis_and_every_queue(test_database_url, artifacts):
    nothing_there = f"redis://127.0.0.1:{processes.free_port()}/0"
    with processes.daphne(test_database_url, nothing_there, artifacts / "daphne-no-redis.log") as url:
        status, body = get(url + "/health/")
    assert status == 503
    assert {"redis", "queue:celery", "queue:hedging", "queue:demo", "beat"} <= set(body["failing"])
    assert "database" not in body["failing"]
    assert "the broker did not answer" in body["checks"]["queue:hedging"]


def test_database_down_answers_503_naming_it(artifacts, test_database_url):
    nothing_there = f"postgres://postgres@127.0.0.1:{processes.free_port()}/ballast"
    with processes.daphne(nothing_there, settings.REDIS_URL, artifacts / "daphne-no-db.log") as url:
        status, body = get(url + "/health/")
    assert status == 503
    assert {"database", "ticks"} <= set(body["failing"])  # beat's heartbeat is in Redis
    assert "redis" not in body["failing"]
    assert "127.0.0.1" not in json.dumps(body)  # reasons name parts, never where they are


@dataclasses.dataclass
class StreamFresh(HealthCheck):
    name = "stream:binance"

    def run(self):
        raise ServiceUnavailable("no message for 42 s")


def test_a_registered_check_is_answered_and_named(client):
    def streams():
        return [StreamFresh()]

    health_checks.register(streams)
    try:
        response = client.get("/health/")
    finally:
        health_checks._factories.remove(streams)
    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["stream:binance"] == "Unavailable: no message for 42 s"
    assert "stream:binance" in body["failing"]


def test_the_queue_checks_leave_room_beyond_the_workers_broadcast():
    """The broadcast that asks the workers which queues they take waits its whole timeout,
    answers or not (here against the suite's Redis); each queue check's own limit, which the
    library stretches by one second, must outlast it with room for a loaded machine."""
    answers = health_checks.WorkerAnswers(0.5)
    start = timezone.now()
    answers.consumers("celery")
    assert (timezone.now() - start).total_seconds() >= 0.5

    check = health_checks.QueueAnswering("celery", health_checks.WorkerAnswers(settings.HEALTH_CHECK_TIMEOUT))
    library_limit = check.timeout.total_seconds() + 1
    assert library_limit - settings.HEALTH_CHECK_TIMEOUT >= 3
