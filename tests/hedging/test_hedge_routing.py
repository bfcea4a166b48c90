"""With several hedge venues, each hedge goes to the best price net of taker fee among the healthy
ones with balance; a failing venue is skipped until it recovers; balance limits are respected."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bots.hedging import hedger, venue_health
from bots.models import AuditEntry, Hedge, HedgeOrder, PaperBalance, PaperMarket, Venue
from bots.venues import faults
from tests.support.hedging_world import (
    add_hedge_venue,
    fund,
    one_fill,
    refresh_outside,
    run_until_done,
    set_faults,
)

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def two_venues(hedging_market, redis_client):
    faults.reset()
    for key in redis_client.scan_iter("ballast:venue-down:*"):
        redis_client.delete(key)
    second = add_hedge_venue(hedging_market, "external-b", taker_fee="0.001")
    # Both outside books from one price and one second of their seeded walks: the demo seed
    # stepped the first one at the wall clock's second, which would make the venues' prices,
    # and so the router's choice, depend on when the test runs.
    PaperMarket.objects.filter(reference_price__isnull=False).update(
        reference_price=D("65000"), reference_second=0
    )
    refresh_outside(2)
    return hedging_market, second


def venue_of(order: HedgeOrder) -> str:
    return order.account.venue.name


def test_the_hedge_goes_to_the_venue_with_the_best_price_after_fees(two_venues):
    market, second = two_venues
    # Same books, but b charges half the taker fee: 5 bps better net.
    PaperMarket.objects.filter(venue=second.venue).update(taker_fee=D("0.0005"))
    hedge = one_fill(market, "buy", "0.02")

    assert run_until_done(hedge.pk) == [Hedge.FILLED]
    assert [venue_of(o) for o in HedgeOrder.objects.all()] == ["external-b"]

    PaperMarket.objects.filter(venue=second.venue).update(taker_fee=D("0.003"))
    other = one_fill(market, "sell", "0.02")
    assert run_until_done(other.pk) == [Hedge.FILLED]
    assert venue_of(HedgeOrder.objects.get(hedge=other)) == "external"


def test_a_venue_that_fails_is_skipped_while_the_other_takes_the_hedges(two_venues):
    market, second = two_venues
    PaperMarket.objects.filter(venue=second.venue).update(taker_fee=D("0.0005"))  # b is cheaper
    Venue.objects.filter(pk=second.venue_id).update(fault="ExchangeNotAvailable")
    hedge = one_fill(market, "buy", "0.02")

    assert run_until_done(hedge.pk) == [Hedge.FILLED]  # its read failed: hedged on the other
    assert venue_of(HedgeOrder.objects.get(hedge=hedge)) == "external"
    assert second.venue_id in venue_health.down([second.venue_id])

    Venue.objects.filter(pk=second.venue_id).update(fault="")
    later = one_fill(market, "sell", "0.02")
    assert run_until_done(later.pk) == [Hedge.FILLED]
    assert venue_of(HedgeOrder.objects.get(hedge=later)) == "external"  # still skipped: recovering

    venue_health.client().delete(f"ballast:venue-down:{second.venue_id}")  # the mark expired
    recovered = one_fill(market, "buy", "0.02")
    assert run_until_done(recovered.pk) == [Hedge.FILLED]
    assert venue_of(HedgeOrder.objects.get(hedge=recovered)) == "external-b"


def test_a_venue_that_fails_an_order_is_marked_and_the_retry_goes_elsewhere(two_venues):
    market, second = two_venues
    PaperMarket.objects.filter(venue=second.venue).update(taker_fee=D("0.0005"))
    set_faults("external-b", {"reject": 1.0})  # b refuses every order, unclassified
    hedge = one_fill(market, "buy", "0.02")

    seen = run_until_done(hedge.pk)

    assert seen == ["retry", Hedge.FILLED]
    orders = list(HedgeOrder.objects.filter(hedge=hedge).order_by("pk"))
    assert [(venue_of(o), o.state) for o in orders] == [("external-b", HedgeOrder.UNSENT), ("external", HedgeOrder.DONE)]


def test_what_the_best_venues_balance_cannot_cover_goes_to_the_next(two_venues):
    market, second = two_venues
    PaperMarket.objects.filter(venue=second.venue).update(taker_fee=D("0.0005"))
    fund(second, {"BTC": D("0.03"), "USDT": D("1000000")})  # b can sell only 0.03
    hedge = one_fill(market, "sell", "0.05")  # the MM bot bought 0.05: the hedge sells 0.05

    assert run_until_done(hedge.pk) == [Hedge.FILLED]

    split = {venue_of(o): o.filled for o in HedgeOrder.objects.filter(hedge=hedge)}
    assert split == {"external-b": D("0.03"), "external": D("0.02")}


def test_short_of_balance_everywhere_hedges_what_it_can_and_keeps_the_rest_pending(hedging_market):
    faults.reset()
    fund(hedging_market.hedge_account, {"BTC": D("0.01"), "USDT": D("1000000")})
    hedge = one_fill(hedging_market, "sell", "0.05")  # the hedge must sell 0.05 BTC; it has 0.01

    assert hedger.execute_hedge(hedge.pk).state == Hedge.WAITING

    hedge.refresh_from_db()
    assert (hedge.filled, hedge.remaining, hedge.wait_reason) == (D("0.01"), D("0.04"), Hedge.SHORT_OF_BALANCE)
    assert hedge.error == "0.04 BTC not hedged: short of balance (External exchange needs 0.05 BTC, has 0.01)"
    alert = AuditEntry.objects.get(action="hedge_short_of_balance")
    assert alert.subject == f"hedge {hedge.pk}"

    # A rebalance arrives: the sweeper's next run hedges the rest.
    PaperBalance.objects.filter(account=hedging_market.hedge_account, asset="BTC").update(free=D("1"))
    assert hedger.execute_hedge(hedge.pk).state == Hedge.FILLED
    assert sum(o.filled for o in HedgeOrder.objects.filter(hedge=hedge)) == D("0.05")
    assert AuditEntry.objects.filter(action="hedge_short_of_balance").count() == 1  # alerted once


def test_the_rebalance_panel_can_see_what_waiting_hedges_need(hedging_market):
    from bots.hedging.hedge_book import balance_needs

    faults.reset()
    fund(hedging_market.hedge_account, {"BTC": D("0"), "USDT": D("1000000")})
    hedge = one_fill(hedging_market, "sell", "0.05")
    hedger.execute_hedge(hedge.pk)

    [need] = balance_needs(hedging_market)

    assert (need["asset"], need["amount"], need["hedges"]) == ("BTC", D("0.05"), 1)
    assert need["accounts"] == [hedging_market.hedge_account_id]
