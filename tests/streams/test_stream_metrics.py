"""/metrics tells each venue's stream lag and reconnects per kind (fills, book, balance), from the
stream process on the binance REST and websocket stubs: the lag is reckoned from the venue's own
time of each stream's last message, and every stream lost and opened again is counted."""

from __future__ import annotations

import dataclasses
import ipaddress
import time

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from bots.models import Fill
from bots.simulation.stub_exchanges.binance_ws import BinanceWsStub
from tests.support.streams import (
    Stubs,
    eventually,
    fills_live,
    hedge_on_stub,
    make_on_stub,
    running,
)

pytestmark = pytest.mark.django_db(transaction=True)

VENUE = "binance-stub"
KINDS = ("fills", "book", "balance")
BEHIND_MS = 120_000  # the venue's clock, as its stream messages tell it, behind this host's


class LateWsStub(BinanceWsStub):
    """Stamps every stream message BEHIND_MS early, as a venue whose clock is behind: the lag
    shows it from the first message, where an age counted from the arrival would start at 0. (Its
    REST side keeps the right time: signed requests are checked against it.)"""

    def events(self, change):
        trades = [dataclasses.replace(t, timestamp=t.timestamp - BEHIND_MS) for t in change.trades]
        return super().events(dataclasses.replace(change, time=change.time - BEHIND_MS, trades=trades))


class LateStubs(Stubs):
    WS = LateWsStub


@pytest.fixture
def open_metrics(settings):
    settings.METRICS_ALLOWED_ADDRESSES = [ipaddress.ip_network("127.0.0.1/32")]


def scrape() -> dict[tuple[str, str, str], float]:
    """The stream samples of /metrics, by (name, venue, kind)."""
    response = Client().get("/metrics")
    assert response.status_code == 200, response.content
    return {
        (sample.name, sample.labels["venue"], sample.labels["stream"]): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
        if sample.name.startswith("ballast_stream_")
    }


def lags(found: dict) -> dict[str, float]:
    return {kind: found[("ballast_stream_lag_seconds", v, kind)]
            for (name, v, kind) in found if name == "ballast_stream_lag_seconds" and v == VENUE}


def all_late(found: dict[str, float]) -> dict[str, float] | None:
    return found if set(found) == set(KINDS) and min(found.values()) >= BEHIND_MS / 1000 else None


def reconnects(found: dict, kind: str) -> float:
    return found.get(("ballast_stream_reconnects_total", VENUE, kind), 0)


async def streaming(stubs) -> None:
    """Wait for every stream of the MM account (fills, balance) and the hedge account (book)."""
    await eventually(lambda: stubs.ws.connections("user") >= 2 and stubs.ws.connections("depth") >= 1,
                     "the streams subscribed")


@pytest.fixture
def late_stubs(redis_client):
    redis_client.delete("ballast:stream:seen")  # no lag of an earlier test's streams
    stubs = LateStubs()
    yield stubs
    stubs.stop()


async def test_the_lag_of_each_kind_is_reckoned_from_the_venues_time(
    hedging_market, late_stubs, open_metrics
):
    await sync_to_async(make_on_stub)(hedging_market, late_stubs)
    market = await sync_to_async(hedge_on_stub)(hedging_market, late_stubs)
    started = time.time()
    async with running(lambda hedge_id: None):
        await eventually(lambda: fills_live(market.mm_account_id), "the fill stream")
        await streaming(late_stubs)
        assert "fills" not in lags(await sync_to_async(scrape)())  # no fill yet: no figure
        late_stubs.rest.take("buy", "0.002")  # a fill, the bot's balance and the book move
        await eventually(lambda: Fill.objects.count() == 1, "the fill")
        # (The book's REST snapshot has no venue time: its figure counts from its arrival until
        # the first change streamed.)
        found = await eventually(lambda: all_late(lags(scrape())), "a lag for each kind")
        upper = time.time() - started + BEHIND_MS / 1000  # every message was sent since `started`
    for kind in KINDS:
        assert BEHIND_MS / 1000 <= found[kind] <= upper, kind


async def test_each_lost_stream_is_counted_by_kind(hedging_market, late_stubs, open_metrics):
    await sync_to_async(make_on_stub)(hedging_market, late_stubs)
    market = await sync_to_async(hedge_on_stub)(hedging_market, late_stubs)
    async with running(lambda hedge_id: None):
        await eventually(lambda: fills_live(market.mm_account_id), "the fill stream")
        await streaming(late_stubs)
        before = await sync_to_async(scrape)()
        late_stubs.ws.drop()  # every connection: the fills', the balances' and the book's
        after = await eventually(
            lambda: all(reconnects(found := scrape(), k) > reconnects(before, k) for k in KINDS) and found,
            "every kind counted",
        )
        await streaming(late_stubs)  # and they are back
    # Two accounts stream their balance (the MM and the hedge one); one its fills, one the book.
    assert {k: reconnects(after, k) - reconnects(before, k) for k in KINDS} == {
        "fills": 1, "book": 1, "balance": 2
    }
