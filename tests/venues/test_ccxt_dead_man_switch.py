"""The ccxt adapter's dead man's switch: it says what ccxt's `has` says, and arms the exchange's
own cancel-all-after through real ccxt over loopback (Kraken's REST API, the little of it the
call needs; binance, the suite's main stub, has no such switch)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import ccxt
import pytest

from bots.simulation.stub_exchanges.binance import BinanceStub
from bots.venues.ccxt_venue import CcxtVenue


class KrakenStub:
    """Kraken's asset lists (empty) and its CancelAllOrdersAfter, recording each timeout."""

    def __init__(self):
        self.timeouts: list[str] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                self.answer({"error": [], "result": {}})  # /0/public/Assets and AssetPairs

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                if self.path != "/0/private/CancelAllOrdersAfter":
                    return self.answer({"error": ["EGeneral:Unknown method"], "result": {}})
                stub.timeouts.append(dict(parse_qsl(body))["timeout"])
                self.answer({"error": [], "result": {
                    "currentTime": "2026-11-21T10:00:00Z", "triggerTime": "2026-11-21T10:00:10Z",
                }})

            def answer(self, payload: dict):
                body = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def kraken():
    with KrakenStub() as stub:
        options = {"urls": {"api": {"public": stub.url, "private": stub.url}}, "enableRateLimit": False}
        venue = CcxtVenue.from_settings("kraken-stub", "kraken", options, {"apiKey": "k", "secret": "c2VjcmV0"})
        yield stub, venue


def test_it_arms_and_disarms_the_exchanges_own_switch(kraken):
    stub, venue = kraken

    assert venue.has["cancelAllOrdersAfter"]
    answer = venue.cancel_all_orders_after(10_000)
    venue.cancel_all_orders_after(0)

    assert stub.timeouts == ["10", "0"]  # Kraken counts in seconds; ccxt converts
    assert answer["result"]["triggerTime"] == "2026-11-21T10:00:10Z"


def test_an_exchange_without_one_says_so_and_refuses_it():
    with BinanceStub() as stub:
        config = {**stub.ccxt_config(), "enableRateLimit": False, "timeout": 1000}
        venue = CcxtVenue.from_settings("binance-stub", "binance", config, {"apiKey": "k", "secret": "s"})

        assert not venue.has.get("cancelAllOrdersAfter")
        with pytest.raises(ccxt.NotSupported):
            venue.cancel_all_orders_after(10_000)
        assert stub.requests == []  # nothing was sent
