"""A venue that errors: the tick says so, nothing is lost, and the next tick recovers."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from bots.hedging import hedger
from bots.hedging.capture import capture_fills
from bots.market_making import quoter
from bots.models import Hedge, Market, Order, Venue
from bots.simulation.paper_flow import user_trade
from bots.venues import venue_for

pytestmark = pytest.mark.django_db


def set_fault(name: str, fault: str):
    Venue.objects.filter(name=name).update(fault=fault)


def tick(market):
    return quoter.run_tick(market.pk, on_hedge=lambda hedge_id: None)


def test_an_outside_venue_outage_degrades_the_market_until_it_recovers(running_market):
    open_before = Order.objects.filter(state=Order.OPEN).count()
    set_fault("external", "ExchangeNotAvailable")

    assert tick(running_market) == Market.DEGRADED
    market = Market.objects.get(pk=running_market.pk)
    assert market.state_reason.startswith("ExchangeNotAvailable:")
    assert Order.objects.filter(state=Order.OPEN).count() == open_before  # quotes left as they were

    set_fault("external", "")
    assert tick(running_market) == Market.RUNNING
    assert Market.objects.get(pk=running_market.pk).state_reason == ""


def test_a_fill_during_an_outage_is_kept_and_hedged_after_it(running_market):
    user_trade(running_market, "buy", Decimal("0.01"))
    set_fault("own", "RequestTimeout")
    assert tick(running_market) == Market.DEGRADED  # the fill could not even be read

    set_fault("own", "")
    [fill] = capture_fills(running_market, venue_for(running_market.mm_account), lambda hedge_id: None)
    set_fault("external", "DDoSProtection")
    with pytest.raises(hedger.HedgeRetry):
        hedger.execute_hedge(fill.hedge.pk)
    assert Hedge.objects.get().state == Hedge.PENDING

    set_fault("external", "")
    assert hedger.execute_hedge(fill.hedge.pk).state == Hedge.FILLED
    assert Hedge.objects.get().attempts == 2


def test_the_page_shows_a_degraded_market(client, operator, running_market):
    set_fault("external", "ExchangeNotAvailable")
    tick(running_market)
    client.force_login(operator)
    page = client.get(f"/markets/{running_market.slug}/")
    assert page.context["snapshot"]["state"] == "degraded"
    assert "ExchangeNotAvailable" in page.context["snapshot"]["state_reason"]


def test_the_fault_command_sets_and_clears_a_paper_venues_fault(demo_market):
    from django.core.management import CommandError, call_command

    call_command("venue_fault", "external", "RequestTimeout", stdout=io.StringIO())
    assert Venue.objects.get(name="external").fault == "RequestTimeout"
    with pytest.raises(CommandError, match="unknown fault 'Gremlins'"):
        call_command("venue_fault", "external", "Gremlins")
    assert Venue.objects.get(name="external").fault == "RequestTimeout"
    call_command("venue_fault", "external", stdout=io.StringIO())
    assert Venue.objects.get(name="external").fault == ""
