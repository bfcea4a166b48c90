"""/health/'s `streams` part: every book and fill stream the stream process should hold is live
and fresh; a desk on paper venues only needs none (its fills go through the capture task when
no stream process listens) and is well."""

from __future__ import annotations

import pytest
from health_check.exceptions import ServiceUnavailable

from ballast.observability.health_checks import StreamsFresh, core_checks
from bots.venues import stream_state as state
from tests.support.streams import Stubs, hedge_on_stub

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def stubs():
    stubs = Stubs()
    yield stubs
    stubs.stop()


@pytest.fixture
def market(demo_market, stubs, redis_client):
    market = hedge_on_stub(demo_market, stubs)
    state.mark_book_polled(market.hedge_account.venue_id, "BTC/USDT")  # no stream live yet
    redis_client.delete(f"ballast:stream:book:{market.hedge_account.venue_id}:BTC/USDT")
    return market


def test_it_is_one_of_the_parts():
    assert "streams" in {check.name for check in core_checks()}


def test_a_paper_desk_is_well_without_the_stream_process(demo_market):
    StreamsFresh().run()


def test_a_hedge_book_not_streamed_is_named(market):
    with pytest.raises(ServiceUnavailable, match="BTC/USDT book not streamed or stale"):
        StreamsFresh().run()


def test_a_fresh_streamed_book_is_well_and_a_stale_one_is_not(market, settings):
    venue_id = market.hedge_account.venue_id
    state.save_book(venue_id, "BTC/USDT", [["100", "1"]], [["101", "1"]], state.now_ms())
    StreamsFresh().run()
    old = state.now_ms() - int(settings.STREAM_BOOK_STALE_SECONDS * 1000) - 5000
    state.save_book(venue_id, "BTC/USDT", [["100", "1"]], [["101", "1"]], old)
    with pytest.raises(ServiceUnavailable, match="stale"):
        StreamsFresh().run()


def test_a_quiet_book_on_a_live_stream_is_well(market, settings):
    """An exchange sends nothing for a book that does not change: old by the venue's time, and
    right all the same while its stream is live. Once the stream is lost, its age counts."""
    venue_id = market.hedge_account.venue_id
    old = state.now_ms() - int(settings.STREAM_BOOK_STALE_SECONDS * 1000) - 5000
    state.save_book(venue_id, "BTC/USDT", [["100", "1"]], [["101", "1"]], old)
    state.mark_book_streamed(venue_id, "BTC/USDT")
    StreamsFresh().run()

    state.mark_book_polled(venue_id, "BTC/USDT")  # the stream lost its connection
    with pytest.raises(ServiceUnavailable, match="stale"):
        StreamsFresh().run()
