"""The market page's websocket: logged-in users get live snapshots, anonymous ones are refused."""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from ballast.asgi import application
from bots.hedging.capture import capture_fills
from bots.simulation.paper_flow import user_trade
from bots.venues import venue_for
from dashboard.live import publisher
from dashboard.live.consumers import MAX_UPDATES_PER_SECOND
from dashboard.live.publisher import group_name, publish_market
from tests.support.sockets import HOST, ORIGIN, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def trade_and_publish(market):
    user_trade(market, "sell", Decimal("0.01"))
    capture_fills(market, venue_for(market.mm_account), on_hedge=lambda hedge_id: None)
    publish_market(market.pk, force=True)


async def test_a_logged_in_client_receives_the_fill_after_a_trade(running_market, operator):
    cookie = await sync_to_async(session_cookie)(operator)
    communicator = WebsocketCommunicator(
        application, f"/ws/markets/{running_market.slug}/", headers=[ORIGIN, HOST, (b"cookie", cookie)]
    )
    connected, _ = await communicator.connect(timeout=10)
    assert connected

    await sync_to_async(trade_and_publish)(running_market)

    snapshot = json.loads(await communicator.receive_from(timeout=5))
    assert snapshot["market"] == "btc-usdt"
    assert [(t["user_side"], t["amount"]) for t in snapshot["tape"]] == [("sell", "0.010000000000000000")]
    assert {q["side"] for q in snapshot["quotes"]} == {"buy", "sell"}
    await communicator.disconnect()


async def test_an_anonymous_client_is_refused(running_market):
    communicator = WebsocketCommunicator(
        application, f"/ws/markets/{running_market.slug}/", headers=[ORIGIN, HOST]
    )
    connected, _ = await communicator.connect(timeout=10)
    assert not connected


async def test_an_unknown_market_is_refused(operator):
    cookie = await sync_to_async(session_cookie)(operator)
    communicator = WebsocketCommunicator(
        application, "/ws/markets/no-such-market/", headers=[ORIGIN, HOST, (b"cookie", cookie)]
    )
    connected, _ = await communicator.connect(timeout=10)
    assert not connected


async def test_messages_from_the_page_are_answered_with_an_error(running_market, operator):
    cookie = await sync_to_async(session_cookie)(operator)
    communicator = WebsocketCommunicator(
        application, f"/ws/markets/{running_market.slug}/", headers=[ORIGIN, HOST, (b"cookie", cookie)]
    )
    assert (await communicator.connect(timeout=10))[0]
    await communicator.send_to(text_data='{"cmd": "kill"}')
    assert json.loads(await communicator.receive_from(timeout=5)) == {
        "reply": {
            "error": "Unknown command None: use one of pause, resume, kill, cancel-all, kill-all, "
            "resume-all."
        }
    }
    await communicator.disconnect()


async def test_a_burst_of_updates_reaches_the_page_coalesced(running_market, operator):
    """Ten updates sent at once reach the page coalesced: the first at once, the newest in a
    trailing update, never two trailing ones within a quarter of a second (at most four a
    second, however fast the engine publishes)."""
    cookie = await sync_to_async(session_cookie)(operator)
    communicator = WebsocketCommunicator(
        application, f"/ws/markets/{running_market.slug}/", headers=[ORIGIN, HOST, (b"cookie", cookie)]
    )
    assert (await communicator.connect(timeout=10))[0]
    layer, group = get_channel_layer(), group_name(running_market.pk)
    # Raw updates, sent at once: a burst the engine could publish, without building snapshots.
    await asyncio.gather(*(
        layer.group_send(group, {"type": "market.update", "text": json.dumps({"n": n})})
        for n in range(10)
    ))
    received = [(await communicator.receive_from(timeout=5), time.monotonic())]
    while not await communicator.receive_nothing(timeout=1 / MAX_UPDATES_PER_SECOND + 0.5):
        received.append((await communicator.receive_from(), time.monotonic()))
    texts = [json.loads(text)["n"] for text, _ in received]
    # Gaps between the trailing updates, which the consumer times itself (the first one may sit
    # in the test's queue while the burst is still being sent).
    trailing = received[1:]
    gaps = [later - earlier for (_, earlier), (_, later) in zip(trailing, trailing[1:], strict=False)]

    assert texts[-1] == 9 and 2 <= len(texts) <= 3, texts
    assert all(gap >= 1 / MAX_UPDATES_PER_SECOND - 0.02 for gap in gaps), gaps
    await communicator.disconnect()


async def test_the_history_tail_rides_along_once_per_interval(running_market, operator, redis_client,
                                                             monkeypatch):
    """Pushes in quick succession carry the history charts' tail once: the page draws a point at
    most every 5 s and rebuilding the tail reads the market's records; the next push after the
    interval carries it again."""
    # Long beside the pushes' own time, so that a loaded machine cannot decide the second one.
    monkeypatch.setattr(publisher, "HISTORY_TAIL_EVERY_MS", 3000)
    redis_client.delete(f"ballast:throttle:history-tail:{running_market.pk}")  # an earlier test's
    cookie = await sync_to_async(session_cookie)(operator)
    communicator = WebsocketCommunicator(
        application, f"/ws/markets/{running_market.slug}/", headers=[ORIGIN, HOST, (b"cookie", cookie)]
    )
    assert (await communicator.connect(timeout=10))[0]

    async def pushed() -> dict:
        await sync_to_async(publish_market)(running_market.pk, force=True)
        return json.loads(await communicator.receive_from(timeout=5))

    first = await pushed()
    await asyncio.sleep(1 / MAX_UPDATES_PER_SECOND + 0.1)  # past the page's own coalescing
    second = await pushed()
    await asyncio.sleep(3)
    third = await pushed()

    assert first["history"]["at"] > 0 and "current" in first["history"]
    assert second["history"] is None and second["tape"] == first["tape"]  # the rest as always
    assert third["history"]["at"] > first["history"]["at"]
    await communicator.disconnect()
