"""HollaEx fills by stream (ccxt.pro's hollaex class against the HollaEx websocket stub, real
Redis): the kit's usertrade topic carries each trade with the REST trade's fields and no id, so
the stream derives the id REST's read gives the same trade (bots/venues/fill_identity.py) and,
once one batch showed the two agree, captures fills without a REST read each. The order topic is
watched beside it: an order that filled more than the trades streamed (a lost message) has its
trades read by REST. Each fill is captured and hedged once, also across a disconnect, a
duplicated message and a lost one."""

from __future__ import annotations

from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async

from bots.hedging.tasks import hedge_now
from bots.models import Fill, Hedge, HedgeOrder
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


def fills() -> list[tuple[str, Decimal]]:
    return sorted((f.trade_id, f.amount) for f in Fill.objects.all())


def fill_amounts() -> list[Decimal]:
    return sorted(amount for _, amount in fills())


def hedge_ids() -> list[int]:
    return sorted(Hedge.objects.values_list("pk", flat=True))


def bot_trade_amounts(stubs) -> list[Decimal]:
    return sorted(t.amount for t in stubs.rest.trades if t.account == "bot")


def sent(stubs, topic: str) -> list[dict]:
    return [m for kind, m in stubs.ws.sent
            if kind == "user" and m["topic"] == topic and m["action"] != "partial"]


def trade_messages(stubs) -> list[list[tuple[str, Decimal]]]:
    return [[(t["order_id"], D(str(t["size"]))) for t in m["data"]] for m in sent(stubs, "usertrade")]


async def trusted(process, stubs, market) -> None:
    """Wait for the stream, take one fill (whose batch the stream checks against REST) and wait
    until the stream trusts its ids."""
    await eventually(lambda: fills_live(market.mm_account_id), "the fill stream")
    stubs.rest.take("buy", "0.001")
    await eventually(lambda: Fill.objects.count() == 1, "the first fill")
    await eventually(lambda: process.streams[0].trusted, "the stream's ids checked against REST's")


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


async def test_fills_come_from_the_usertrade_topic_without_a_rest_read_each(market, stubs):
    queued = []
    async with running(queued.append) as process:
        await trusted(process, stubs, market)
        trades_read = stubs.requests(TRADES)
        for n, amount in enumerate(("0.002", "0.003", "0.001"), start=2):
            stubs.rest.take("buy", amount)
            await eventually(lambda n=n: Fill.objects.count() == n, f"fill {n}")

    assert stubs.requests(TRADES) == trades_read  # three fills, no REST read of trades
    ask = next(t.order_id for t in stubs.rest.trades if t.account == "bot")
    assert trade_messages(stubs) == [[(ask, D(a))] for a in ("0.001", "0.002", "0.003", "0.001")]
    assert await sync_to_async(fill_amounts)() == bot_trade_amounts(stubs)
    assert len(queued) == 4 and sorted(queued) == await sync_to_async(hedge_ids)()


async def test_fills_made_during_a_disconnect_are_captured_once_after_the_resync(market, stubs):
    queued = []
    async with running(queued.append):
        await eventually(lambda: fills_live(market.mm_account_id), "the fill stream")
        stubs.ws.go_down("user")
        await eventually(lambda: not fills_live(market.mm_account_id), "the stream to notice")
        # The bot's ask fills up and closes: nothing streams these two fills, and the usertrade
        # topic's partial after the outage is passed over; only the REST resync finds them.
        stubs.rest.take("buy", "0.004")
        stubs.rest.take("buy", "0.006")
        assert not sent(stubs, "usertrade")  # nobody heard them
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
    assert [[amount for _, amount in m] for m in trade_messages(stubs)] == [[D("0.001")]]
    assert await sync_to_async(fill_amounts)() == bot_trade_amounts(stubs)
    assert len(queued) == 3 and sorted(queued) == await sync_to_async(hedge_ids)()


async def test_a_fill_rest_recorded_before_its_message_came_still_shows_the_ids_agree(market, stubs):
    # A resync racing the stream (CI: the fill made as the stream subscribed) records the trade
    # by REST before its usertrade message is checked; that message must still earn the trust.
    async with running(lambda hedge_id: None) as process:
        await eventually(lambda: fills_live(market.mm_account_id), "the fill stream")
        stubs.ws.delay_next(2.0, "user")  # the match's usertrade message comes late
        stubs.rest.take("buy", "0.001")
        await sync_to_async(work.resync)(market.pk, lambda hedge_id: None)
        assert await sync_to_async(Fill.objects.count)() == 1  # recorded by REST first
        await eventually(lambda: process.streams[0].trusted, "the stream's ids checked against REST's")

    assert await sync_to_async(fill_amounts)() == [D("0.001")]


