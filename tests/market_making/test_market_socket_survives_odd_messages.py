"""A market socket answers a message it cannot read and stays open: 1,999 "[" (deeper than the
JSON parser goes) used to kill the socket's consumer. Through the real Redis layer: the socket
still gets the market's snapshots afterwards."""

from __future__ import annotations

import json

import pytest

from tests.support.sockets import ask, socket_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("bad", ["[" * 1999, "\0", "{}" * 999])
async def test_an_odd_message_is_answered_and_the_socket_carries_on(bad, running_market, operator):
    socket = await socket_for(operator, running_market)

    reply = await ask(socket, bad)

    assert "error" in reply and 'Send JSON like {"command": "pause"' in reply["error"]
    # The same consumer takes the next message and still receives its group's pushes.
    assert (await ask(socket, '{"command": "pause", "reason": "after"}'))["ok"].startswith(
        "BTC/USDT paused"
    )
    while True:
        snapshot = json.loads(await socket.receive_from(timeout=10))
        if "reply" not in snapshot:
            break
    assert (snapshot["market"], snapshot["state"]) == ("btc-usdt", "paused")
    await socket.disconnect()
