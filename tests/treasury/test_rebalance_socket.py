"""The rebalance panel's websocket: a logged-in page is told when a proposal appears or changes;
anonymous connections are refused."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from ballast.asgi import application
from bots.models import PaperBalance
from bots.treasury import rebalancing
from bots.treasury.balances import refresh_balances
from tests.support.sockets import HOST, ORIGIN, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def drain_and_plan(market):
    PaperBalance.objects.filter(account=market.mm_account, asset="BTC").update(free=D("0.6"))
    refresh_balances(market.mm_account, ["BTC"])
    return rebalancing.plan_transfers()


async def connected(user) -> WebsocketCommunicator:
    cookie = await sync_to_async(session_cookie)(user)
    communicator = WebsocketCommunicator(
        application, "/ws/rebalance/", headers=[ORIGIN, HOST, (b"cookie", cookie)]
    )
    assert (await communicator.connect(timeout=10))[0]
    return communicator


async def test_a_new_proposal_and_its_approval_reach_an_open_panel(
    rebalance_market, operator, viewer
):
    communicator = await connected(viewer)

    [p] = await sync_to_async(drain_and_plan)(rebalance_market)
    assert json.loads(await communicator.receive_from(timeout=5))["proposal"] == p.pk
    await communicator.receive_nothing(timeout=0.3)  # coalesced: nothing queued behind it

    await sync_to_async(rebalancing.approve)(p.pk, operator)
    assert json.loads(await communicator.receive_from(timeout=5))["proposal"] == p.pk
    await communicator.disconnect()


async def test_an_anonymous_panel_is_refused(rebalance_market):
    communicator = WebsocketCommunicator(application, "/ws/rebalance/", headers=[ORIGIN, HOST])
    connected, _ = await communicator.connect(timeout=10)
    assert not connected
