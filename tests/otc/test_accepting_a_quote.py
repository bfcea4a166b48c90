"""Accepting a quote: only in time, only once (also when two acceptances race), only while the
price has not moved beyond the tolerance, and within the user's daily limit. A refused
acceptance books nothing."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from bots.models import BrokerQuote, BrokerSettings, Fill, Hedge, KillSwitch, Market
from bots.otc import quotes
from tests.support.otc import outside_at, outside_reference

D = Decimal


def refused(client, quote, **kwargs) -> quotes.QuoteRefused:
    with pytest.raises(quotes.QuoteRefused) as caught:
        quotes.accept(client, str(quote.ref), on_hedge=lambda hedge_id: None, **kwargs)
    return caught.value


@pytest.mark.django_db
def test_an_acceptance_after_the_expiry_is_refused(broker_market, api_client):
    quote = quotes.ask(broker_market, api_client, "user-1", "buy", D("0.1"))
    late = refused(api_client, quote, now=quote.expires_at + timedelta(milliseconds=1))
    assert (late.code, late.status) == ("expired", 410)
    quote.refresh_from_db()
    assert quote.state == BrokerQuote.EXPIRED and quote.fill is None
    assert not Fill.objects.exists() and not Hedge.objects.exists()
    # And once expired, it stays expired.
    assert refused(api_client, quote).code == "expired"


@pytest.mark.django_db
def test_a_quote_accepted_twice_is_booked_once(broker_market, api_client):
    quote = quotes.ask(broker_market, api_client, "user-1", "sell", D("0.1"))
    quotes.accept(api_client, str(quote.ref), on_hedge=lambda hedge_id: None)
    again = refused(api_client, quote)
    assert (again.code, again.status) == ("already_accepted", 409)
    assert Fill.objects.count() == 1 and Hedge.objects.count() == 1


@pytest.mark.django_db
def test_another_clients_quote_is_not_found(broker_market, api_client):
    from tests.support.otc import token_for

    quote = quotes.ask(broker_market, api_client, "user-1", "sell", D("0.1"))
    other = token_for("another front end")[0]
    assert refused(other, quote).code == "not_found"
    assert BrokerQuote.objects.get().state == BrokerQuote.OPEN


@pytest.mark.django_db
def test_a_small_move_against_the_desk_within_the_tolerance_keeps_the_quote(broker_market, api_client):
    quote = quotes.ask(broker_market, api_client, "user-1", "buy", D("0.1"))
    outside_at(broker_market, outside_reference(broker_market) * D("1.0005"))  # 5 bps, tolerance 10
    accepted = quotes.accept(api_client, str(quote.ref), on_hedge=lambda hedge_id: None)
    assert accepted.state == BrokerQuote.ACCEPTED
    assert Fill.objects.get().price == quote.price  # at the quoted price, as promised


@pytest.mark.django_db
def test_a_move_beyond_the_tolerance_refuses_the_acceptance(broker_market, api_client):
    quote = quotes.ask(broker_market, api_client, "user-1", "buy", D("0.1"))
    outside_at(broker_market, outside_reference(broker_market) * D("1.002"))  # 20 bps up
    moved = refused(api_client, quote)
    assert (moved.code, moved.status) == ("price_moved", 409)
    assert "tolerance is 10 bps" in moved.message
    quote.refresh_from_db()
    assert quote.state == BrokerQuote.REFUSED and "moved" in quote.reason
    assert not Fill.objects.exists()


@pytest.mark.django_db
def test_a_move_the_desks_way_keeps_the_quote(broker_market, api_client):
    quote = quotes.ask(broker_market, api_client, "user-1", "sell", D("0.1"))
    outside_at(broker_market, outside_reference(broker_market) * D("1.01"))  # the user sold low
    assert quotes.accept(api_client, str(quote.ref), on_hedge=lambda hedge_id: None).state == BrokerQuote.ACCEPTED


@pytest.mark.django_db
def test_a_users_daily_limit_counts_what_they_accepted_today(broker_market, api_client):
    BrokerSettings.objects.filter(market=broker_market).update(daily_limit=D("15000"))
    first = quotes.ask(broker_market, api_client, "user-1", "buy", D("0.15"))  # about 9,800
    quotes.accept(api_client, str(first.ref), on_hedge=lambda hedge_id: None)
    with pytest.raises(quotes.QuoteRefused) as over:
        quotes.ask(broker_market, api_client, "user-1", "buy", D("0.15"))
    assert (over.value.code, over.value.status) == ("over_daily_limit", 422)
    assert "daily limit" in over.value.message
    # Another user has a limit of their own; and quotes asked before the limit was reached are
    # checked again when accepted.
    second = quotes.ask(broker_market, api_client, "user-2", "buy", D("0.15"))
    third = quotes.ask(broker_market, api_client, "user-2", "buy", D("0.15"))
    quotes.accept(api_client, str(second.ref), on_hedge=lambda hedge_id: None)
    assert refused(api_client, third).code == "over_daily_limit"
    # Tomorrow (UTC) the limit is whole again.
    tomorrow = timezone.now() + timedelta(days=1)
    assert quotes.ask(broker_market, api_client, "user-1", "buy", D("0.15"), now=tomorrow).state == "open"


@pytest.mark.django_db(transaction=True)
def test_two_acceptances_at_once_book_one_fill(broker_market, api_client):
    quote = quotes.ask(broker_market, api_client, "user-1", "buy", D("0.1"))
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def accept():
        try:
            start.wait()
            quotes.accept(api_client, str(quote.ref), on_hedge=lambda hedge_id: None)
            outcomes.append("accepted")
        except quotes.QuoteRefused as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=accept) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["accepted", "already_accepted"]
    assert Fill.objects.count() == 1 and Hedge.objects.count() == 1
    assert BrokerQuote.objects.get().state == BrokerQuote.ACCEPTED


@pytest.mark.django_db
def test_a_stopped_market_neither_quotes_nor_accepts(broker_market, api_client):
    quote = quotes.ask(broker_market, api_client, "user-1", "buy", D("0.1"))
    Market.objects.filter(pk=broker_market.pk).update(state=Market.PAUSED)
    closed = refused(api_client, quote)
    assert (closed.code, closed.status) == ("market_closed", 409)
    assert BrokerQuote.objects.get().state == BrokerQuote.OPEN and not Fill.objects.exists()
    Market.objects.filter(pk=broker_market.pk).update(state=Market.RUNNING)
    KillSwitch.objects.update_or_create(pk=1, defaults={"engaged": True})
    broker_market.refresh_from_db()
    with pytest.raises(quotes.QuoteRefused) as killed:
        quotes.ask(broker_market, api_client, "user-1", "buy", D("0.1"))
    assert killed.value.code == "market_closed"


@pytest.mark.django_db(transaction=True)
def test_two_quotes_accepted_at_once_cannot_both_fit_the_daily_limit(broker_market, api_client):
    BrokerSettings.objects.filter(market=broker_market).update(daily_limit=D("15000"))
    both = [quotes.ask(broker_market, api_client, "user-1", "buy", D("0.15")) for _ in range(2)]
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def accept(quote):
        try:
            start.wait()
            quotes.accept(api_client, str(quote.ref), on_hedge=lambda hedge_id: None)
            outcomes.append("accepted")
        except quotes.QuoteRefused as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(quote,)) for quote in both]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["accepted", "over_daily_limit"]
    assert Fill.objects.count() == 1
