"""The dead man's switch on the demo's paper venues, in one process: each tick arms the venue's
own switch, and the watchdog (bots.market_making.dead_man, the `deadman` process's loop) pulls the quotes of a
market whose ticks stopped, alerts and logs it once, leaves stopped markets to their operator,
and lets the bot quote again when ticks resume. Silence is made by dating the last tick back.
(tests/market_making/test_quotes_pulled_when_the_desk_dies.py kills real processes.)"""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from bots.market_making import dead_man, operator_commands
from bots.models import Alert, AuditEntry, Market, Order, PaperCancelDeadline, PaperTrade, Venue
from bots.platform import locks
from bots.simulation.paper_flow import user_trade
from bots.venues import paper
from bots.venues.paper import PaperVenue, now_ms
from tests.support.quoting import market_row, resting, tick

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def ten_seconds(settings):
    settings.DEADMAN_SECONDS = 10


def silence(market: Market, seconds: float) -> None:
    """The market's last tick was `seconds` ago."""
    Market.objects.filter(pk=market.pk).update(last_tick_at=timezone.now() - timedelta(seconds=seconds))


def mm_fills(market: Market) -> int:
    return PaperTrade.objects.filter(account=market.mm_account).count()


def test_each_tick_arms_the_venues_switch_for_the_setting(running_market):
    before = now_ms()
    tick(running_market)
    after = now_ms()

    deadline = PaperCancelDeadline.objects.get(account=running_market.mm_account).deadline
    assert before + 10_000 <= deadline <= after + 10_000


def test_with_no_tick_after_it_the_venue_pulls_the_quotes_before_users_trade(running_market):
    assert len(resting(running_market)) == 10
    PaperCancelDeadline.objects.filter(account=running_market.mm_account).update(deadline=now_ms())

    with pytest.raises(paper.ccxt.InvalidOrder):  # nothing left on the book to buy
        user_trade(running_market, "buy", Decimal("0.1"))

    assert mm_fills(running_market) == 0 and resting(running_market) == []
    tick(running_market)  # ticks resume: the bot quotes as before
    assert len(resting(running_market)) == 10
    assert not Order.objects.filter(market=running_market, state=Order.OPEN).exclude(
        exchange_order_id__in=[o["id"] for o in resting(running_market)]
    ).exists()


def test_a_venue_without_a_switch_is_not_asked_to_arm_one(running_market, monkeypatch):
    PaperCancelDeadline.objects.all().delete()
    monkeypatch.setattr(PaperVenue, "has", {"cancelAllOrdersAfter": False})

    assert tick(running_market) == Market.RUNNING

    assert not PaperCancelDeadline.objects.exists()


def test_the_watchdog_pulls_the_quotes_of_a_silent_market_once_and_says_so(running_market):
    silence(running_market, 11)

    [line] = dead_man.check()

    assert "no market-making tick for 11 s: quotes pulled, 10 order(s) cancelled" in line
    assert resting(running_market) == []
    assert not Order.objects.filter(market=running_market, state=Order.OPEN).exists()
    row = market_row(running_market)
    assert row.state == Market.RUNNING and row.quotes_pulled_at is not None
    assert row.quote_summary["levels"] == [] and "dead man's switch" in row.quote_summary["hold"]
    [entry] = AuditEntry.objects.filter(action="dead_man_switch")
    assert (entry.actor, entry.market, entry.details["canceled"]) == ("dead man's switch", running_market, 10)
    [alert] = Alert.objects.filter(kind=Alert.QUOTES_PULLED)
    assert alert.state == Alert.OPEN and alert.market == running_market

    assert dead_man.check() == []  # once per silence
    assert AuditEntry.objects.filter(action="dead_man_switch").count() == 1


