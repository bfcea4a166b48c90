"""The overview's websocket, through the real Redis channel layer: logged-in pages get every
market's rows after a health round, anonymous ones are refused, bursts arrive coalesced."""

from __future__ import annotations

import re

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.urls import reverse

from ballast.asgi import application
from bots.desk import health
from bots.desk.tasks import sample_health
from dashboard.live.overview_push import publish_overview
from tests.support.sockets import HOST, ORIGIN, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


async def connect(user=None) -> WebsocketCommunicator:
    headers = [ORIGIN, HOST]
    if user is not None:
        headers.append((b"cookie", await sync_to_async(session_cookie)(user)))
    communicator = WebsocketCommunicator(application, "/ws/overview/", headers=headers)
    connected, _ = await communicator.connect(timeout=10)
    return communicator if connected else None


async def test_a_health_round_pushes_every_markets_row_to_the_page(running_market, viewer):
    communicator = await connect(viewer)
    assert communicator is not None

    await sync_to_async(sample_health)()

    html = await communicator.receive_from(timeout=5)
    assert 'id="overview-table"' in html and 'hx-swap-oob="true"' in html
    row = re.search(r'<tr data-market="btc-usdt" data-status="(\w+)"', html)
    assert row and row.group(1) in ("green", "amber", "red")
    assert 'href="/markets/btc-usdt/">BTC/USDT</a>' in html
    await communicator.disconnect()


async def test_each_push_carries_the_moment_it_left(running_market, operator):
    await sync_to_async(health.sample_market)(running_market)
    communicator = await connect(operator)

    stamp = await sync_to_async(publish_overview)()

    html = await communicator.receive_from(timeout=5)
    assert f'data-published-at="{stamp}"' in html
    await communicator.disconnect()


async def test_an_anonymous_client_is_refused(running_market):
    assert await connect() is None


async def test_a_burst_reaches_the_page_coalesced(running_market, viewer):
    await sync_to_async(health.sample_market)(running_market)
    communicator = await connect(viewer)
    stamps = [await sync_to_async(publish_overview)() for _ in range(8)]

    received = [await communicator.receive_from(timeout=5)]
    while not await communicator.receive_nothing(timeout=0.6):
        received.append(await communicator.receive_from())

    assert 1 <= len(received) <= 3
    assert f'data-published-at="{stamps[-1]}"' in received[-1]  # the newest always arrives
    await communicator.disconnect()


async def test_the_page_cannot_send_commands(running_market, admin_user):
    communicator = await connect(admin_user)
    await communicator.send_to(text_data='{"cmd": "pause"}')

    assert await communicator.receive_json_from(timeout=5) == {"error": "this socket takes no messages"}
    await communicator.disconnect()


def test_the_page_renders_the_same_rows_with_the_socket_address(client, viewer, running_market):
    health.sample_market(running_market)
    client.force_login(viewer)

    page = client.get(reverse("overview"))

    assert page.status_code == 200
    html = page.content.decode()
    assert 'ws-connect="/ws/overview/"' in html and 'id="overview-table"' in html
    assert 'hx-swap-oob' not in html  # only pushed rows swap themselves in
    (row,) = page.context["rows"]
    assert row["spread"].status in ("green", "amber", "red") and len(row["depth"]) == 6


def test_a_market_without_samples_says_so(client, viewer, demo_market):
    client.force_login(viewer)

    assert "No samples yet" in client.get(reverse("overview")).content.decode()
