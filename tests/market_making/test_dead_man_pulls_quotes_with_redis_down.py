"""The dead man's switch pulls the quotes of a market on an exchange reached through ccxt (the
binance stub, its requests within the shared request budget) while Redis is down: its cancels
are a stop, and a stop goes without the budget (bots/venues/limiter.py). The restart drill found
them waiting for Redis instead, the quotes left standing while the ticks had stopped."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bots.market_making import dead_man
from bots.models import Market
from bots.platform import locks
from bots.simulation.stub_exchanges.exchange import BOT
from tests.support.streams import Stubs, make_on_stub

pytestmark = pytest.mark.django_db


@pytest.fixture
def stubs():
    stubs = Stubs()
    yield stubs
    stubs.stop()


def test_with_redis_down_the_switch_still_pulls_the_quotes(demo_market, stubs, settings, monkeypatch):
    settings.DEADMAN_SECONDS = 10
    market = make_on_stub(demo_market, stubs)  # one ask of the bot's rests on the stub
    venue = market.mm_account.venue
    venue.options = {k: v for k, v in venue.options.items() if k != "enableRateLimit"}
    venue.save()  # its requests now take from the shared budget, as a real exchange's do
    Market.objects.filter(pk=market.pk).update(last_tick_at=timezone.now() - timedelta(seconds=11))
    monkeypatch.setattr(locks, "_down_until", locks._down_until)  # put back afterwards
    locks.mark_down()  # Redis found down moments ago: nothing asks it

    [line] = dead_man.check()

    assert "quotes pulled, 1 order(s) cancelled" in line, line
    assert stubs.rest.book.open_orders(BOT) == []
