"""Which pages may open the desk's websockets: the desk's own origin, exactly (scheme, host and
port), or one named in CSRF_TRUSTED_ORIGINS. Channels' AllowedHostsOriginValidator compares the
host alone, so a page on any port of an allowed host (http://localhost:9999 beside the desk on
:8000) could open a socket with the operator's session cookie."""

from __future__ import annotations

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(scheme: str, netloc: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) with the default port filled in, or None when it does not parse."""
    try:
        parts = urlsplit(f"{scheme}://{netloc}")
        port = parts.port or DEFAULT_PORTS.get(scheme)
    except ValueError:
        return None
    if not parts.hostname or port is None or parts.path or parts.query or parts.username:
        return None
    return scheme, parts.hostname.lower(), port


def _parsed(origin: str) -> tuple[str, str, int] | None:
    scheme, _, netloc = origin.partition("://")
    return _origin(scheme.lower(), netloc) if netloc else None


def _is_secure(scope, headers: dict[bytes, str]) -> bool:
    if scope.get("scheme") in ("wss", "https"):
        return True
    # Behind a proxy that ends TLS, the same header Django trusts for request.is_secure().
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy_header:
        name, value = proxy_header
        header = name.removeprefix("HTTP_").replace("_", "-").lower().encode("latin1")
        return headers.get(header, "").split(",")[0].strip() == value
    return False


def origin_allowed(scope) -> bool:
    headers = {name: value.decode("latin1") for name, value in scope.get("headers", [])}
    origin = headers.get(b"origin")
    if not origin:
        return False
    parsed = _parsed(origin)
    if parsed is None:
        return False
    if any(_parsed(trusted) == parsed for trusted in settings.CSRF_TRUSTED_ORIGINS):
        return True
    host = headers.get(b"host", "")
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return False
    return _origin("https" if _is_secure(scope, headers) else "http", host) == parsed


class SameOriginValidator:
    """ASGI middleware for websockets: refuses the handshake (403) unless origin_allowed."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not origin_allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
