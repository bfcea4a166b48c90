"""The public /demo reads every number strictly in the digits 0-9 and refuses anything else
before it acts: "²" passes str.isdigit() and then fails int(), "٣" and "５" pass int() and
Decimal(), and a refused request leaves the visitor's run as it was."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.support.demo import state_of

pytestmark = [
    pytest.mark.django_db, pytest.mark.processes,
    pytest.mark.usefixtures("demo_worker", "unlimited_demo_runs"),
]
JSON = {"HTTP_ACCEPT": "application/json"}


def run_of(client):
    sim = state_of(client)
    return sim.scenario.name, sim.seed, sim.second, list(sim.actions), sim.summary()


@pytest.mark.parametrize("seed", ["²", "٣", "１２", "1_0", "9" * 5000])
def test_a_link_with_an_odd_seed_is_refused_with_a_message(seed):
    response = Client().get("/demo", {"scenario": "steady", "seed": seed})

    assert response.status_code == 400
    assert "the seed must be a whole number 0 to 999999999, in the digits 0-9" in (
        response.content.decode()
    )


@pytest.mark.parametrize("seed", ["²", "٣"])
def test_a_reset_with_an_odd_seed_keeps_the_run_that_was(seed):
    client = Client()
    client.get("/demo?scenario=steady&seed=5")
    before = run_of(client)

    response = client.post("/demo/reset", {"scenario": "whale", "seed": seed}, **JSON)

    assert response.status_code == 400
    assert response.json()["problems"] == {
        "seed": "the seed must be a whole number 0 to 999999999, in the digits 0-9"
    }
    assert run_of(client) == before


@pytest.mark.parametrize("since", ["²", "٣", "-1", "1e3", "9" * 5000])
def test_an_odd_since_is_refused_before_the_action_is_kept(since):
    client = Client()
    client.get("/demo?scenario=steady&seed=0")
    before = run_of(client)

    response = client.post("/demo/act", {"action": "buy", "size": "0.1", "since": since}, **JSON)

    assert response.status_code == 400
    assert "since must be a count of chart points" in response.json()["problems"]["since"]
    assert run_of(client) == before


@pytest.mark.parametrize(
    ("data", "field_words"),
    [
        ({"action": "buy", "size": "٠.١"}, "Size must be a number written with the digits 0-9"),
        ({"action": "sell", "size": "²"}, "Size must be a number written with the digits 0-9"),
        ({"action": "buy", "size": "1e-1"}, "Size must be a number written with the digits 0-9"),
        ({"action": "shock", "pct": "٥"}, "Shock must be a number written with the digits 0-9"),
        ({"action": "shock", "pct": "²"}, "Shock must be a number written with the digits 0-9"),
        ({"action": "play", "seconds": "²"}, "play between 1 and 120 seconds"),
        ({"action": "play", "seconds": "٣٠"}, "play between 1 and 120 seconds"),
        ({"action": "play", "seconds": "9" * 5000}, "play between 1 and 120 seconds"),
        ({"action": "flow", "rate": "１２", "buy": "50"}, "Users' rate must be a number written"),
        ({"action": "flow", "rate": "12", "buy": "²"}, "Users buying must be a number written"),
    ],
)
def test_an_odd_number_in_an_action_is_refused_and_changes_nothing(data, field_words):
    client = Client()
    client.get("/demo?scenario=steady&seed=0")
    before = run_of(client)

    response = client.post("/demo/act", {**data, "since": "0"}, **JSON)

    assert response.status_code == 400
    assert field_words in response.json()["problems"]["action"]
    assert run_of(client) == before


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ("mm_btc=٣", "mm_btc", "MM bot BTC must be a number written with the digits 0-9"),
        ("size=²", "size", "Users' mean size must be a number written with the digits 0-9"),
        ("fee=1_0", "fee", "Hedge venue fee must be a number written with the digits 0-9"),
        ("actions=p²", "action", "play between 1 and 120 seconds"),
        ("actions=b٠.١", "action", "Size must be a number written with the digits 0-9"),
    ],
)
def test_a_link_with_an_odd_setting_or_action_is_refused_by_name(query, field, words):
    response = Client().get("/demo?scenario=steady&seed=1&" + query, **JSON)

    assert response.status_code == 400
    assert words in response.json()["problems"][field]


def test_plain_digits_still_work_everywhere():
    client = Client()
    assert client.get("/demo?scenario=steady&seed=42&mm_btc=3&actions=b0.1,p5").status_code == 200
    second_before = run_of(client)[2]
    response = client.post("/demo/act", {"action": "play", "seconds": "3", "since": "2"}, **JSON)
    assert response.status_code == 200
    name, seed, second, actions, _ = run_of(client)
    assert (name, seed, second) == ("steady", 42, second_before + 3)
    assert actions[-1] == ("play", 8)  # played seconds in a row are kept as one action