async def test_a_duplicated_usertrade_message_makes_no_second_fill(market, stubs):
    queued = []
    async with running(queued.append) as process:
        await trusted(process, stubs, market)
        stubs.ws.duplicate_next("user")  # the match's first message: its usertrade
        stubs.rest.take("buy", "0.002")
        await eventually(lambda: Fill.objects.count() == 2, "the fill")
        # Messages keep their order on the connection: once the next fill is in, the copy of
        # the first message has been handled.
        stubs.ws.delay_next(0.3, "user")
        stubs.rest.take("buy", "0.003")
        await eventually(lambda: Fill.objects.count() == 3, "the delayed fill")

    messages = trade_messages(stubs)
    assert messages[1] == messages[2] and len(messages) == 4  # the second fill's went out twice
    assert await sync_to_async(fill_amounts)() == [D("0.001"), D("0.002"), D("0.003")]
    assert len(queued) == 3 and sorted(queued) == await sync_to_async(hedge_ids)()


async def test_a_lost_usertrade_message_is_found_by_the_order_topic(market, stubs):
    queued = []
    async with running(queued.append) as process:
        await trusted(process, stubs, market)
        stubs.ws.gap_next("user")  # the match's usertrade message is never sent
        now = stubs.rest.frozen_ms = stubs.rest.clock()
        stubs.rest.take("buy", "0.002")
        # The next trade, 10 ms later, streams at once and moves the last fill past the lost
        # one: the order topic's check reads the order's trades from its creation on.
        stubs.rest.frozen_ms = now + 10
        stubs.rest.take("buy", "0.003")
        stubs.rest.frozen_ms = None
        await eventually(lambda: Fill.objects.count() == 3, "the lost fill, read by REST")

    assert [[amount for _, amount in m] for m in trade_messages(stubs)] == [[D("0.001")], [D("0.003")]]
    assert await sync_to_async(fill_amounts)() == bot_trade_amounts(stubs) == [
        D("0.001"), D("0.002"), D("0.003")]
    assert len(queued) == 3 and sorted(queued) == await sync_to_async(hedge_ids)()


async def test_a_fill_whose_trade_and_order_messages_were_both_lost_is_found_later(market, stubs):
    """The lost trade's order message is lost too, and the bot's other order trades for longer
    than the check's margin before this one trades again: the check reads from when this order's
    fills last added up, not from a second before the newest trade."""
    # The bot's second order, a bid above the stub's others: a user's sell trades with it.
    await sync_to_async(venue_for(market.mm_account).create_order)("BTC/USDT", "limit", "buy", D("0.01"), D("64995"))
    queued = []
    async with running(queued.append) as process:
        await trusted(process, stubs, market)
        await eventually(lambda: process.streams[0].accounted, "the first order's fills seen to add up")
        start = stubs.rest.clock()
        stubs.ws.gap_next("user", 2)  # the match's usertrade message and its order's message
        stubs.rest.frozen_ms = start
        stubs.rest.take("buy", "0.002")
        stubs.rest.frozen_ms = start + 5_000  # the other order's trade, 5 s on: the last fill moves
        stubs.rest.take("sell", "0.004")
        await eventually(lambda: Fill.objects.count() == 2, "the other order's fill")
        stubs.rest.frozen_ms = start + 5_010  # the first order again: its growth shows the loss
        stubs.rest.take("buy", "0.003")
        stubs.rest.frozen_ms = None
        await eventually(lambda: Fill.objects.count() == 4, "the lost fill, read by REST")

    assert D("0.002") not in [amount for m in trade_messages(stubs) for _, amount in m]
    assert await sync_to_async(fill_amounts)() == bot_trade_amounts(stubs) == [
        D("0.001"), D("0.002"), D("0.003"), D("0.004")]
    assert len(queued) == 4 and sorted(queued) == await sync_to_async(hedge_ids)()


async def test_a_fill_no_message_told_of_is_found_by_the_fill_audit(market, stubs, settings):
    """The trade's message and its order's message are both lost, and the order never trades
    again: nothing on the stream shows the fill, and the periodic REST audit captures it."""
    settings.STREAM_FILL_AUDIT_SECONDS = 0.5
    queued = []
    async with running(queued.append) as process:
        await trusted(process, stubs, market)
        stubs.ws.gap_next("user", 2)  # the match's usertrade message and its order's message
        stubs.rest.take("buy", "0.002")
        await eventually(lambda: Fill.objects.count() == 2, "the fill, read by the audit")

    assert D("0.002") not in [amount for m in trade_messages(stubs) for _, amount in m]
    assert await sync_to_async(fill_amounts)() == bot_trade_amounts(stubs) == [D("0.001"), D("0.002")]
    assert len(queued) == 2 and sorted(queued) == await sync_to_async(hedge_ids)()


