"""What a venue row may say to ccxt: an exchange id ccxt knows, and options from a known set.

A venue's options go into the ccxt constructor next to its API keys, so they are kept to what
Ballast needs: `timeout`, `enableRateLimit`, a few of ccxt's per-exchange `options`, and `urls`
only as the documented override for local stubs and testnets, pointing at a host listed in
BALLAST_VENUE_URL_HOSTS (loopback by default). No `verbose` (it logs every signed request),
no `headers`, no `proxy`: anything else is refused with the list of what is accepted.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings

TOP_LEVEL = frozenset({"timeout", "enableRateLimit", "options", "urls"})
# ccxt's per-exchange options that Ballast or its stubs set: markets to load, what to skip while
# loading them, the client order ids, the signed requests' window and clock.
CCXT_OPTIONS = frozenset({
    "fetchMarkets", "fetchCurrencies", "fetchMargins", "clientOrderIds", "recvWindow",
    "adjustForTimeDifference", "defaultType",
})


class InvalidVenue(ValueError):
    """A venue setting ccxt or Ballast refuses; the message says what to do."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def check_exchange_id(exchange_id: str) -> str:
    import ccxt  # a second of import: only when a venue is checked, never in every web process

    if exchange_id not in ccxt.exchanges:
        near = [e for e in ccxt.exchanges if e[:3] == exchange_id[:3]][:5]
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        raise InvalidVenue(
            "exchange_id",
            f"{exchange_id!r} is not an exchange ccxt {ccxt.__version__} knows{hint}",
        )
    return exchange_id


def check_sandbox(exchange_id: str, sandbox: bool) -> None:
    """Sandbox mode needs a test environment ccxt knows for the exchange."""
    import ccxt  # only when a venue is checked (see check_exchange_id)

    if sandbox and not getattr(ccxt, exchange_id)().urls.get("test"):
        raise InvalidVenue("sandbox", f"ccxt knows no testnet for {exchange_id}")


def _urls(value, path: str = "urls") -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _urls(item, f"{path}.{key}")
        return
    if not isinstance(value, str):
        raise InvalidVenue("options", f"{path} must be a URL")
    parts = urlsplit(value)
    allowed = settings.VENUE_URL_HOSTS
    if parts.scheme not in ("http", "https", "ws", "wss") or parts.hostname not in allowed:
        raise InvalidVenue(
            "options",
            f"{path} points at {parts.hostname or value!r}: a URL override may only point at "
            f"{', '.join(sorted(allowed))} (BALLAST_VENUE_URL_HOSTS), for stubs and testnets",
        )


def check_options(options) -> dict:
    """The options as given, or InvalidVenue naming the first thing refused."""
    if not isinstance(options, dict):
        raise InvalidVenue("options", "Options must be a JSON object")
    unknown = sorted(set(options) - TOP_LEVEL)
    if unknown:
        raise InvalidVenue(
            "options",
            f"Option {unknown[0]!r} is not accepted; accepted: {', '.join(sorted(TOP_LEVEL))}",
        )
    timeout = options.get("timeout", 10000)
    if not isinstance(timeout, int) or isinstance(timeout, bool) or not 100 <= timeout <= 60000:
        raise InvalidVenue("options", "timeout must be a whole number of ms, 100 to 60000")
    if not isinstance(options.get("enableRateLimit", True), bool):
        raise InvalidVenue("options", "enableRateLimit must be true or false")
    inner = options.get("options", {})
    if not isinstance(inner, dict):
        raise InvalidVenue("options", "options.options must be a JSON object")
    unknown = sorted(set(inner) - CCXT_OPTIONS)
    if unknown:
        raise InvalidVenue(
            "options",
            f"ccxt option {unknown[0]!r} is not accepted; accepted: {', '.join(sorted(CCXT_OPTIONS))}",
        )
    if "urls" in options:
        urls = options["urls"]
        if not isinstance(urls, dict) or set(urls) != {"api"}:
            raise InvalidVenue("options", 'A URL override is {"urls": {"api": ...}} and nothing else')
        _urls(urls["api"], "urls.api")
    return options
