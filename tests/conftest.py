"""Shared fixtures: the Redis the suite must reach, personas, and a small paper exchange."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
import redis
from django.conf import settings

from tests.support import processes
from tests.support.users import make_user


def pytest_configure(config):
    # Threads of async tests open connections of their own; persistent ones would outlive the
    # test database and keep PostgreSQL from dropping it.
    from django.db import connections

    connections.settings["default"]["CONN_MAX_AGE"] = 0
    # Transactional tests' flush deletes rows instead of truncating tables on PostgreSQL
    # (tests/support/postgresql/base.py): this process only, the processes it starts keep
    # Django's backend.
    if connections.settings["default"]["ENGINE"] == "django.db.backends.postgresql":
        connections.settings["default"]["ENGINE"] = "tests.support.postgresql"
        connections["default"].close()
        del connections["default"]  # made again, of that backend, when next used


def pytest_sessionstart(session):
    # Tests of Celery and Channels talk to a real Redis; without one the suite must fail loudly,
    # never skip. `make test` starts an embedded one when REDIS_URL is not set.
    try:
        # The suite owns its Redis db (each xdist worker its own, tests/settings.py): what an
        # earlier or aborted run left there (locks, throttles, the stream's tick references,
        # kept for an hour and keyed by row ids a new test database hands out again) would
        # leak into this one.
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).flushdb()
    except redis.RedisError as exc:
        pytest.exit(
            f"Redis at {settings.REDIS_URL} is unreachable ({exc}). Run the suite with `make test`, "
            "or set REDIS_URL to a running Redis.",
            returncode=3,
        )


@pytest.fixture
def redis_client():
    client = redis.Redis.from_url(settings.REDIS_URL)
    yield client
    client.close()


ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
# Under pytest-xdist each worker ("gw0", "gw1", ...) starts its own session processes.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def session_log(name: str) -> str:
    return f"{name}-{WORKER}.log" if WORKER else f"{name}.log"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def test_database_url(django_db_setup) -> str:
    from django.db import connection

    return processes.database_url(connection.settings_dict)


@pytest.fixture(scope="session")
def worker(test_database_url, artifacts):
    """A real Celery worker process on the real Redis, reading the test database."""
    log = artifacts / session_log("worker")
    with processes.celery_worker(test_database_url, settings.REDIS_URL, log) as proc:
        yield proc


@pytest.fixture
def unlimited_demo_runs(redis_client, settings):
    """Every request in a test comes from one address: the per-address limits have tests of
    their own. The live-run count starts and ends empty."""
    from dashboard.simulation import demo_views

    settings.DEMO_RUNS_PER_MINUTE = settings.DEMO_STEPS_PER_MINUTE = 0
    redis_client.delete(demo_views.LIVE_KEY)
    yield
    redis_client.delete(demo_views.LIVE_KEY)


@pytest.fixture(scope="session")
def demo_worker(test_database_url, artifacts):
    """The public demo's worker: the only one that takes the `demo` queue (/demo's steps)."""
    log = artifacts / session_log("demo-worker")
    queue = settings.DEMO_QUEUE
    with processes.celery_worker(test_database_url, settings.REDIS_URL, log, queue) as proc:
        yield proc


@pytest.fixture(scope="session")
def live_url(test_database_url, artifacts):
    """A real Daphne serving the app over HTTP and websockets, on the test database."""
    log = artifacts / session_log("daphne")
    with processes.daphne(test_database_url, settings.REDIS_URL, log) as url:
        yield url


@pytest.fixture
def operator(db):
    return make_user("olivia", "operator")


@pytest.fixture
def viewer(db):
    return make_user("victor", "viewer")


@pytest.fixture
def demo_market(db):
    """The minimal demo's market (`seed_demo --minimal`): BTC/USDT between the paper own and
    external venues, funded accounts, no simulated users."""
    from django.core.management import call_command

    from bots.models import Market

    call_command(
        "seed_demo", "--minimal", "--trades-per-minute", "0", "--username", "demo-operator",
        stdout=io.StringIO(),
    )
    return Market.objects.select_related("mm_account__venue", "hedge_account__venue").get(slug="btc-usdt")


@pytest.fixture
def running_market(demo_market):
    """The demo market with an outside book to hedge against and the MM bot's quotes resting."""
    from bots.market_making import quoter
    from bots.simulation import paper_flow

    paper_flow.move_outside_markets(second=1)
    quoter.run_tick(demo_market.pk, on_hedge=lambda hedge_id: None)
    return demo_market


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run (launching costs about 0.6 s), the one
    tests/support/chromium.py finds (`make test` installs it first when it is missing)."""
    from playwright.sync_api import sync_playwright

    from tests.support import chromium

    executable = chromium.find()
    if executable is None:
        pytest.fail(chromium.HOW_TO_INSTALL, pytrace=False)

    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are
    # plain synchronous code all the same.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable,
            args=["--disable-background-networking", "--disable-component-update", "--no-first-run"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def pytest_collection_modifyitems(items):
    # Playwright's sync API keeps an event loop running in the main thread until the browser
    # closes at the end of the session, and async tests cannot start their own beside it: so
    # the browser tests go last.
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(autouse=True)
def fresh_market_rules():
    """Ticks keep venues' rules a minute per process; each test starts from its own venues."""
    from bots.market_making.quoter import forget_market_rules

    forget_market_rules()


@pytest.fixture
def admin_user(db):
    """An admin by role (the Django group), not a superuser: what the desk's checks look at."""
    return make_user("ada", "admin")


@pytest.fixture
def second_operator(db):
    """Another operator: transfers above a policy's threshold need two different ones."""
    return make_user("oscar", "operator")


@pytest.fixture
def rebalance_market(demo_market):
    """The demo market with both bot accounts' balances read: the rebalance panel's inputs
    (bands, policies, networks and whitelist come with the demo)."""
    from bots.treasury.balances import refresh_balances

    for account in (demo_market.mm_account, demo_market.hedge_account):
        refresh_balances(account, ["BTC", "USDT"])
    return demo_market


@pytest.fixture
def hedging_market(demo_market):
    """The demo market ready to hedge: an outside book, deep MM quotes for users to hit, and both
    bot accounts funded deeply (tests/support/hedging_world.py builds the rest)."""
    from tests.support.hedging_world import DEEP, fund, refresh_outside, rest_mm_quotes

    for account in (demo_market.mm_account, demo_market.hedge_account):
        fund(account, DEEP)
    refresh_outside(1)
    rest_mm_quotes(demo_market)
    return demo_market


@pytest.fixture(autouse=True)
def long_dead_man_switch(settings):
    """Ticks arm the paper venue's dead man's switch for BALLAST_DEADMAN_SECONDS: a test that
    ticks, then takes 10 s on a busy machine before a user trades (a browser test), would find
    the quotes pulled. The switch's own tests set it short again."""
    settings.DEADMAN_SECONDS = 600


@pytest.fixture(autouse=True)
def two_factor_off(settings):
    """Tests log their personas in with force_login, which gives no code: two-factor is off in
    this process unless a test turns it on (tests/desk/test_two_factor.py). The Daphne of the
    browser tests keeps it on, and tests/support/browser.log_in gives the code."""
    settings.TWO_FACTOR = False
