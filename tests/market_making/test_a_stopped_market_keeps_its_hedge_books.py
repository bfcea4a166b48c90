"""A market whose quotes are gone (paused, killed, cancelled, the desk's kill switch, the dead
man's switch) keeps the hedge venues' books its last tick read in its quote panel, so the market
page's depth chart still draws the outside market while no tick runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bots.market_making import dead_man, operator_commands
from bots.models import Market
from dashboard.live.publisher import market_snapshot
from tests.support.quoting import market_row

pytestmark = pytest.mark.django_db


def hedge_books(market: Market) -> list[dict]:
    return market_snapshot(Market.objects.get_for_work(market.pk))["hedge_books"]


@pytest.fixture
def books_read(running_market):
    books = hedge_books(running_market)
    assert books and books[0]["bids"] and books[0]["asks"]
    return books


@pytest.mark.parametrize(
    "command",
    [operator_commands.pause_market, operator_commands.kill_market, operator_commands.cancel_all],
)
def test_a_stopped_market_keeps_the_hedge_books_of_its_last_tick(command, running_market, books_read, operator):
    command(running_market, reason="maintenance", user=operator)

    summary = market_row(running_market).quote_summary
    assert summary["levels"] == [] and summary["hold"]
    assert hedge_books(running_market) == books_read


def test_the_desk_kill_switch_keeps_the_hedge_books(running_market, books_read, operator):
    operator_commands.kill_all(reason="incident", user=operator)

    assert hedge_books(running_market) == books_read


def test_quotes_the_dead_man_pulled_keep_the_hedge_books(running_market, books_read, settings):
    settings.DEADMAN_SECONDS = 10
    Market.objects.filter(pk=running_market.pk).update(last_tick_at=timezone.now() - timedelta(seconds=30))

    dead_man.check()

    assert market_row(running_market).quote_summary["hold"].startswith("dead man's switch")
    assert hedge_books(running_market) == books_read
