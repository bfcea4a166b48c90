"""Each fill is recorded once and hedged once, however often capture and hedge tasks run."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from bots.hedging import hedger
from bots.hedging.capture import capture_fills
from bots.models import Fill, Hedge, HedgeOrder, PaperOrder
from bots.simulation.paper_flow import user_trade
from bots.venues import venue_for

pytestmark = pytest.mark.django_db


def capture(market) -> list[int]:
    """Capture new fills; the ids of their hedges."""
    fills = capture_fills(market, venue_for(market.mm_account), on_hedge=lambda hedge_id: None)
    return [fill.hedge.pk for fill in fills]


def test_capturing_twice_records_one_fill_and_one_hedge(
    running_market, django_capture_on_commit_callbacks
):
    user_trade(running_market, "sell", Decimal("0.03"))
    queued = []
    with django_capture_on_commit_callbacks(execute=True):
        capture_fills(running_market, venue_for(running_market.mm_account), queued.append)
        running_market.last_fill_timestamp = 0  # as if another process had not seen it either
        capture_fills(running_market, venue_for(running_market.mm_account), queued.append)
    assert queued == [Hedge.objects.get().pk]  # one hedge task queued, after the commit
    assert Fill.objects.count() == 1 and Hedge.objects.count() == 1
    hedge = Hedge.objects.get()
    assert (hedge.side, hedge.amount) == ("sell", Decimal("0.03"))


def test_a_hedge_task_run_twice_sends_one_order(running_market):
    user_trade(running_market, "buy", Decimal("0.02"))
    [hedge_id] = capture(running_market)
    assert hedger.execute_hedge(hedge_id).state == Hedge.FILLED
    assert hedger.execute_hedge(hedge_id).state == Hedge.FILLED
    assert PaperOrder.objects.filter(account=running_market.hedge_account).count() == 1


def test_a_retry_after_a_crash_finds_the_order_already_sent(running_market):
    """The worker died after the venue accepted the hedge but before the answer was recorded."""
    user_trade(running_market, "buy", Decimal("0.02"))
    [hedge_id] = capture(running_market)
    hedge = Hedge.objects.get(pk=hedge_id)
    venue = venue_for(running_market.hedge_account)
    book = venue.fetch_order_book("BTC/USDT")
    # What the dead run had done: its order recorded as sending, then sent and accepted.
    sent = HedgeOrder.objects.create(
        hedge=hedge, account=running_market.hedge_account, client_order_id=f"{hedge.client_order_id}-1",
        side="buy", amount=hedge.amount, limit_price=book["asks"][0][0] + 100,
        expected_price=book["asks"][0][0], sent_at=timezone.now(),
    )
    venue.create_order(
        "BTC/USDT", "limit", "buy", sent.amount, sent.limit_price,
        {"clientOrderId": sent.client_order_id, "timeInForce": "IOC"},
    )
    Hedge.objects.filter(pk=hedge_id).update(state=Hedge.PENDING, attempts=1, orders_opened=1)

    assert hedger.execute_hedge(hedge_id).state == Hedge.FILLED
    assert PaperOrder.objects.filter(account=running_market.hedge_account).count() == 1
    sent.refresh_from_db()
    assert (sent.state, sent.filled) == (HedgeOrder.DONE, Decimal("0.02"))
    assert Hedge.objects.get().filled == Decimal("0.02")
