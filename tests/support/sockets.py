"""Talking to the desk's websockets as a logged-in user, through Channels' communicator."""

from __future__ import annotations

import json

from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from ballast.asgi import application
from tests.support.users import PASSWORD

# A browser's page on the desk sends both; the origin must be the desk's own, port included.
ORIGIN = (b"origin", b"http://127.0.0.1")
HOST = (b"host", b"127.0.0.1")


def session_cookie(user) -> bytes:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def socket_for(user, market):
    """A market page's websocket, connected as `user`."""
    cookie = await sync_to_async(session_cookie)(user)
    communicator = WebsocketCommunicator(
        application, f"/ws/markets/{market.slug}/", headers=[ORIGIN, HOST, (b"cookie", cookie)]
    )
    assert (await communicator.connect(timeout=10))[0]
    return communicator


async def ask(communicator, text: str) -> dict:
    """Send a command over the socket and return its reply."""
    await communicator.send_to(text_data=text)
    while True:  # snapshots may arrive in between
        message = json.loads(await communicator.receive_from(timeout=10))
        if "reply" in message:
            return message["reply"]
