"""/metrics answers the token or an allowed address only, in Prometheus' text format: records by
state from the database, and what the processes counted (a tick run by a real worker process,
a fill and its hedge run here) summed across processes."""

from __future__ import annotations

import ipaddress
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bots.market_making import tasks as mm_tasks
from bots.models import Alert, Hedge
from bots.simulation.stub_exchanges.binance import BinanceStub
from bots.venues.ccxt_venue import CcxtVenue
from dashboard.management.commands.up import clear_metrics
from tests.support.hedging_world import one_fill, run_until_done

LOOPBACK = [ipaddress.ip_network("127.0.0.1/32")]


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(client, **headers) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return samples(response.content.decode())


@pytest.fixture
def open_metrics(settings):
    settings.METRICS_ALLOWED_ADDRESSES = LOOPBACK


@pytest.mark.django_db
def test_it_answers_nobody_without_a_token_or_an_allowed_address(client, settings):
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_ADDRESSES = "", []
    assert client.get("/metrics").status_code == 403
    settings.METRICS_ALLOWED_ADDRESSES = [ipaddress.ip_network("10.0.0.0/8")]
    assert client.get("/metrics").status_code == 403  # the test client is 127.0.0.1


@pytest.mark.django_db
def test_the_token_opens_it_and_a_wrong_one_does_not(client, settings):
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_ADDRESSES = "s3cret-token", []
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token").status_code == 200


@pytest.mark.django_db
def test_an_allowed_network_opens_it(client, settings):
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_ADDRESSES = "", [ipaddress.ip_network("127.0.0.0/8")]
    assert client.get("/metrics").status_code == 200


def test_records_by_state_and_exposure_come_from_the_database(client, open_metrics, hedging_market):
    hedge = one_fill(hedging_market, "buy", "0.5")  # a user buys: the MM bot sold 0.5
    Alert.objects.create(kind=Alert.HEDGE_FAILED, market=hedging_market, message="x", key="k")
    found = scrape(client)
    assert found[("ballast_hedges", (("state", Hedge.PENDING),))] == 1
    assert found[("ballast_hedges", (("state", Hedge.FILLED),))] == 0
    assert found[("ballast_open_alerts", (("kind", Alert.HEDGE_FAILED),))] == 1
    assert found[("ballast_unhedged_exposure_base", (("market", "btc-usdt"),))] == -0.5
    assert ("ballast_transfers", (("state", "proposed"),)) in found
    run_until_done(hedge.pk)
    found = scrape(client)
    assert found[("ballast_hedges", (("state", Hedge.FILLED),))] == 1
    assert found[("ballast_unhedged_exposure_base", (("market", "btc-usdt"),))] == 0


def test_a_fill_and_its_hedge_are_counted_and_timed(client, open_metrics, hedging_market):
    fills = ("ballast_fills_total", (("market", "btc-usdt"), ("venue", hedging_market.mm_account.venue.name)))
    timed = (
        "ballast_hedge_latency_seconds_count",
        (("market", "btc-usdt"), ("venue", hedging_market.hedge_account.venue.name)),
    )
    before = scrape(client)
    with django_capture_on_commit():
        hedge = one_fill(hedging_market, "sell", "0.3")
        run_until_done(hedge.pk)
    after = scrape(client)
    assert after[fills] - before.get(fills, 0) == 1
    assert after[timed] - before.get(timed, 0) == 1


def django_capture_on_commit():
    """on_commit callbacks run at the end of the block, as a commit would run them."""
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)


def ticks_of(found: dict, market: str) -> float:
    return sum(
        value for (name, labels), value in found.items()
        if name == "ballast_ticks_total" and ("market", market) in labels
    )


@pytest.mark.processes
@pytest.mark.django_db(transaction=True)
def test_a_tick_in_a_worker_process_is_summed_into_the_scrape(client, open_metrics, worker, running_market):
    duration = ("ballast_tick_duration_seconds_count", (("market", "btc-usdt"),))
    before = scrape(client)
    mm_tasks.mm_tick.delay(running_market.pk)
    # Waits for the worker's count to reach the files; the bound only keeps a lost task from
    # hanging the suite.
    deadline = time.monotonic() + 60
    after = scrape(client)
    while ticks_of(after, "btc-usdt") == ticks_of(before, "btc-usdt"):
        assert time.monotonic() < deadline, "the worker's tick never showed in /metrics"
        time.sleep(0.1)
        after = scrape(client)
    assert ticks_of(after, "btc-usdt") - ticks_of(before, "btc-usdt") == 1
    assert after[duration] - before.get(duration, 0) == 1


def test_up_clears_the_files_of_an_earlier_run(tmp_path):
    (tmp_path / "counter_123.db").write_bytes(b"x")
    (tmp_path / "keep.txt").write_text("not ours")
    clear_metrics(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


@pytest.mark.django_db
def test_request_weight_is_counted_per_venue_as_the_budget_takes_it(client, open_metrics):
    key = ("ballast_venue_request_weight_total", (("venue", "binance-weighed"),))
    before = scrape(client).get(key, 0)
    with BinanceStub(balances={"BTC": "1", "USDT": "10000"}) as stub:
        venue = CcxtVenue.from_settings(
            "binance-weighed", "binance", stub.ccxt_config(),
            {"apiKey": stub.API_KEY, "secret": stub.SECRET},
        )
        venue.load_markets()
        counted = scrape(client)[key] - before
        venue.fetch_order_book("BTC/USDT", limit=5)  # binance weighs a book of 5 levels 5
        assert scrape(client)[key] - before - counted == 5
