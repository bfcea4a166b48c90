"""Fills streamed by the exchange (ccxt.pro against the binance websocket stub, real Redis):
each goes through the one capture once, also when the stream drops, repeats itself or lags, and
the fill through the stream is hedged once."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from bots.hedging.tasks import hedge_now
from bots.models import Fill, Hedge, HedgeOrder
from tests.support.streams import eventually, fills_live, make_on_stub, running

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def market(hedging_market, stubs):
    return make_on_stub(hedging_market, stubs)


def fill_ids() -> list[str]:
    return sorted(Fill.objects.values_list("trade_id", flat=True))


def hedge_ids() -> list[int]:
    return sorted(Hedge.objects.values_list("pk", flat=True))


def stub_trade_ids(stubs) -> list[str]:
    return sorted(t.id for t in stubs.rest.trades if t.account == "bot")


async def test_fills_made_during_a_disconnect_are_captured_once_after_the_resync(market, stubs):
    queued = []
    async with running(queued.append):
        await eventually(lambda: fills_live(market.mm_account_id), "the fill stream")
        stubs.ws.go_down("user")
        await eventually(lambda: not fills_live(market.mm_account_id), "the stream to notice")
        stubs.rest.take("buy", "0.002")
        stubs.rest.take("buy", "0.003")
        assert not [m for kind, m in stubs.ws.sent if kind == "user"]  # nobody heard them
        assert await eventually(lambda: Fill.objects.count() == 0, "nothing captured meanwhile")
        trades_read = stubs.requests("/api/v3/myTrades")
        stubs.ws.come_up()
        await eventually(lambda: Fill.objects.count() == 2, "the two fills")
        await eventually(lambda: fills_live(market.mm_account_id), "the stream back")
        stubs.rest.take("buy", "0.001")  # and the stream carries fills again
        await eventually(lambda: Fill.objects.count() == 3, "the fill after the resync")

    assert stubs.requests("/api/v3/myTrades") > trades_read  # the resync read them by REST
    assert await sync_to_async(fill_ids)() == stub_trade_ids(stubs)
    assert sorted(queued) == await sync_to_async(hedge_ids)()


async def test_a_duplicated_message_makes_no_second_fill(market, stubs):
    queued = []
    async with running(queued.append):
        await eventually(lambda: fills_live(market.mm_account_id), "the fill stream")
        stubs.ws.duplicate_next("user")
        stubs.rest.take("buy", "0.002")
        await eventually(lambda: Fill.objects.count() == 1, "the fill")
        stubs.ws.delay_next(0.3, "user")
        stubs.rest.take("buy", "0.003")
        await eventually(lambda: Fill.objects.count() == 2, "the delayed fill")

    reports = [m["event"]["t"] for kind, m in stubs.ws.sent
               if kind == "user" and m["event"]["e"] == "executionReport"]
    assert reports.count(reports[0]) == 2  # the first trade's report went out twice
    assert await sync_to_async(fill_ids)() == stub_trade_ids(stubs)
    assert sorted(queued) == await sync_to_async(hedge_ids)()


async def test_a_fill_through_the_stream_is_hedged_once(market, stubs):
    async with running(hedge_now):
        await eventually(lambda: fills_live(market.mm_account_id), "the fill stream")
        stubs.ws.duplicate_next("user")
        stubs.rest.take("buy", "0.004")
        await eventually(lambda: Hedge.objects.filter(state=Hedge.FILLED).exists(), "the hedge")

    await sync_to_async(assert_hedged_once)()


def assert_hedged_once():
    hedge = Hedge.objects.select_related("fill").get()
    assert (hedge.fill.amount, hedge.side, hedge.filled) == (hedge.amount, "buy", hedge.amount)
    assert HedgeOrder.objects.filter(hedge=hedge).count() == 1
