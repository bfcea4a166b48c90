"""A HollaEx trade has no id: the stream (usertrade topic) and REST (`fetch_my_trades`) each derive
one (bots/venues/fill_identity.py), and the two must agree, or the REST resync after a reconnect
would record a streamed fill a second time and hedge it twice. A fill seen on both is captured
once; two trades of one order alike in every field are two fills; and a stream whose ids do not
match REST's is never trusted: its trades are then captured by REST only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async

from bots.models import Fill, Hedge
from bots.simulation.stub_exchanges.hollaex import iso, parse_iso
from bots.simulation.stub_exchanges.hollaex_ws import HollaExWsStub
from bots.streams import runner, work
from bots.venues import venue_for
from tests.support.hollaex_world import HollaExStubs, make_on_hollaex_streams
from tests.support.streams import eventually, fills_live, running

pytestmark = pytest.mark.django_db(transaction=True)

D = Decimal
STUBS = HollaExStubs  # the stubs fixture's exchange (tests/streams/conftest.py)
TRADES = "/v2/user/trades"


@pytest.fixture
def market(hedging_market, stubs):
    return make_on_hollaex_streams(hedging_market, stubs)


def trade_ids() -> list[str]:
    return sorted(Fill.objects.values_list("trade_id", flat=True))


def rest_ids(market) -> list[str]:
    return sorted(str(t["id"]) for t in venue_for(market.mm_account).fetch_my_trades("BTC/USDT"))


def bot_trade_amounts(stubs) -> list[Decimal]:
    return sorted(t.amount for t in stubs.rest.trades if t.account == "bot")


async def trusted(process, stubs, market) -> None:
    await eventually(lambda: fills_live(market.mm_account_id), "the fill stream")
    stubs.rest.take("buy", "0.001")
    await eventually(lambda: Fill.objects.count() == 1, "the first fill")
    await eventually(lambda: process.streams[0].trusted, "the stream's ids checked against REST's")


async def test_a_fill_seen_on_the_stream_and_again_by_the_rest_resync_is_captured_once(market, stubs):
    queued = []
    async with running(queued.append) as process:
        await trusted(process, stubs, market)
        trades_read = stubs.requests(TRADES)
        stubs.rest.take("buy", "0.002")
        await eventually(lambda: Fill.objects.count() == 2, "the streamed fill")
        assert stubs.requests(TRADES) == trades_read  # captured from the stream alone
        # REST lists it again (its read is from the last fill's time on, inclusive): the id it
        # derives is the one the stream gave, so the resync records nothing.
        assert (await sync_to_async(work.resync)(market.pk, queued.append)).new == 0
        # And after a reconnection, whose resync reads the same trades again.
        stubs.ws.drop("user")
        await eventually(lambda: stubs.requests(TRADES) > trades_read + 1, "the reconnection's resync")
        await eventually(lambda: fills_live(market.mm_account_id), "the stream back")

    assert await sync_to_async(trade_ids)() == await sync_to_async(rest_ids)(market)
    assert await sync_to_async(Fill.objects.count)() == 2
    assert len(queued) == 2 and await sync_to_async(Hedge.objects.count)() == 2


async def test_two_trades_of_one_order_alike_are_two_fills(market, stubs, monkeypatch):
    # Without the order topic's check for lost trade messages: the trade stream and its REST
    # reads alone must tell the two apart.
    monkeypatch.setattr(runner, "LOST_TRADES_SECONDS", 3600)
    queued = []
    async with running(queued.append) as process:
        await trusted(process, stubs, market)
        # Two matches against the bot's ask, alike in order, time, side, price and amount: each
        # usertrade message holds one; the second looks like a repeat of the first to the
        # stream, which leaves it to REST, whose answer holds both.
        stubs.rest.frozen_ms = stubs.rest.clock()
        stubs.rest.take("buy", "0.002")
        stubs.rest.take("buy", "0.002")
        stubs.rest.frozen_ms = None
        stubs.rest.take("buy", "0.003")
        await eventually(lambda: Fill.objects.count() == 4, "four fills")
        assert (await sync_to_async(work.resync)(market.pk, queued.append)).new == 0

    ids = await sync_to_async(trade_ids)()
    assert len(set(ids)) == 4 and ids == await sync_to_async(rest_ids)(market)
    assert sorted(await sync_to_async(lambda: list(Fill.objects.values_list("amount", flat=True)))()) == \
        bot_trade_amounts(stubs) == [D("0.001"), D("0.002"), D("0.002"), D("0.003")]
    assert len(queued) == 4


async def test_a_stream_whose_ids_differ_from_rest_is_never_trusted(market, stubs, monkeypatch):
    # A server whose streamed trades carry another time than REST's (one millisecond later):
    # ids derived from them would not be REST's, and each fill would be recorded twice.
    shown = HollaExWsStub.user_trade_json

    def later(self, trade):
        found = shown(self, trade)
        return {**found, "timestamp": iso(parse_iso(found["timestamp"]) + 1)}

    monkeypatch.setattr(HollaExWsStub, "user_trade_json", later)
    queued = []
    async with running(queued.append) as process:
        await eventually(lambda: fills_live(market.mm_account_id), "the fill stream")
        for n, amount in enumerate(("0.001", "0.002", "0.003"), start=1):
            trades_read = stubs.requests(TRADES)
            stubs.rest.take("buy", amount)
            await eventually(lambda n=n: Fill.objects.count() == n, f"fill {n}")
            assert stubs.requests(TRADES) > trades_read  # by REST, each one
        assert not process.streams[0].trusted
        assert (await sync_to_async(work.resync)(market.pk, queued.append)).new == 0

    assert await sync_to_async(trade_ids)() == await sync_to_async(rest_ids)(market)
    assert len(queued) == 3
