"""A capture whose process hedges the fill at once (hedge_now: the stream process, the capture
task) writes the hedge intent already claimed for that run, in the capture's own transaction:
no claim of its own on the fill's way to its hedge. What that run leaves behind is still taken
up: a crash before it by the sweeper, a failure before any order by the hedge task."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bots.hedging import hedger, reconcile, tasks
from bots.hedging.capture import capture_fills
from bots.models import Hedge, HedgeOrder, PaperOrder, QuoteSettings
from bots.simulation.paper_flow import user_trade
from bots.venues import venue_for

pytestmark = pytest.mark.django_db


def capture(market, on_hedge, callbacks) -> Hedge:
    """Capture the one new fill, its on_hedge run after the commit; its intent as recorded."""
    with callbacks(execute=True):
        [fill] = capture_fills(market, venue_for(market.mm_account), on_hedge)
    return Hedge.objects.get(fill=fill)


def test_the_inline_hedge_is_sent_without_a_claim_of_its_own(
    running_market, django_capture_on_commit_callbacks
):
    user_trade(running_market, "buy", Decimal("0.02"))
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        [fill] = capture_fills(running_market, venue_for(running_market.mm_account), tasks.hedge_now)

    hedge = Hedge.objects.get(fill=fill)
    assert (hedge.state, hedge.attempts) == (Hedge.FILLED, 1)
    assert PaperOrder.objects.filter(account=running_market.hedge_account).count() == 1
    reads_of_the_intent = [
        q["sql"] for q in queries.captured_queries
        if q["sql"].startswith("SELECT") and 'FROM "bots_hedge"' in q["sql"]
    ]
    assert reads_of_the_intent == []  # the claim's locking read is gone


def test_a_task_hedges_what_another_process_captured_by_claiming_it(
    running_market, django_capture_on_commit_callbacks
):
    """A capture that leaves the hedge to a task (the tick's, a broker quote's) writes it pending."""
    user_trade(running_market, "buy", Decimal("0.02"))
    queued = []
    hedge = capture(running_market, queued.append, django_capture_on_commit_callbacks)

    assert queued == [hedge.pk]
    assert (hedge.state, hedge.attempts) == (Hedge.PENDING, 0)
    assert hedger.execute_hedge(hedge.pk).state == Hedge.FILLED


def died_before_the_run(hedge_id: int, taken: Hedge) -> None:
    """The process died between the capture's commit and the hedge's run."""


died_before_the_run.takes_at_capture = True


def test_a_crash_between_capture_and_hedge_leaves_the_intent_to_the_sweeper(
    running_market, django_capture_on_commit_callbacks
):
    user_trade(running_market, "sell", Decimal("0.02"))
    hedge = capture(running_market, died_before_the_run, django_capture_on_commit_callbacks)
    assert (hedge.state, hedge.attempts, hedge.orders_opened) == (Hedge.SENDING, 1, 0)
    # A task queued meanwhile for it (by whatever) leaves it alone: the lease is the run's.
    assert hedger.execute_hedge(hedge.pk).state == Hedge.SENDING
    assert not HedgeOrder.objects.exists()

    stale = timezone.now() - timedelta(seconds=settings.HEDGE_SWEEP_SECONDS + 1)
    Hedge.objects.filter(pk=hedge.pk).update(updated_at=stale)
    assert reconcile.due_for_sweep(timedelta(seconds=settings.HEDGE_SWEEP_SECONDS)) == [hedge.pk]

    assert hedger.execute_hedge(hedge.pk).state == Hedge.FILLED
    assert PaperOrder.objects.filter(account=running_market.hedge_account).count() == 1
    assert Hedge.objects.get(pk=hedge.pk).attempts == 2


def test_an_inline_run_that_fails_before_any_order_goes_back_to_the_task(
    running_market, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr(tasks.hedge_fill, "delay", queued.append)
    user_trade(running_market, "sell", Decimal("0.02"))
    # The run cannot read its market's settings: it fails before it opens an order.
    quote_settings = QuoteSettings.objects.get(market=running_market)
    quote_settings.delete()

    hedge = capture(running_market, tasks.hedge_now, django_capture_on_commit_callbacks)

    assert queued == [hedge.pk]
    assert (hedge.state, hedge.orders_opened) == (Hedge.PENDING, 0)  # the task can claim it
    quote_settings.save(force_insert=True)
    assert hedger.execute_hedge(hedge.pk).state == Hedge.FILLED
    assert PaperOrder.objects.filter(account=running_market.hedge_account).count() == 1
