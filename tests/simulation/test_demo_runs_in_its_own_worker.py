"""The public /demo's steps run in a worker of their own, never in Daphne nor in the desk's
workers: the views only hand them over and await the answer, for a limited time."""

from __future__ import annotations

import asyncio
import time

import pytest
from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.test import Client
from django.utils.module_loading import import_string

from ballast.celery import app
from dashboard.management.commands.up import DEMO_NICENESS, process_commands
from dashboard.simulation import demo_runs, demo_views
from tests.support.demo import state_of

pytestmark = pytest.mark.usefixtures("unlimited_demo_runs")

JSON = {"HTTP_ACCEPT": "application/json"}
ACCEPT_JSON = {"accept": "application/json"}


def run_of(client):
    sim = state_of(client)
    return sim.second, list(sim.actions), sim.summary()


def test_up_starts_a_demo_worker_at_a_lower_priority_that_alone_takes_the_demo_queue():
    commands = process_commands("127.0.0.1", 8000, 2)

    demo_worker = commands["demo"]
    assert demo_worker[:3] == ["nice", "-n", str(DEMO_NICENESS)] and DEMO_NICENESS > 0
    assert demo_worker[demo_worker.index("--queues") + 1] == settings.DEMO_QUEUE == "demo"
    # The main worker takes the queues a worker started without -Q takes; demo is not one.
    assert "--queues" not in commands["worker"]
    assert settings.DEMO_QUEUE not in settings.CELERY_TASK_QUEUES
    assert commands["hedger"][commands["hedger"].index("--queues") + 1] == "hedging"
    assert app.amqp.router.route({}, "dashboard.tasks.demo_request")["queue"].name == "demo"


@pytest.mark.processes
def test_the_desks_worker_does_not_consume_the_demo_queue_and_the_demo_worker_nothing_else(
    worker, demo_worker
):
    queues = {
        name.split("@")[0].split("-")[1]: {q["name"] for q in found}
        for name, found in app.control.inspect(timeout=5).active_queues().items()
        if name.startswith("test-")
    }

    assert queues["main"] == {"celery", "hedging", "ticks"}
    assert queues["demo"] == {"demo"}


def test_every_middleware_is_async_capable():
    # One sync-only middleware and Django runs every async view in a thread: a demo step waiting
    # for its worker would hold one (and, in the test client, the one every sync view needs).
    sync_only = [m for m in settings.MIDDLEWARE if not getattr(import_string(m), "async_capable", False)]
    assert sync_only == []


def test_the_views_are_async():
    assert all(iscoroutinefunction(v) for v in (demo_views.demo_page, demo_views.demo_act, demo_views.demo_reset))


@pytest.mark.django_db
@pytest.mark.processes
def test_a_step_no_worker_takes_times_out_with_a_message_and_is_not_run_in_the_web(
    demo_worker, settings
):
    client = Client()
    client.get("/demo?scenario=steady&seed=0")
    before = run_of(client)
    settings.DEMO_QUEUE = "demo-without-a-worker"  # as if the demo's worker were down
    settings.DEMO_TIMEOUT_SECONDS = 1

    response = client.post("/demo/act", {"action": "play", "seconds": "5"}, **JSON)

    assert response.status_code == 503 and response["Retry-After"] == "60"
    assert response.json()["error"] == demo_views.SLOW
    assert run_of(client) == before


@pytest.mark.django_db
@pytest.mark.processes
def test_a_step_whose_visitor_stopped_waiting_is_dropped_untouched(demo_worker):
    client = Client()
    client.get("/demo?scenario=steady&seed=0")
    before = run_of(client)
    job = {
        "kind": "act", "run_id": demo_views.run_id_from(client.cookies[demo_views.COOKIE].value), "action": "p5", "since": 0,
        "deadline": time.time() - 1, "base": "http://testserver/", "csrf_token": "",
    }

    assert demo_runs.answer(job) is None
    assert run_of(client) == before
    job["deadline"] = time.time() + 10
    assert demo_runs.answer(job)["status"] == 200
    assert run_of(client)[0] == before[0] + 5


@pytest.mark.django_db(transaction=True)
@pytest.mark.processes
async def test_a_step_waiting_for_its_worker_holds_up_no_desk_page(
    async_client, demo_worker, settings, redis_client
):
    assert (await async_client.get("/demo?scenario=steady&seed=0")).status_code == 200
    settings.DEMO_QUEUE = "demo-without-a-worker"  # the step waits its whole timeout
    # Long enough that the page below is answered within it even on a loaded machine; were the
    # step blocking the loop, the page would wait for the whole of it all the same.
    settings.DEMO_TIMEOUT_SECONDS = 6
    redis_client.delete(settings.DEMO_QUEUE)
    step = asyncio.ensure_future(
        async_client.post("/demo/act", {"action": "play", "seconds": "5"}, headers=ACCEPT_JSON)
    )
    while not redis_client.llen(settings.DEMO_QUEUE):  # handed over: the view is waiting now
        await asyncio.sleep(0.01)

    page = await async_client.get("/login/")  # a page of the desk, a sync view

    assert page.status_code == 200
    assert not step.done()  # answered while the demo's step was still waiting
    assert (await step).status_code == 503
    redis_client.delete(settings.DEMO_QUEUE)
