"""The HTTP transport of the kept ccxt clients: requests' Session interface, as ccxt's sync
`fetch` uses it, over urllib3 alone.

A tick that replaces its quotes makes about sixteen requests, and the stream and the ticks
worker share two cores with them. Measured against the binance stub, one order request costs the
sending process 1.2-1.5 ms of CPU through `requests` and 0.74-0.99 ms through this
(bench/order_request_cpu.py): `requests` prepares, merges settings, cookies and hooks on every
call around the urllib3 pool that does the work. ccxt's `fetch` reads only what is kept here:
the status, its reason, the headers and the text, and `raise_for_status`; its errors are
requests' own classes, so ccxt maps them to its own as before (a timeout to RequestTimeout, a
refused or dropped connection to NetworkError, an HTTP error through the exchange's error codes;
tests/venues/test_transport.py).

What ccxt may ask and this does not do goes to a `requests.Session` instead: proxies and
multipart bodies; a client told to take proxies from the environment (`trust_env`) keeps
requests' Session altogether (bots/venues/clients.py). No cookies are kept (ccxt clears the
session's before every request) and no redirect is followed: an exchange's API answers where it
is asked, and a 3xx is an error here.
"""

from __future__ import annotations

import certifi
import requests
import urllib3
from urllib3 import exceptions as http_errors

# Connections kept per host: as many requests as a tick sends at once (VENUE_REQUESTS_AT_ONCE is
# at most 16), more than that are opened and closed after use.
CONNECTIONS_PER_HOST = 16


class Answer:
    """What ccxt's `fetch` reads of requests' Response."""

    __slots__ = ("status_code", "reason", "headers", "text", "encoding", "url")

    def __init__(self, url: str, status: int, reason: str | None, headers, body: bytes):
        self.url, self.status_code, self.reason, self.headers = url, status, reason or "", headers
        self.text = body.decode("utf-8", errors="replace")
        self.encoding = "utf-8"

    def raise_for_status(self) -> None:
        if self.status_code >= 300:
            kind = "Redirection" if self.status_code < 400 else "Client Error" if self.status_code < 500 else "Server Error"
            raise requests.HTTPError(f"{self.status_code} {kind}: {self.reason} for url: {self.url}")


def _as_requests(exc: BaseException) -> requests.RequestException:
    """urllib3's error as requests' HTTPAdapter reports it (a refused connection is a
    NewConnectionError, which urllib3 counts among connect timeouts and requests does not)."""
    if isinstance(exc, http_errors.NewConnectionError):
        return requests.ConnectionError(str(exc))
    if isinstance(exc, http_errors.ConnectTimeoutError):
        return requests.ConnectTimeout(str(exc))
    if isinstance(exc, http_errors.ReadTimeoutError):
        return requests.ReadTimeout(str(exc))
    if isinstance(exc, http_errors.SSLError):
        return requests.exceptions.SSLError(str(exc))
    return requests.ConnectionError(f"{type(exc).__name__}: {exc}")  # refused, reset, dropped mid-answer


class Session:
    """requests.Session's `request`, `headers` and `cookies`, as ccxt uses them."""

    def __init__(self):
        self.headers = requests.utils.default_headers()
        self.cookies = requests.cookies.RequestsCookieJar()
        self._pools = {
            True: urllib3.PoolManager(maxsize=CONNECTIONS_PER_HOST, cert_reqs="CERT_REQUIRED", ca_certs=certifi.where()),
            False: urllib3.PoolManager(maxsize=CONNECTIONS_PER_HOST, cert_reqs="CERT_NONE"),
        }
        self._full: requests.Session | None = None

    def request(self, method: str, url: str, data=None, headers=None, timeout=None, proxies=None,
                verify=True, files=None) -> Answer | requests.Response:
        if proxies or files:
            return self.full().request(method, url, data=data, headers=headers, timeout=timeout,
                                       proxies=proxies, verify=verify, files=files)
        pool = self._pools[bool(verify)]
        try:
            answer = pool.request(
                method, url, body=data, headers=headers, timeout=urllib3.Timeout(connect=timeout, read=timeout),
                retries=False, redirect=False, preload_content=True,
            )
        except http_errors.MaxRetryError as exc:  # what urllib3 wraps, if it does
            raise _as_requests(exc.reason or exc) from exc
        except (http_errors.HTTPError, OSError) as exc:
            raise _as_requests(exc) from exc
        return Answer(url, answer.status, answer.reason, answer.headers, answer.data)

    def full(self) -> requests.Session:
        """requests' own Session, for what this one leaves to it."""
        if self._full is None:
            self._full = requests.Session()
        return self._full

    def close(self) -> None:
        for pool in self._pools.values():
            pool.clear()
        if self._full is not None:
            self._full.close()
