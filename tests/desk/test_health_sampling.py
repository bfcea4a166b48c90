"""Sampling a market's liquidity: the figures stored, breaches opened and closed, and the alerts
raised and resolved for spread, depth, venue errors, a stale reference and failed hedges."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bots.desk import health
from bots.desk.alerts import resolve
from bots.engine.desk import liquidity
from bots.engine.rules import dec
from bots.models import Alert, Breach, Fill, HealthSample, Hedge, MarketTargets, Venue
from bots.simulation.paper_flow import move_outside_markets
from bots.venues import venue_for

pytestmark = pytest.mark.django_db


def set_targets(market, **values):
    MarketTargets.objects.filter(market=market).update(**values)


def test_a_sample_holds_the_figures_of_the_own_venues_book(running_market):
    book = venue_for(running_market.mm_account).fetch_order_book("BTC/USDT", limit=500)
    expected = liquidity.measure(
        [(dec(p), dec(a)) for p, a in book["bids"]], [(dec(p), dec(a)) for p, a in book["asks"]]
    )

    sample = health.sample_market(running_market)

    assert sample.two_sided and sample.error == ""
    assert (sample.mid, sample.spread_bps) == (expected.mid, expected.spread_bps)
    assert sample.spread_bps > 0
    assert sample.bid_depth_05 == expected.depth[("buy", Decimal("0.5"))] > 0
    assert sample.ask_depth_2 == expected.depth[("sell", Decimal("2"))] >= sample.ask_depth_05
    assert sample.reference_mid is not None and sample.reference_moved_at == sample.taken_at
    assert set(sample.grades) == set(liquidity.BOOK_FIGURES)


def test_targets_missed_raise_one_spread_alert_and_a_breach_that_both_clear_when_met(
    running_market, settings
):
    health.sample_market(running_market)
    set_targets(running_market, spread_target_bps=0, spread_alarm_bps=Decimal("0.5"))

    first = health.sample_market(running_market)
    for _ in range(settings.LIQUIDITY_ALERT_SAMPLES):  # the breach persists: one alert
        health.sample_market(running_market)

    assert first.status == liquidity.RED
    alert = Alert.objects.get(kind=Alert.SPREAD_OUT_OF_BAND)
    assert alert.state == Alert.OPEN and alert.market == running_market
    assert "red past 0.5 bps" in alert.message
    assert alert.action_url == "/markets/btc-usdt/"
    breach = Breach.objects.get(market=running_market, figure="spread")
    assert breach.ended_at is None and breach.started_at == first.taken_at

    set_targets(running_market, spread_target_bps=1000, spread_alarm_bps=1000)
    health.sample_market(running_market)

    alert.refresh_from_db()
    breach.refresh_from_db()
    assert (alert.state, alert.resolved_by) == (Alert.RESOLVED, None)
    assert breach.ended_at is not None


def test_depth_short_of_its_red_line_raises_a_depth_alert_naming_the_sides(running_market, settings):
    set_targets(running_market, depth_05_alarm=10**9, depth_05_target=10**9, depth_1_target=10**9,
                depth_2_target=10**9)

    for _ in range(settings.LIQUIDITY_ALERT_SAMPLES):
        health.sample_market(running_market)

    alert = Alert.objects.get(kind=Alert.DEPTH_OUT_OF_BAND)
    assert "bid depth ±0.5%" in alert.message and "ask depth ±0.5%" in alert.message
    assert set(Breach.objects.filter(ended_at=None).values_list("figure", flat=True)) >= {
        "depth_bid_0.5", "depth_ask_0.5"
    }


def test_an_unreadable_own_venue_is_sampled_as_an_error_and_raises_a_venue_alert(running_market):
    Venue.objects.filter(name="own").update(fault="ExchangeNotAvailable")
    running_market.mm_account.venue.refresh_from_db()

    sample = health.sample_market(running_market)

    assert sample.error.startswith("ExchangeNotAvailable")
    assert (sample.two_sided, sample.status) == (False, liquidity.RED)
    alert = Alert.objects.get(kind=Alert.VENUE_ERROR)
    assert alert.key == "venue-own" and alert.message.startswith("Own exchange: ExchangeNotAvailable")

    Venue.objects.filter(name="own").update(fault="")
    running_market.mm_account.venue.refresh_from_db()
    health.sample_market(running_market)

    alert.refresh_from_db()
    assert alert.state == Alert.RESOLVED


def test_a_reference_price_that_stops_moving_raises_reference_stale(running_market, settings):
    settings.REFERENCE_STALE_SECONDS = 30
    start = timezone.now()
    health.sample_market(running_market, now=start)
    health.sample_market(running_market, now=start + timedelta(seconds=20))
    assert not Alert.objects.filter(kind=Alert.REFERENCE_STALE).exists()

    stuck = health.sample_market(running_market, now=start + timedelta(seconds=40))

    assert stuck.reference_moved_at == start
    alert = Alert.objects.get(kind=Alert.REFERENCE_STALE)
    assert "has not moved for 40 s" in alert.message

    move_outside_markets(second=int(time.time()) + 60)  # the outside market walks on
    moved = health.sample_market(running_market, now=start + timedelta(seconds=45))

    assert moved.reference_mid != stuck.reference_mid
    alert.refresh_from_db()
    assert alert.state == Alert.RESOLVED


def failed_hedge(market, trade_id: str) -> Hedge:
    fill = Fill.objects.create(
        venue=market.mm_account.venue, account=market.mm_account, market=market, trade_id=trade_id,
        order_id="o1", side="sell", price=Decimal("65000"), amount=Decimal("0.1"), cost=Decimal("6500"),
        timestamp=1,
    )
    return Hedge.objects.create(
        fill=fill, account=market.hedge_account, side="buy", amount=Decimal("0.1"),
        client_order_id=f"bh-{trade_id}", state=Hedge.FAILED, error="InsufficientFunds: not enough USDT",
    )


def test_each_failed_hedge_raises_one_alert_that_a_resolution_does_not_bring_back(running_market, operator):
    hedge = failed_hedge(running_market, "t1")

    health.alert_failed_hedges()
    health.alert_failed_hedges()

    alert = Alert.objects.get(kind=Alert.HEDGE_FAILED)
    assert alert.key == f"hedge-{hedge.pk}"
    assert "InsufficientFunds: not enough USDT" in alert.message
    assert alert.action_url == f"/markets/btc-usdt/hedges/#hedge-{hedge.pk}"  # retry, manual, write off

    resolve(alert.pk, operator)
    health.alert_failed_hedges()
    assert Alert.objects.filter(kind=Alert.HEDGE_FAILED).count() == 1


def test_a_hedge_alert_resolves_itself_once_the_hedge_no_longer_fails(running_market):
    hedge = failed_hedge(running_market, "t2")
    health.alert_failed_hedges()
    Hedge.objects.filter(pk=hedge.pk).update(state=Hedge.FILLED)

    health.alert_failed_hedges()

    alert = Alert.objects.get(kind=Alert.HEDGE_FAILED)
    assert (alert.state, alert.resolved_by) == (Alert.RESOLVED, None)


def sample_at(market, when, two_sided=True, status=liquidity.GREEN, listing_ok=True):
    return HealthSample.objects.create(
        market=market, taken_at=when, two_sided=two_sided, status=status, listing_ok=listing_ok
    )


def test_uptime_today_is_the_share_of_todays_samples_with_both_sides_quoted(demo_market):
    now = timezone.now().replace(hour=12)
    for minutes, two_sided in ((1, True), (2, True), (3, True), (4, False)):
        sample_at(demo_market, now - timedelta(minutes=minutes), two_sided=two_sided)
    sample_at(demo_market, now - timedelta(days=1), two_sided=False)  # yesterday does not count

    assert health.uptime_today(demo_market, now) == Decimal("75.0")


def test_compliance_is_the_share_of_samples_in_band_and_within_listing_rules(demo_market):
    now = timezone.now()
    sample_at(demo_market, now - timedelta(hours=1))
    sample_at(demo_market, now - timedelta(hours=2), status=liquidity.AMBER)
    sample_at(demo_market, now - timedelta(hours=3), status=liquidity.RED, listing_ok=False)
    sample_at(demo_market, now - timedelta(days=3), status=liquidity.RED, listing_ok=False)

    day = health.compliance(demo_market, now - timedelta(days=1))
    week = health.compliance(demo_market, now - timedelta(days=7))

    assert day == {"samples": 3, "in_band_pct": Decimal("33.3"), "listing_pct": Decimal("66.7")}
    assert week == {"samples": 4, "in_band_pct": Decimal("25.0"), "listing_pct": Decimal("50.0")}


def test_volume_counts_the_mm_bots_fills_of_the_last_24_hours(demo_market):
    now = timezone.now()
    for trade_id, hours_ago, cost in (("a", 1, "1000"), ("b", 23, "500"), ("c", 25, "9999")):
        Fill.objects.create(
            venue=demo_market.mm_account.venue, account=demo_market.mm_account, market=demo_market,
            trade_id=trade_id, order_id="o", side="buy", price=Decimal("1"), amount=Decimal(cost),
            cost=Decimal(cost), timestamp=int((now - timedelta(hours=hours_ago)).timestamp() * 1000),
        )

    assert health.volume_24h(demo_market, now) == Decimal("1500")


def test_old_samples_are_pruned_after_eight_days(demo_market):
    now = timezone.now()
    keep = sample_at(demo_market, now - timedelta(days=7))
    sample_at(demo_market, now - timedelta(days=9))

    assert health.prune_samples(now) == 1
    assert list(HealthSample.objects.all()) == [keep]


def test_a_round_samples_every_enabled_market_once(running_market):
    samples = health.sample_all()

    assert [s.market for s in samples] == [running_market]
    assert MarketTargets.objects.get(market=running_market).spread_target_bps == Decimal("10")


def test_the_daily_volume_rule_is_held_pro_rata_until_the_market_has_been_watched_a_day(running_market):
    now = timezone.now()
    set_targets(running_market, listing_min_daily_volume=Decimal("24000"))  # 1,000 an hour
    sample_at(running_market, now - timedelta(hours=1))  # the desk began watching an hour ago
    Fill.objects.create(
        venue=running_market.mm_account.venue, account=running_market.mm_account, market=running_market,
        trade_id="pace", order_id="o", side="buy", price=Decimal("1"), amount=Decimal("1200"),
        cost=Decimal("1200"), timestamp=int((now - timedelta(minutes=30)).timestamp() * 1000),
    )

    on_pace = health.sample_market(running_market)

    assert on_pace.listing_ok or on_pace.status != liquidity.GREEN  # the book's figures decide the rest
    assert not Breach.objects.filter(market=running_market, figure=liquidity.VOLUME).exists()

    sample_at(running_market, now - timedelta(days=2))  # watched for days: the whole rule applies
    health.sample_market(running_market)

    breach = Breach.objects.get(market=running_market, figure=liquidity.VOLUME)
    assert breach.ended_at is None