async def test_fills_beyond_the_resyncs_page_limit_are_read_on_by_the_fill_audit(
        market, stubs, settings, monkeypatch):
    """A resync reads at most MOST_PAGES pages of trades. After an outage with more, the stream
    captures new fills at once (the last fill moves past the unread ones), so the fill audit goes
    on from where the resync stopped, not from its usual overlap of the last seconds: these
    trades are a minute old."""
    settings.STREAM_FILL_AUDIT_SECONDS = 0.5
    monkeypatch.setattr(work, "MOST_PAGES", 1)  # one page of 50 trades a read
    await sync_to_async(venue_for(market.mm_account).create_order)(
        "BTC/USDT", "limit", "sell", D("0.07"), D("65000"))
    queued = []
    async with running(queued.append) as process:
        start = stubs.rest.clock()
        stubs.rest.frozen_ms = start - 120_000
        await trusted(process, stubs, market)
        stubs.ws.go_down("user")
        await eventually(lambda: not fills_live(market.mm_account_id), "the stream to notice")
        for n in range(60):  # more than a page, each in its own millisecond, a minute ago
            stubs.rest.frozen_ms = start - 60_000 + n
            stubs.rest.take("buy", "0.001")
        stubs.rest.frozen_ms = None
        stubs.ws.come_up()
        await eventually(lambda: fills_live(market.mm_account_id), "the stream back")
        stubs.rest.take("buy", "0.002")  # streamed: the last fill moves on past the unread ones
        await eventually(lambda: Fill.objects.count() == 62, "every fill, the audit's too", 20)

    assert await sync_to_async(fill_amounts)() == bot_trade_amounts(stubs)
    assert len(queued) == 62 and sorted(queued) == await sync_to_async(hedge_ids)()


async def test_a_loss_still_being_checked_when_the_stream_stopped_is_found_after_it_starts_again(
        market, stubs, settings, monkeypatch):
    """A trade's message is lost; its order's message shows the loss and the check waits for the
    trade's message to be only late. The stream stops meanwhile (a restart, a re-plan), the
    check's read at the stop fails (the venue away that moment; or the process was killed
    outright), and it starts again much later: the resync reads from the newest fill, which the
    bot's other order made after the lost trade, and the audit's usual overlap is 10 s. Its first
    audit reads from before the newest fill, so the fill is found."""
    settings.STREAM_FILL_AUDIT_SECONDS = 0.5
    monkeypatch.setattr(runner, "LOST_TRADES_SECONDS", 60)  # the check is still waiting at the stop
    await sync_to_async(venue_for(market.mm_account).create_order)(
        "BTC/USDT", "limit", "buy", D("0.01"), D("64995"))  # the bot's second order: a bid
    start = stubs.rest.clock()
    queued = []
    async with running(queued.append) as process:
        stubs.rest.frozen_ms = start - 60_000
        await trusted(process, stubs, market)
        stubs.ws.gap_next("user")  # the match's usertrade message; its order's message comes
        stubs.rest.frozen_ms = start - 59_000
        stubs.rest.take("buy", "0.002")
        await eventually(lambda: process.streams[0].short, "the loss seen, its check waiting")
        stubs.rest.frozen_ms = start - 58_000  # the other order trades: the newest fill moves on
        stubs.rest.take("sell", "0.004")
        await eventually(lambda: Fill.objects.count() == 2, "the other order's fill")
        stubs.rest.frozen_ms = None
        stubs.rest.fail_next(503, only="GET /v2/user/trades")  # the stop's read of the check
    assert await sync_to_async(Fill.objects.count)() == 2  # the lost one not yet

    async with running(queued.append):
        await eventually(lambda: Fill.objects.count() == 3, "the lost fill, by the first audit", 20)

    assert await sync_to_async(fill_amounts)() == bot_trade_amounts(stubs) == [
        D("0.001"), D("0.002"), D("0.004")]
    assert len(queued) == 3 and sorted(queued) == await sync_to_async(hedge_ids)()


async def test_a_loss_still_being_checked_when_the_stream_stops_is_read_at_the_stop(
        market, stubs, monkeypatch):
    """The same loss, the check still waiting when the stream stops: its trades are read as the
    stream stops, and the fill is captured and hedged then, not a minute after the next start."""
    monkeypatch.setattr(runner, "LOST_TRADES_SECONDS", 60)  # the check is still waiting at the stop
    await sync_to_async(venue_for(market.mm_account).create_order)(
        "BTC/USDT", "limit", "buy", D("0.01"), D("64995"))  # the bot's second order: a bid
    queued = []
    async with running(queued.append) as process:
        await trusted(process, stubs, market)
        stubs.ws.gap_next("user")  # the match's usertrade message; its order's message comes
        stubs.rest.take("buy", "0.002")
        await eventually(lambda: process.streams[0].short, "the loss seen, its check waiting")
        stubs.rest.take("sell", "0.004")  # the other order trades: the newest fill moves on
        await eventually(lambda: Fill.objects.count() == 2, "the other order's fill")
        assert process.streams[0].short  # still waiting

    assert await sync_to_async(fill_amounts)() == bot_trade_amounts(stubs) == [
        D("0.001"), D("0.002"), D("0.004")]
    assert len(queued) == 3 and sorted(queued) == await sync_to_async(hedge_ids)()
