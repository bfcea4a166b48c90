"""A tick queued while its market's tick runs (a book move's, told by the stream process) is not
simply dropped: the running tick may have read the books before that move, so it ticks once
more when done. Without it the quotes stood on the old book until the next move or beat."""

from __future__ import annotations

import pytest

from bots.market_making.tasks import mm_tick
from bots.models import Market
from bots.platform.locks import ask_again, asked_again, market_lock
from tests.support.quoting import PassThrough, wrap_venue

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_ask_left(running_market, redis_client):
    redis_client.delete(f"ballast:tick-again:{running_market.pk}")  # left by another test


@pytest.fixture
def queued(monkeypatch):
    """The ticks mm_tick queues of itself, instead of sent to the broker."""
    sent: list[tuple] = []
    monkeypatch.setattr(mm_tick, "apply_async", lambda args, expires: sent.append(args))
    return sent


def test_a_tick_queued_while_the_market_ticks_makes_it_tick_once_more(running_market, queued, monkeypatch):
    meanwhile: list[str] = []

    class MovedMeanwhile(PassThrough):
        """The MM venue; while the tick reads it, the stream tells a move (its tick runs)."""

        def fetch_open_orders(self, *args, **kwargs):
            if not meanwhile:
                meanwhile.append(mm_tick.apply(args=(running_market.pk,)).get())
            return self.venue.fetch_open_orders(*args, **kwargs)

    wrap_venue(monkeypatch, running_market.mm_account_id, MovedMeanwhile)

    assert mm_tick.apply(args=(running_market.pk,)).get() == Market.RUNNING

    assert len(meanwhile) == 1 and meanwhile[0].startswith("skipped")
    assert queued == [(running_market.pk,)]  # once more, after the lock was let go
    assert not asked_again("tick", running_market.pk)  # the ask was answered


def test_a_tick_nobody_asked_about_queues_nothing_more(running_market, queued):
    assert mm_tick.apply(args=(running_market.pk,)).get() == Market.RUNNING
    assert queued == []


def test_many_asks_during_one_tick_make_one_more_tick(running_market, queued):
    with market_lock("tick", running_market.pk) as held:
        assert held
        for _ in range(3):
            assert mm_tick.apply(args=(running_market.pk,)).get().startswith("skipped")
    assert queued == []  # the holder here is no tick: nobody queued one yet
    assert mm_tick.apply(args=(running_market.pk,)).get() == Market.RUNNING
    assert queued == [(running_market.pk,)]


def test_an_ask_made_after_the_holder_looked_is_answered_by_the_asker(running_market):
    """The holder let the lock go and found no ask; the ask came just after: the asker sees the
    lock free and answers it itself, so a late ask is never left for the next beat."""
    market_id = running_market.pk
    assert not asked_again("tick", market_id)  # the holder looked: nothing
    assert ask_again("tick", market_id) is True  # the lock is free: the asker answers
    assert asked_again("tick", market_id) is True
    assert not asked_again("tick", market_id)  # answered once


def test_an_ask_while_the_lock_is_held_is_left_to_the_holder(running_market):
    market_id = running_market.pk
    with market_lock("tick", market_id) as held:
        assert held
        assert ask_again("tick", market_id) is False
    assert asked_again("tick", market_id) is True
