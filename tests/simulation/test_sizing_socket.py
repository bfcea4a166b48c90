"""The sizing page's socket: progress of several runs at once is coalesced per run, so the end
of one run is never dropped for another run's progress."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from ballast.asgi import application
from dashboard.live.sizing_push import SIZING_GROUP
from tests.support.sockets import HOST, ORIGIN, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def event(run: int, state: str, progress: float) -> dict:
    text = json.dumps(
        {"run": run, "market": "m", "state": state, "progress": progress, "error": ""}
    )
    return {"type": "sizing.progress", "run": run, "text": text}


async def test_a_burst_of_two_runs_progress_keeps_each_runs_latest_message(viewer):
    cookie = await sync_to_async(session_cookie)(viewer)
    communicator = WebsocketCommunicator(
        application, "/ws/sizing/", headers=[ORIGIN, HOST, (b"cookie", cookie)]
    )
    assert (await communicator.connect(timeout=10))[0]
    layer = get_channel_layer()

    # The first goes out at once; the rest arrive within the page's 250 ms and are coalesced.
    for message in [
        event(1, "running", 0.1),
        event(1, "running", 0.5),
        event(2, "running", 0.2),
        event(1, "done", 1.0),
        event(2, "running", 0.3),
    ]:
        await layer.group_send(SIZING_GROUP, message)

    received = [json.loads(await communicator.receive_from(timeout=5)) for _ in range(3)]
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()
    assert [(m["run"], m["state"], m["progress"]) for m in received] == [
        (1, "running", 0.1),
        (1, "done", 1.0),
        (2, "running", 0.3),
    ]
