"""The exchange stubs serve HTTP/1.1 keep-alive, as real exchanges do: ccxt's session sends its
requests over one connection instead of opening one per request, and a stopped stub closes the
connections its clients keep, so it takes no request on them and no thread waits on them."""

from __future__ import annotations

import http.client
import socket

import ccxt
import pytest

from bots.simulation.stub_exchanges.binance import BinanceStub
from bots.simulation.stub_exchanges.hollaex import HollaExStub


@pytest.fixture
def stub():
    stub = BinanceStub()
    yield stub
    stub.stop()


def test_ccxt_sends_its_requests_over_one_connection(stub):
    client = ccxt.binance({**stub.ccxt_config(), "apiKey": stub.API_KEY, "secret": stub.SECRET,
                           "enableRateLimit": False})
    client.load_markets()
    client.fetch_order_book("BTC/USDT")
    client.fetch_balance()
    client.fetch_open_orders("BTC/USDT")

    assert len(stub.requests) >= 4
    assert stub.connections_accepted == 1


def test_every_answer_says_its_length_and_the_connection_stays_open(stub):
    connection = http.client.HTTPConnection("127.0.0.1", int(stub.base_url.rsplit(":", 1)[1]), timeout=5)
    try:
        for path in ("/api/v3/ping", "/api/v3/no-such-thing", "/api/v3/depth?symbol=BTCUSDT"):
            connection.request("GET", path)
            answer = connection.getresponse()
            body = answer.read()
            assert int(answer.getheader("Content-Length")) == len(body)
            assert not answer.will_close
        # A body on a request that carries its parameters in the query is read, not taken for
        # the next request.
        connection.request("DELETE", "/api/v3/ping", body=b"ignored=1")
        connection.getresponse().read()
        connection.request("GET", "/api/v3/ping")
        assert connection.getresponse().status == 200
        # The answer goes out at once, not after the client's delayed ACK of its headers.
        [served] = stub._server.open_connections()
        assert served.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        connection.close()
    assert stub.connections_accepted == 1


def test_a_fault_is_answered_on_the_kept_connection(stub):
    client = ccxt.binance({**stub.ccxt_config(), "enableRateLimit": False})
    client.load_markets()
    stub.fail_next(503)
    with pytest.raises(ccxt.ExchangeNotAvailable):
        client.fetch_order_book("BTC/USDT")
    assert client.fetch_order_book("BTC/USDT")["bids"] is not None


@pytest.mark.parametrize("kind", [BinanceStub, HollaExStub])
def test_a_stopped_stub_closes_the_connections_kept_alive(kind):
    stub = kind()
    connection = http.client.HTTPConnection("127.0.0.1", int(stub.base_url.rsplit(":", 1)[1]), timeout=5)
    try:
        connection.request("GET", "/")
        connection.getresponse().read()
        served = len(stub.requests)

        stub.stop()

        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            connection.request("GET", "/")
            connection.getresponse()
        assert len(stub.requests) == served
    finally:
        connection.close()
