"""The market page's websocket: logged-in users get live snapshots, anonymous ones are refused."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from ballast.asgi import application
from bots.hedging.capture import capture_fills
from bots.simulation.paper_flow import user_trade
from bots.venues import venue_for
from dashboard.live.publisher import publish_market
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
    connected, _ = await communicator.connect()
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
    connected, _ = await communicator.connect()
    assert not connected


async def test_an_unknown_market_is_refused(operator):
    cookie = await sync_to_async(session_cookie)(operator)
    communicator = WebsocketCommunicator(
        application, "/ws/markets/no-such-market/", headers=[ORIGIN, HOST, (b"cookie", cookie)]
    )
    connected, _ = await communicator.connect()
    assert not connected


async def test_messages_from_the_page_are_answered_with_an_error(running_market, operator):
    cookie = await sync_to_async(session_cookie)(operator)
    communicator = WebsocketCommunicator(
        application, f"/ws/markets/{running_market.slug}/", headers=[ORIGIN, HOST, (b"cookie", cookie)]
    )
    assert (await communicator.connect())[0]
    await communicator.send_to(text_data='{"cmd": "kill"}')
    assert json.loads(await communicator.receive_from(timeout=5)) == {
        "reply": {
            "error": "Unknown command None: use one of pause, resume, kill, cancel-all, kill-all, "
            "resume-all."
        }
    }
    await communicator.disconnect()


async def test_a_burst_of_updates_reaches_the_page_coalesced(running_market, operator):
    cookie = await sync_to_async(session_cookie)(operator)
    communicator = WebsocketCommunicator(
        application, f"/ws/markets/{running_market.slug}/", headers=[ORIGIN, HOST, (b"cookie", cookie)]
    )
    assert (await communicator.connect())[0]
    for _ in range(10):
        await sync_to_async(publish_market)(running_market.pk, force=True)
    received = [await communicator.receive_from(timeout=5)]
    while not await communicator.receive_nothing(timeout=0.6):
        received.append(await communicator.receive_from())
    # Ten snapshots sent back to back arrive as the first plus one trailing update carrying the
    # newest: at most four a second reach the browser however fast the engine publishes.
    assert 1 <= len(received) <= 3
    await communicator.disconnect()