def test_quotes_the_venue_pulled_first_are_reported_as_gone(running_market):
    silence(running_market, 11)
    PaperCancelDeadline.objects.filter(account=running_market.mm_account).update(deadline=now_ms())

    [line] = dead_man.check()

    assert "quotes pulled, 0 order(s) cancelled, 10 already gone from the venue" in line
    assert not Order.objects.filter(market=running_market, state=Order.OPEN).exists()
    assert AuditEntry.objects.get(action="dead_man_switch").details["already_gone"] == 10


def test_a_market_that_ticks_is_left_alone(running_market):
    silence(running_market, 9)

    assert dead_man.check() == []

    assert len(resting(running_market)) == 10 and not AuditEntry.objects.exists()


def test_when_ticks_resume_the_bot_quotes_again_and_the_alert_resolves(running_market):
    silence(running_market, 30)
    dead_man.check()

    tick(running_market)
    [line] = dead_man.check()

    assert line == "BTC/USDT: ticks resumed"
    assert len(resting(running_market)) == 10
    assert Alert.objects.get(kind=Alert.QUOTES_PULLED).state == Alert.RESOLVED
    assert market_row(running_market).quotes_pulled_at is None
    assert AuditEntry.objects.filter(action="resume", actor="dead man's switch").count() == 1


def test_a_silence_that_lasts_is_looked_at_again_each_period(running_market):
    silence(running_market, 11)
    dead_man.check()
    # An order placed by a tick that was slow rather than dead, after the pull.
    PaperVenue(running_market.mm_account).create_order(
        "BTC/USDT", "limit", "buy", Decimal("0.1"), Decimal("60000")
    )
    Market.objects.filter(pk=running_market.pk).update(quotes_pulled_at=timezone.now() - timedelta(seconds=11))

    [line] = dead_man.check()

    assert "1 order(s) cancelled" in line and resting(running_market) == []


def test_a_paused_market_is_the_operators_the_watchdog_stays_out(running_market):
    operator_commands.pause_market(running_market, reason="maintenance", actor="ops")
    silence(running_market, 60)

    assert dead_man.check() == []

    assert market_row(running_market).state == Market.PAUSED
    assert not AuditEntry.objects.filter(action="dead_man_switch").exists()
    assert not Alert.objects.filter(kind=Alert.QUOTES_PULLED).exists()


def test_a_killed_market_whose_cancels_failed_has_them_cancelled_and_stays_killed(running_market):
    # The state flipped, the cancels did not happen (the kill switch with Redis down, issue #11).
    Market.objects.filter(pk=running_market.pk).update(state=Market.KILLED, state_reason="killed by ops: x")
    silence(running_market, 60)

    [line] = dead_man.check()

    assert "10 order(s) cancelled" in line and resting(running_market) == []
    row = market_row(running_market)
    assert (row.state, row.state_reason) == (Market.KILLED, "killed by ops: x")
    assert AuditEntry.objects.filter(action="dead_man_switch").count() == 1


def test_a_venue_that_fails_the_cancels_is_tried_again_with_the_alert_up(running_market):
    silence(running_market, 11)
    Venue.objects.filter(pk=running_market.mm_account.venue_id).update(fault="ExchangeNotAvailable")

    [line] = dead_man.check()

    assert "could not be cancelled (ExchangeNotAvailable" in line
    assert Alert.objects.get(kind=Alert.QUOTES_PULLED).state == Alert.OPEN
    assert market_row(running_market).quotes_pulled_at is None
    Venue.objects.filter(pk=running_market.mm_account.venue_id).update(fault="")
    [line] = dead_man.check()
    assert "10 order(s) cancelled" in line and resting(running_market) == []


def test_it_needs_neither_redis_nor_celery(running_market, settings, monkeypatch):
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens there
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"
    monkeypatch.setattr(locks, "_client", None)
    silence(running_market, 11)
    out = io.StringIO()

    call_command("deadman", "--once", stdout=out)

    assert "quotes pulled, 10 order(s) cancelled" in out.getvalue()
    assert resting(running_market) == []
