"""Anonymous use of the public /demo is limited per client address: runs started and steps a
minute, answered 429 with a message saying when to come back, the run left as it was."""

from __future__ import annotations

import pickle

import pytest
from django.core.cache import cache
from django.test import Client

from dashboard.simulation import demo_runs, demo_views

pytestmark = [
    pytest.mark.django_db, pytest.mark.processes, pytest.mark.usefixtures("demo_worker")
]
JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture(autouse=True)
def fresh_counts(redis_client):
    def clear():
        redis_client.delete(demo_views.LIVE_KEY, *redis_client.keys("ballast:demo:rate:*"))

    clear()
    yield
    clear()


def second_of(client) -> int:
    return pickle.loads(cache.get(demo_runs.state_key(demo_views.run_id_from(client.cookies[demo_views.COOKIE].value)))).second


def play(client):
    return client.post("/demo/act", {"action": "play", "seconds": "5"}, **JSON)


def test_past_the_steps_a_minute_an_address_gets_429_and_its_run_is_unchanged(settings):
    settings.DEMO_STEPS_PER_MINUTE, settings.DEMO_RUNS_PER_MINUTE = 3, 0
    visitor = Client(REMOTE_ADDR="203.0.113.7")
    visitor.get("/demo?scenario=steady&seed=0")  # a run started: not a step
    assert [play(visitor).status_code for _ in range(3)] == [200, 200, 200]
    second = second_of(visitor)

    refused = play(visitor)

    assert refused.status_code == 429
    message = refused.json()["error"]
    assert message.startswith("Too many demo steps (at most 3 a minute) from your address: try again in ")
    assert 1 <= int(refused["Retry-After"]) <= 60 and message.endswith(f" {refused['Retry-After']} s.")
    assert second_of(visitor) == second
    # Another address, and an operator logged in, are not counted with it.
    neighbour = Client(REMOTE_ADDR="203.0.113.8")
    neighbour.get("/demo?scenario=steady&seed=0")
    assert play(neighbour).status_code == 200


def test_past_the_runs_a_minute_an_address_gets_429_on_the_page_and_on_reset(settings, operator):
    settings.DEMO_STEPS_PER_MINUTE, settings.DEMO_RUNS_PER_MINUTE = 0, 2
    visitor = Client(REMOTE_ADDR="203.0.113.9")
    assert visitor.get("/demo?scenario=whale&seed=1").status_code == 200
    assert visitor.post("/demo/reset", {"scenario": "steady", "seed": "2"}, **JSON).status_code == 200

    page = visitor.get("/demo?scenario=trend&seed=3")
    reset = visitor.post("/demo/reset", {"scenario": "trend", "seed": "3"}, **JSON)

    assert page.status_code == 429
    assert "Too many new demo runs (at most 2 a minute) from your address" in page.content.decode()
    assert reset.status_code == 429 and "new demo runs" in reset.json()["error"]
    run = pickle.loads(cache.get(demo_runs.state_key(demo_views.run_id_from(visitor.cookies[demo_views.COOKIE].value))))
    assert (run.scenario.name, run.seed) == ("steady", 2)
    logged_in = Client(REMOTE_ADDR="203.0.113.9")
    logged_in.force_login(operator)
    assert logged_in.get("/demo?scenario=trend&seed=3").status_code == 200


def test_a_limit_of_0_is_no_limit(settings):
    settings.DEMO_STEPS_PER_MINUTE = settings.DEMO_RUNS_PER_MINUTE = 0
    visitor = Client(REMOTE_ADDR="203.0.113.10")
    visitor.get("/demo?scenario=steady&seed=0")
    assert {play(visitor).status_code for _ in range(12)} == {200}
