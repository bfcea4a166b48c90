"""HollaEx fills by stream (ccxt.pro's hollaex class against the HollaEx websocket stub, real
Redis): the order topic carries no trades, only each order's cumulative `filled`, so a growth
sends the market to the REST read of its trades, whose derived ids (bots/venues/fill_identity.py)
are the only identity a HollaEx fill has. Each fill is captured and hedged once, also across a
disconnect, a duplicated message and several partial fills of one order."""

from __future__ import annotations

from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async

from bots.hedging.tasks import hedge_now
from bots.models import Fill, Hedge, HedgeOrder
from bots.venues import venue_for
from tests.support.hollaex_world import HollaExStubs, make_on_hollaex_streams
from tests.support.streams import eventually, fills_live, running

pytestmark = pytest.mark.django_db(transaction=True)

D = Decimal
TRADES = "/v2/user/trades"


@pytest.fixture
def stubs():
    stubs = HollaExStubs()
    yield stubs
    stubs.stop()


@pytest.fixture
def market(hedging_market, stubs):
    return make_on_hollaex_streams(hedging_market, stubs)


def fills() -> list[tuple[str, Decimal]]:
    return sorted((f.trade_id, f.amount) for f in Fill.objects.all())


def fill_amounts() -> list[Decimal]:
    return sorted(amount for _, amount in fills())


def hedge_ids() -> list[int]:
    return sorted(Hedge.objects.values_list("pk", flat=True))


def bot_trade_amounts(stubs) -> list[Decimal]:
    return sorted(t.amount for t in stubs.rest.trades if t.account == "bot")


def order_messages(stubs) -> list[tuple[str, Decimal]]:
    return [(m["data"]["id"], D(str(m["data"]["filled"]))) for kind, m in stubs.ws.sent
            if kind == "user" and m["action"] != "partial"]


async def test_a_hollaex_fill_by_stream_is_captured_and_hedged_once(market, stubs):
    async with running(hedge_now):
        await eventually(lambda: fills_live(market.mm_account_id), "the fill stream")
        assert stubs.ws.connections("user") == 1
        stubs.rest.take("buy", "0.004")
        await eventually(lambda: Hedge.objects.filter(state=Hedge.FILLED).exists(), "the hedge")

    [(trade_id, amount)] = await sync_to_async(fills)()
    assert trade_id.startswith("d-") and amount == D("0.004")  # hollaex gives trades no id
    await sync_to_async(assert_hedged_once)()


def assert_hedged_once():
    hedge = Hedge.objects.select_related("fill").get()
    assert (hedge.fill.amount, hedge.side, hedge.filled) == (hedge.amount, "buy", hedge.amount)
    assert HedgeOrder.objects.filter(hedge=hedge).count() == 1


async def test_fills_made_during_a_disconnect_are_captured_once_after_the_resync(market, stubs):
    queued = []
    async with running(queued.append):
        await eventually(lambda: fills_live(market.mm_account_id), "the fill stream")
        stubs.ws.go_down("user")
        await eventually(lambda: not fills_live(market.mm_account_id), "the stream to notice")
        # The bot's ask fills up and closes: the order topic's partial after the outage (open
        # orders only) will not show it; only the REST resync can find these two fills.
        stubs.rest.take("buy", "0.004")
        stubs.rest.take("buy", "0.006")
        assert not order_messages(stubs)  # nobody heard them
        assert await eventually(lambda: Fill.objects.count() == 0, "nothing captured meanwhile")
        trades_read = stubs.requests(TRADES)
        stubs.ws.come_up()
        await eventually(lambda: Fill.objects.count() == 2, "the two fills")
        await eventually(lambda: fills_live(market.mm_account_id), "the stream back")
        await sync_to_async(venue_for(market.mm_account).create_order)(
            "BTC/USDT", "limit", "sell", D("0.01"), D("65000"))
        stubs.rest.take("buy", "0.001")  # and the stream carries fills again
        await eventually(lambda: Fill.objects.count() == 3, "the fill after the resync")

    assert stubs.requests(TRADES) > trades_read  # the resync read them by REST
    assert [filled for _, filled in order_messages(stubs)] == [D("0"), D("0.001")]  # the new ask
    assert await sync_to_async(fill_amounts)() == bot_trade_amounts(stubs)
    assert len(queued) == 3 and sorted(queued) == await sync_to_async(hedge_ids)()


async def test_a_duplicated_order_message_makes_no_second_fill(market, stubs):
    queued = []
    async with running(queued.append):
        await eventually(lambda: fills_live(market.mm_account_id), "the fill stream")
        stubs.ws.duplicate_next("user")
        stubs.rest.take("buy", "0.002")
        await eventually(lambda: Fill.objects.count() == 1, "the fill")
        # Messages keep their order on the connection: once the next fill is in, the copy of
        # the first message has been handled.
        stubs.ws.delay_next(0.3, "user")
        stubs.rest.take("buy", "0.003")
        await eventually(lambda: Fill.objects.count() == 2, "the delayed fill")

    messages = order_messages(stubs)
    assert messages[0] == messages[1]  # the first fill's message went out twice
    assert await sync_to_async(fill_amounts)() == [D("0.002"), D("0.003")]
    assert len(queued) == 2 and sorted(queued) == await sync_to_async(hedge_ids)()


async def test_partial_fills_of_one_order_make_one_fill_each(market, stubs):
    # Three partial fills of the bot's ask, two of them alike and in the same millisecond: told
    # apart by their place among the identical trades, as REST returns them.
    stubs.rest.frozen_ms = stubs.rest.clock()
    queued = []
    async with running(queued.append):
        await eventually(lambda: fills_live(market.mm_account_id), "the fill stream")
        for amount in ("0.002", "0.002", "0.003"):
            stubs.rest.take("buy", amount)
        await eventually(lambda: Fill.objects.count() == 3, "three fills")
        stubs.rest.frozen_ms = None
        stubs.rest.take("buy", "0.003")  # the order's last 0.003, at another time
        await eventually(lambda: Fill.objects.count() == 4, "the order filled")

    assert [filled for _, filled in order_messages(stubs)] == [
        D("0.002"), D("0.004"), D("0.007"), D("0.01")]
    captured = await sync_to_async(fills)()
    assert len({trade_id for trade_id, _ in captured}) == 4
    assert sorted(amount for _, amount in captured) == bot_trade_amounts(stubs) == [
        D("0.002"), D("0.002"), D("0.003"), D("0.003")]
    assert len(queued) == 4 and sorted(queued) == await sync_to_async(hedge_ids)()
