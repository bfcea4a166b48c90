"""The desk's websockets open only for a page of the desk's own origin, compared exactly: scheme,
host and port (a page on another port of an allowed host is another origin), or an origin named
in CSRF_TRUSTED_ORIGINS; behind TLS, https as the proxy header says."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from ballast.asgi import application
from tests.support.sockets import session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


async def opens(user, origin: str | None, host: str = "localhost:8000", extra=()) -> bool:
    headers = [(b"host", host.encode()), (b"cookie", await sync_to_async(session_cookie)(user))]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    communicator = WebsocketCommunicator(application, "/ws/overview/", headers=[*headers, *extra])
    connected, _ = await communicator.connect(timeout=10)
    await communicator.disconnect()
    return connected


async def test_the_desks_own_origin_opens(viewer):
    assert await opens(viewer, "http://localhost:8000")
    assert await opens(viewer, "http://LOCALHOST:8000")
    assert await opens(viewer, "http://127.0.0.1", host="127.0.0.1:80")


@pytest.mark.parametrize(
    "origin",
    [
        "http://localhost:9999",  # another port of the same host: another origin
        "http://localhost",
        "https://localhost:8000",
        "http://evil.example:8000",
        "http://localhost.evil.example:8000",
        "null",
        "",
        None,
    ],
)
async def test_any_other_origin_is_refused(viewer, origin):
    assert not await opens(viewer, origin)


async def test_a_host_not_allowed_is_refused_even_with_a_matching_origin(viewer):
    assert not await opens(viewer, "http://desk.evil.example", host="desk.evil.example")


async def test_an_origin_in_csrf_trusted_origins_opens(viewer, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://desk.example.com"]

    assert await opens(viewer, "https://desk.example.com")
    assert not await opens(viewer, "https://desk.example.com:8443")


async def test_behind_tls_the_proxy_header_makes_the_origin_https(viewer, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    proxied = [(b"x-forwarded-proto", b"https")]

    assert await opens(viewer, "https://localhost", host="localhost", extra=proxied)
    assert not await opens(viewer, "http://localhost", host="localhost", extra=proxied)
    assert not await opens(viewer, "https://localhost", host="localhost")
