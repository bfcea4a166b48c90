"""A paper venue's fills take the stream path as an exchange's do: the venue publishes each
committed batch of an account's trades on its channel, the stream process reads it through
watch_my_trades and captures it with the same capture, with the venue's own read as the resync
after each subscription. Where no stream listens the capture task takes them, as before; a
trade both paths see is recorded and hedged once. Real Redis; the stream process in the test's
event loop."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from asgiref.sync import sync_to_async

from bots.hedging import tasks
from bots.hedging.tasks import hedge_now
from bots.models import Fill, Hedge, HedgeOrder
from bots.platform import events
from bots.simulation.paper_flow import user_trade
from bots.streams import work
from bots.venues import paper_stream
from bots.venues import stream_state as state
from bots.venues.paper import PaperVenue
from tests.support.streams import eventually, fills_live, running

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queued(monkeypatch):
    """The capture tasks the push queued (market ids), not run: no worker in this test."""
    sent: list[int] = []
    monkeypatch.setattr(tasks.capture_market_fills, "delay", sent.append)
    return sent


def trade(market, amount: str = "0.002") -> None:
    user_trade(market, "buy", D(amount))


def hedged_once(market) -> bool:
    fills = list(Fill.objects.filter(market=market))
    hedges = list(Hedge.objects.filter(fill__in=fills, state=Hedge.FILLED))
    return len(hedges) == len(fills) and all(
        HedgeOrder.objects.filter(hedge=h).count() == 1 for h in hedges
    )


def venue_trade_ids(market) -> list[str]:
    return sorted(str(t["id"]) for t in PaperVenue(market.mm_account).fetch_my_trades(market.symbol))


def fill_ids(market) -> list[str]:
    return sorted(Fill.objects.filter(market=market).values_list("trade_id", flat=True))


def test_the_stream_plans_a_paper_market_makers_fills_and_nothing_else(hedging_market):
    [plan] = work.plan()

    assert (plan.account_id, plan.paper) == (hedging_market.mm_account_id, True)
    assert plan.fill_markets == {hedging_market.symbol: hedging_market.pk}
    assert plan.book_symbols == set()  # a paper book is read from the venue


async def test_a_paper_fill_is_captured_and_hedged_by_the_stream_not_the_task(hedging_market, queued):
    async with running(hedge_now):
        await eventually(lambda: fills_live(hedging_market.mm_account_id), "the paper fill stream")
        await sync_to_async(trade)(hedging_market)
        await eventually(lambda: hedged_once(hedging_market) and Fill.objects.count() == 1, "the hedge")

    assert queued == []
    assert await sync_to_async(fill_ids)(hedging_market) == await sync_to_async(venue_trade_ids)(hedging_market)


async def test_fills_made_while_no_stream_listened_are_captured_once_at_its_resync(
    hedging_market, queued
):
    # Nobody listens: the push falls back to the capture task (queued here, never run).
    await sync_to_async(trade)(hedging_market)
    await sync_to_async(trade)(hedging_market, "0.003")
    assert queued == [hedging_market.pk, hedging_market.pk]
    assert await sync_to_async(Fill.objects.count)() == 0

    async with running(hedge_now):
        await eventually(lambda: Fill.objects.count() == 2, "the resync's two fills")
        await eventually(lambda: fills_live(hedging_market.mm_account_id), "the stream")
        await sync_to_async(trade)(hedging_market, "0.001")  # and the stream carries fills again
        await eventually(lambda: Fill.objects.count() == 3 and hedged_once(hedging_market), "three hedged")

    assert len(queued) == 2
    assert await sync_to_async(fill_ids)(hedging_market) == await sync_to_async(venue_trade_ids)(hedging_market)


async def test_a_trade_both_the_stream_and_the_capture_task_see_is_captured_and_hedged_once(
    hedging_market, monkeypatch
):
    captured = []
    publish = paper_stream.publish

    def both(venue, account_id, trades):
        publish(venue, account_id, trades)  # the stream hears it ...
        return False  # ... and the capture task runs too, here at once

    def capture_task(market_id):
        # Run here and now, as a worker would (a capture held by the stream is run again).
        captured.append(tasks.capture_market_fills.apply((market_id,)).get())

    monkeypatch.setattr(tasks.paper_stream, "publish", both)
    monkeypatch.setattr(tasks.capture_market_fills, "delay", capture_task)
    async with running(hedge_now):
        await eventually(lambda: fills_live(hedging_market.mm_account_id), "the paper fill stream")
        for amount in ("0.002", "0.003", "0.004"):
            await sync_to_async(trade)(hedging_market, amount)
        await eventually(lambda: Fill.objects.count() == 3 and hedged_once(hedging_market), "three hedged")

    assert len(captured) == 3  # the task ran for each trade; what it found new, the stream had not
    assert await sync_to_async(fill_ids)(hedging_market) == await sync_to_async(venue_trade_ids)(hedging_market)
    assert await sync_to_async(Hedge.objects.count)() == 3


def test_a_push_goes_to_the_capture_task_unless_a_stream_hears_it_and_streams_the_account(
    hedging_market,
):
    venue, account = hedging_market.mm_account.venue_id, hedging_market.mm_account_id
    listener = state.client().pubsub()
    try:
        assert paper_stream.publish(venue, account, []) is False  # nobody subscribed
        listener.subscribe(paper_stream.channel(venue, account))
        assert listener.get_message(timeout=5)["type"] == "subscribe"
        assert paper_stream.publish(venue, account, []) is False  # heard, but no stream mark
        state.mark_fills_streamed(account, "watch_my_trades")
        assert paper_stream.publish(venue, account, []) is True
        state.mark_fills_polled(account)
        listener.unsubscribe()
        heard = [listener.get_message(timeout=5)["type"] for _ in range(3)]
        assert heard == ["message", "message", "unsubscribe"]  # the two it heard, then gone
        state.mark_fills_streamed(account, "watch_my_trades")
        assert paper_stream.publish(venue, account, []) is False  # marked, but nobody hears
    finally:
        state.mark_fills_polled(account)
        listener.close()


def test_the_push_carries_the_trades_as_the_venue_reads_them(hedging_market, monkeypatch):
    pushed = []
    monkeypatch.setattr(events.trades_made, "receivers", [])
    events.trades_made.connect(lambda sender, **values: pushed.append(values), weak=False)

    trade(hedging_market)

    [push] = pushed
    mm = hedging_market.mm_account_id
    sent = paper_stream.decode(paper_stream.encode(push["trades"][mm]))
    assert mm in push["accounts"] and set(push["trades"]) == set(push["accounts"])
    assert sent == PaperVenue(hedging_market.mm_account).fetch_my_trades(hedging_market.symbol)
    assert isinstance(sent[0]["price"], D) and isinstance(sent[0]["fee"]["cost"], D)


async def test_a_paper_fill_the_stream_heard_but_failed_to_capture_is_captured_by_its_resync(
    hedging_market, queued, monkeypatch
):
    real, failed = work.capture_streamed, []

    def fails_once(*args):
        if not failed:
            failed.append(args)
            raise RuntimeError("the database went away mid-capture")
        return real(*args)

    monkeypatch.setattr(work, "capture_streamed", fails_once)
    async with running(hedge_now):
        await eventually(lambda: fills_live(hedging_market.mm_account_id), "the paper fill stream")
        await sync_to_async(trade)(hedging_market)
        await eventually(lambda: Fill.objects.count() == 1 and hedged_once(hedging_market), "the hedge")

    assert len(failed) == 1 and queued == []  # the stream took it, lost it, and found it again
