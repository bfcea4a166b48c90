"""The public simulation at /demo: anonymous access, one run per visitor, caps and bad input."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client

from bots.engine.simulation.scenarios import run
from dashboard.simulation import demo_runs, demo_views
from tests.support.demo import state_of

JSON = {"HTTP_ACCEPT": "application/json"}
# Every step runs in the demo's own worker, as in production.
pytestmark = [pytest.mark.processes, pytest.mark.usefixtures("demo_worker", "unlimited_demo_runs")]


def act(client, **data):
    return client.post("/demo/act", data, **JSON)


@pytest.mark.django_db
def test_an_anonymous_visitor_gets_the_widget_with_a_run_of_their_own():
    client = Client()

    response = client.get("/demo?scenario=whale&seed=7")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Hedging bot control" in page and "User buys" in page
    # Served from static/: no script or style from another host (a random token may well
    # contain the letters "cdn", so look at the addresses themselves).
    assert "/static/vendor/plotly-basic-4.1.1.min.js" in page
    assert not re.search(r'<(script|link)[^>]*(src|href)="(https?:)?//', page)
    sim = state_of(client)
    assert sim.scenario.name == "whale" and sim.seed == 7


@pytest.mark.django_db
def test_a_user_buy_answers_with_the_chain_reaction_and_new_points():
    client = Client()
    client.get("/demo?scenario=steady&seed=0&rate=0")

    response = act(client, action="buy", size="0.1", since="1")

    assert response.status_code == 200
    body = response.json()
    assert "MM bot sells 0.1 BTC" in body["panel"]
    assert "Hedging bot buys 0.1 BTC on the external exchange" in body["panel"]
    assert body["series_count"] == 2 and len(body["series"]["t"]) == 1
    assert float(body["bars"]["mm"]["BTC"]) < 2 < float(body["bars"]["hedge"]["BTC"])


@pytest.mark.django_db
def test_two_visitors_do_not_see_each_others_runs():
    alice, bob = Client(), Client()
    alice.get("/demo?scenario=steady&seed=1&rate=0")
    bob.get("/demo?scenario=steady&seed=1&rate=0")

    act(alice, action="buy", size="0.5")

    assert state_of(alice).summary()["user_trades"] == 1
    assert state_of(bob).summary()["user_trades"] == 0
    assert demo_views.run_id_from(alice.cookies[demo_views.COOKIE].value) != demo_views.run_id_from(bob.cookies[demo_views.COOKIE].value)


@pytest.mark.django_db
def test_the_page_and_the_engine_agree_for_the_same_seed_and_actions():
    client = Client()
    client.get("/demo?scenario=whale&seed=3")
    for data in ({"action": "buy", "size": "0.3"}, {"action": "play", "seconds": "60"},
                 {"action": "shock", "pct": "-2"}, {"action": "play", "seconds": "30"}):
        assert act(client, **data).status_code == 200

    page_run = state_of(client)
    engine_run = run("whale", 3, 0, None, ["b0.3", "p60", "k-2", "p30"])
    assert page_run.summary() == engine_run.summary()
    assert page_run.events() == engine_run.events()


@pytest.mark.django_db
def test_the_share_link_replays_the_same_run_in_another_browser():
    client = Client()
    client.get("/demo?scenario=arbitrage&seed=11&spread=20&mm_btc=3")
    act(client, action="play", seconds="45")
    act(client, action="sell", size="0.25")
    act(client, action="play", seconds="45")
    original = state_of(client)
    share = demo_runs.share_url("http://testserver/", original)

    other = Client()
    query = urlparse(share).query
    assert parse_qs(query)["actions"] == ["p45,s0.25,p45"]
    assert other.get("/demo?" + query).status_code == 200

    replay = state_of(other)
    assert replay.summary() == original.summary()
    assert replay.events() == original.events()
    assert {k: list(v) for k, v in replay.series.items()} == {k: list(v) for k, v in original.series.items()}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data, words",
    [
        ({"action": "buy", "size": "lots"}, "Size must be a number"),
        ({"action": "buy", "size": "0"}, "above 0"),
        ({"action": "sell", "size": "1000"}, "at most 20"),
        ({"action": "shock", "pct": "90"}, "price shock"),
        ({"action": "play", "seconds": "121"}, "120 seconds"),
        ({"action": "play", "seconds": "-5"}, "120 seconds"),
        ({"action": "flow", "rate": "5000", "buy": "50"}, "Users' rate"),
        ({"action": "apply"}, "no transfer"),
        ({"action": "teleport"}, "unknown action"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_changes_nothing(data, words):
    client = Client()
    client.get("/demo?scenario=steady&seed=0")
    before = state_of(client).summary()

    response = act(client, **data)

    assert response.status_code == 400
    assert words in response.json()["error"]
    assert state_of(client).summary() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query, words",
    [
        ("scenario=moon", "unknown scenario"),
        ("seed=-1", "seed"),
        ("spread=3", "hedge floor"),
        ("mm_usdt=-5", "MM bot USDT"),
        ("band=100", "Rebalance band"),
        ("actions=p60,x", "unknown action"),
    ],
)
def test_a_bad_link_is_refused_with_a_message(query, words):
    response = Client().get("/demo?" + query)

    assert response.status_code == 400
    assert words in response.content.decode()


@pytest.mark.django_db
def test_a_bad_reset_keeps_the_run_that_was():
    client = Client()
    client.get("/demo?scenario=steady&seed=5")
    act(client, action="play", seconds="10")

    response = client.post("/demo/reset", {"scenario": "whale", "fee": "abc"}, **JSON)

    assert response.status_code == 400 and "Hedge venue fee must be a number" in response.json()["error"]
    sim = state_of(client)
    assert (sim.scenario.name, sim.seed, sim.second) == ("steady", 5, 10)


@pytest.mark.django_db
def test_a_reset_starts_the_posted_run():
    client = Client()
    client.get("/demo")

    response = client.post("/demo/reset", {"scenario": "trend", "seed": "9", "mm_btc": "4"}, **JSON)

    assert response.status_code == 200
    sim = state_of(client)
    assert (sim.scenario.name, sim.seed, str(sim.settings["mm_btc"])) == ("trend", 9, "4")


@pytest.mark.django_db
def test_steps_per_request_are_capped():
    client = Client()
    client.get("/demo?scenario=steady&seed=0")

    assert act(client, action="play", seconds="120").status_code == 200
    assert act(client, action="play", seconds="121").status_code == 400
    assert state_of(client).second == 120


@pytest.mark.django_db
def test_runs_expire_after_the_idle_ttl(redis_client):
    client = Client()
    client.get("/demo")
    run_id = demo_views.run_id_from(client.cookies[demo_views.COOKIE].value)

    ttl = redis_client.ttl(cache.make_key(demo_runs.state_key(run_id)))

    assert demo_views.DEMO_TTL_SECONDS - 5 <= ttl <= demo_views.DEMO_TTL_SECONDS
    assert redis_client.zscore(demo_views.LIVE_KEY, run_id) is not None


@pytest.mark.django_db
def test_a_visitors_run_is_kept_in_a_cookie_as_long_as_the_run_and_makes_no_session(operator):
    visitor = Client()
    visitor.get("/demo")
    cookie = visitor.cookies[demo_views.COOKIE]
    assert cookie["max-age"] == demo_views.DEMO_TTL_SECONDS and cookie["httponly"]
    assert not Session.objects.exists()  # no row, and no query, per anonymous visitor
    assert demo_views.run_id_from(cookie.value[:-1] + "x") is None  # a forged cookie names no run

    logged_in = Client()
    logged_in.force_login(operator)
    logged_in.get("/demo")  # an operator trying the widget keeps the log-in they had
    assert logged_in.session.get_expiry_age() == settings.SESSION_COOKIE_AGE


@pytest.mark.django_db
def test_an_expired_run_says_so():
    client = Client()
    client.get("/demo")
    cache.delete(demo_runs.state_key(demo_views.run_id_from(client.cookies[demo_views.COOKIE].value)))

    response = act(client, action="play", seconds="5")

    assert response.status_code == 410 and "expired" in response.json()["error"]


@pytest.mark.django_db
def test_past_the_session_cap_a_new_visitor_is_told_the_demo_is_busy(monkeypatch):
    monkeypatch.setattr(demo_views, "DEMO_MAX_SESSIONS", 2)
    first, second, third = Client(), Client(), Client()
    assert first.get("/demo").status_code == 200
    assert second.get("/demo").status_code == 200

    response = third.get("/demo")

    assert response.status_code == 503
    assert "The demo is busy" in response.content.decode() and response["Retry-After"] == "60"
    # Visitors already in keep their runs.
    assert first.get("/demo").status_code == 200
    assert act(first, action="play", seconds="5").status_code == 200


@pytest.mark.django_db
def test_old_runs_leave_the_count(monkeypatch, redis_client):
    monkeypatch.setattr(demo_views, "DEMO_MAX_SESSIONS", 1)
    redis_client.zadd(demo_views.LIVE_KEY, {"gone": 1.0})  # last used in 1970

    assert Client().get("/demo").status_code == 200
    assert redis_client.zscore(demo_views.LIVE_KEY, "gone") is None


@pytest.mark.django_db
def test_a_run_being_stepped_in_another_tab_is_answered_409(redis_client):
    client = Client()
    client.get("/demo")
    lock = redis_client.lock(f"ballast:demo:lock:{demo_views.run_id_from(client.cookies[demo_views.COOKIE].value)}", timeout=10)
    assert lock.acquire()
    try:
        response = act(client, action="play", seconds="5")
    finally:
        lock.release()

    assert response.status_code == 409


@pytest.mark.django_db
def test_without_javascript_an_action_redirects_back_to_the_page():
    client = Client()
    client.get("/demo?scenario=steady&seed=0&rate=0")

    response = client.post("/demo/act", {"action": "buy", "size": "0.1"})

    assert response.status_code == 302 and response["Location"] == "/demo"
    assert "MM bot sells 0.1 BTC" in client.get("/demo").content.decode()


@pytest.mark.django_db
def test_a_dry_pool_is_said_on_the_page():
    client = Client()
    client.get("/demo?scenario=steady&seed=0&rate=0&mm_btc=0.01")

    panel = act(client, action="buy", size="0.1").json()["panel"]

    assert "The MM bot quotes no asks" in panel
    assert "the MM account&#x27;s BTC pool is dry" in panel


@pytest.mark.django_db
def test_a_hedge_that_cannot_be_placed_is_said_on_the_page():
    client = Client()
    client.get("/demo?scenario=venue_down&seed=0&rate=0")
    act(client, action="play", seconds="31")

    panel = act(client, action="sell", size="0.1").json()["panel"]

    assert "Hedging bot sells 0.1 BTC on the external exchange: the hedge venue is unreachable" in panel
    assert "hedge pending" in panel
