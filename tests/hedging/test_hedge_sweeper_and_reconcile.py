"""The sweeper brings back hedges whose task died or gave up; the reconciler compares the hedge
venue's trades with the recorded hedge orders and flags every difference until it is gone."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bots.hedging import hedger
from bots.hedging.reconcile import due_for_sweep, reconcile_account
from bots.models import Hedge, HedgeMismatch, HedgeOrder, PaperMarket
from bots.venues import faults
from bots.venues.paper import PaperVenue
from tests.support.hedging_world import one_fill, run_until_done

pytestmark = pytest.mark.django_db
D = Decimal
AGO = timezone.now() - timedelta(seconds=60)


def age(hedge: Hedge, **fields) -> None:
    Hedge.objects.filter(pk=hedge.pk).update(updated_at=AGO, **fields)


def test_the_sweeper_queues_hedges_left_unfinished_for_a_while(hedging_market):
    faults.reset()
    stuck = one_fill(hedging_market, "buy", "0.02")  # its run died holding it
    age(stuck, state=Hedge.SENDING, attempts=1)
    gave_up = one_fill(hedging_market, "buy", "0.02")  # its task ran out of retries
    age(gave_up, state=Hedge.PENDING)
    fresh = one_fill(hedging_market, "buy", "0.02")
    Hedge.objects.filter(pk=fresh.pk).update(state=Hedge.SENDING, attempts=1)  # running now
    done = one_fill(hedging_market, "buy", "0.02")
    run_until_done(done.pk)
    age(done)

    assert sorted(due_for_sweep(timedelta(seconds=10))) == sorted([stuck.pk, gave_up.pk])

    stuck.refresh_from_db()
    assert stuck.state == Hedge.PENDING  # the dead run's lease is over
    assert Hedge.objects.get(pk=fresh.pk).state == Hedge.SENDING
    assert run_until_done(stuck.pk) == [Hedge.FILLED]


def test_the_sweeper_reprices_a_stale_pending_position_once_per_market(hedging_market):
    PaperMarket.objects.filter(venue=hedging_market.hedge_account.venue).update(min_cost=D("20"))
    waiting = [one_fill(hedging_market, "buy", "0.0001") for _ in range(2)]  # 13 USDT < 20
    for hedge in waiting:
        assert hedger.execute_hedge(hedge.pk).state == Hedge.WAITING
    assert due_for_sweep(timedelta(seconds=10)) == []  # just looked at

    Hedge.objects.filter(pk__in=[h.pk for h in waiting]).update(updated_at=AGO)

    # One run for the market's whole position: the newest, which nets and prices all of it.
    assert due_for_sweep(timedelta(seconds=10)) == [waiting[-1].pk]


def test_a_venue_trade_no_hedge_records_is_flagged(hedging_market):
    hedge = one_fill(hedging_market, "buy", "0.02")
    run_until_done(hedge.pk)
    account = hedging_market.hedge_account
    later = timezone.now() + timedelta(seconds=60)
    assert reconcile_account(account, "BTC/USDT", now=later) == []

    # Someone trades on the hedge account by hand (or an answer was lost and never found).
    venue = PaperVenue(account)
    ask = venue.fetch_order_book("BTC/USDT")["asks"][0][0]
    stray = venue.create_order("BTC/USDT", "limit", "buy", D("0.01"), ask, {"timeInForce": "IOC"})

    [flag] = reconcile_account(account, "BTC/USDT", now=later)

    assert (flag.exchange_order_id, flag.venue_filled, flag.recorded_filled) == (stray["id"], D("0.01"), 0)
    assert "that no hedge records" in flag.detail
    assert reconcile_account(account, "BTC/USDT", now=later)[0].pk == flag.pk  # flagged once


def test_a_recorded_fill_that_differs_from_the_venue_is_flagged_until_it_agrees(hedging_market):
    hedge = one_fill(hedging_market, "buy", "0.02")
    run_until_done(hedge.pk)
    order = HedgeOrder.objects.get()
    HedgeOrder.objects.filter(pk=order.pk).update(filled=D("0.019"))
    later = timezone.now() + timedelta(seconds=60)

    [flag] = reconcile_account(hedging_market.hedge_account, "BTC/USDT", now=later)

    assert f"order {order.exchange_order_id}: the venue traded 0.02" in flag.detail
    assert flag.resolved_at is None
    HedgeOrder.objects.filter(pk=order.pk).update(filled=order.filled)
    assert reconcile_account(hedging_market.hedge_account, "BTC/USDT", now=later) == []
    assert HedgeMismatch.objects.get().resolved_at is not None


def test_an_order_still_being_recorded_is_not_a_mismatch(hedging_market):
    hedge = one_fill(hedging_market, "buy", "0.02")
    run_until_done(hedge.pk)
    HedgeOrder.objects.update(state=HedgeOrder.SENDING, exchange_order_id="", filled=0, cost=0)

    assert reconcile_account(hedging_market.hedge_account, "BTC/USDT", now=timezone.now() + timedelta(seconds=60)) == []


def test_an_account_hedging_two_markets_is_reconciled_per_symbol(hedging_market):
    # The demo desk's hedge accounts hedge several markets; the venue is asked for one symbol's
    # trades at a time, so another symbol's filled orders are not "missing" from its answer.
    external = hedging_market.hedge_account.venue
    PaperMarket.objects.create(
        venue=external, symbol="ETH/USDT", base="ETH", quote="USDT", price_tick=D("0.01"),
        amount_step=D("0.0001"),
    )
    hedge = one_fill(hedging_market, "buy", "0.02")
    run_until_done(hedge.pk)
    later = timezone.now() + timedelta(seconds=60)

    assert reconcile_account(hedging_market.hedge_account, "ETH/USDT", now=later) == []
    assert reconcile_account(hedging_market.hedge_account, "BTC/USDT", now=later) == []
    assert not HedgeMismatch.objects.exists()
