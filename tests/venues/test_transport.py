"""The kept ccxt clients' HTTP transport (bots/venues/transport.py) answers ccxt as requests'
Session does: the same results, and for every way a request can fail the same ccxt error. Each
case runs twice against the binance stub (or a TLS server of its own), through ccxt, once with
each transport."""

from __future__ import annotations

import datetime
import gzip
import http.server
import socket
import ssl
import threading

import ccxt
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bots.simulation.stub_exchanges.binance import BinanceStub
from bots.venues import transport
from bots.venues.clients import build_client

ORDER = "POST /api/v3/order"
SLOW_MS = 300


@pytest.fixture
def stub():
    stub = BinanceStub(balances={"BTC": "1", "USDT": "100000"})
    stub.seed_liquidity("sell", "65010", "0.5")
    yield stub
    stub.stop()


def clients(config: dict) -> dict[str, ccxt.Exchange]:
    """A client on each transport, alike but for it."""
    options = {**config, "apiKey": BinanceStub.API_KEY, "secret": BinanceStub.SECRET, "timeout": SLOW_MS}
    lean = build_client("stub", "binance", options, None)
    assert isinstance(lean.session, transport.Session)
    full = build_client("stub", "binance", options, None)
    full.session = requests.Session()
    return {"transport": lean, "requests": full}


def outcome(call) -> str:
    try:
        answer = call()
    except ccxt.BaseError as exc:
        return type(exc).__name__
    return f"answer {answer['status']} {answer['amount']} at {answer['price']}"


def both(stub, fault, call) -> dict[str, str]:
    found = {}
    for kind, client in clients(stub.ccxt_config()).items():
        client.load_markets()
        fault()
        found[kind] = outcome(lambda c=client: call(c))
    return found


def place(client):
    return client.create_order("BTC/USDT", "limit", "buy", 0.01, 64000)


@pytest.mark.parametrize("fault, expected", [
    pytest.param(lambda stub: None, "answer open 0.01 at 64000.0", id="answered"),
    pytest.param(lambda stub: stub.fail_next(
        400, '{"code": -2010, "msg": "Account has insufficient balance for requested action."}', only=ORDER
    ), "InsufficientFunds", id="insufficient funds"),
    pytest.param(lambda stub: stub.fail_next(429, only=ORDER), "DDoSProtection", id="rate limited"),
    pytest.param(lambda stub: stub.fail_next(503, only=ORDER), "ExchangeNotAvailable", id="unavailable"),
    pytest.param(lambda stub: stub.fail_next(502, only=ORDER), "ExchangeNotAvailable", id="a proxy's html page"),
    pytest.param(lambda stub: stub.fail_next(200, "<html>maintenance</html>", only=ORDER), "BadResponse",
                 id="html with 200"),
    pytest.param(lambda stub: stub.delay_next(SLOW_MS / 1000 * 3, only=ORDER), "RequestTimeout", id="too slow"),
])
def test_each_answer_is_the_same_to_ccxt(stub, fault, expected):
    assert both(stub, lambda: fault(stub), place) == {"transport": expected, "requests": expected}


def test_a_redirect_is_an_error_where_requests_gave_ccxt_an_empty_answer(stub):
    """An exchange's API answers where it is asked. requests, given a 3xx without a Location,
    hands its empty body to ccxt, which parses an order of nothing; the transport says so."""
    found = both(stub, lambda: stub.fail_next(301, "", only=ORDER), place)
    assert found == {"transport": "ExchangeError", "requests": "answer None None at None"}


def test_an_exchange_gone_is_the_same_network_error(stub):
    config = stub.ccxt_config()
    found = {}
    for kind, client in clients(config).items():
        client.load_markets()
        found[kind] = client
    stub.stop()  # refused from now on; the kept connections are closed too
    assert {kind: outcome(lambda c=c: place(c)) for kind, c in found.items()} == {
        "transport": "NetworkError", "requests": "NetworkError",
    }


def test_a_connection_dropped_mid_answer_is_the_same_network_error(stub):
    """A server that takes the request and closes without a whole answer."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"id\"")
            connection.close()

    threading.Thread(target=serve, daemon=True).start()
    try:
        config = stub.ccxt_config()
        answers = {}
        for kind, client in clients(config).items():
            client.load_markets()
            client.urls["api"]["private"] = f"http://127.0.0.1:{port}/api/v3"
            answers[kind] = outcome(lambda c=client: place(c))
    finally:
        listener.close()
    assert answers["transport"] == answers["requests"] == "NetworkError", answers


def test_a_client_that_takes_proxies_from_the_environment_keeps_requests(stub):
    client = build_client("stub", "binance", {**stub.ccxt_config(), "requests_trust_env": True}, None)
    assert isinstance(client.session, requests.Session)


@pytest.fixture
def tls_server(tmp_path):
    """An HTTPS server on loopback whose certificate no authority signed: it answers {} to all."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://localhost:{server.server_address[1]}/api/v3/ping"
    server.shutdown()
    server.server_close()


def test_over_tls_a_certificate_no_authority_signed_is_refused_as_through_requests(tls_server):
    found = {}
    for kind, client in clients({}).items():
        try:
            client.fetch(tls_server)
        except ccxt.BaseError as exc:
            cause = exc.__cause__  # requests' error, which ccxt's names the request
            found[kind] = (type(exc).__name__, type(cause).__name__, "CERTIFICATE_VERIFY_FAILED" in str(cause))
    assert found == {"transport": ("NetworkError", "SSLError", True), "requests": ("NetworkError", "SSLError", True)}


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")  # what is asked here
def test_over_tls_a_client_told_not_to_verify_is_answered(tls_server):
    for kind, client in clients({}).items():
        client.verify = False  # ccxt's switch, for a testnet behind a self-signed certificate
        assert client.fetch(tls_server) == {}, kind


def test_a_compressed_answer_is_read_as_through_requests():
    """Exchanges compress their answers when the client says it reads gzip, as both do."""
    asked = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            body = b'{"serverTime": 1765000000000}'
            asked.append(self.headers.get("Accept-Encoding", ""))
            if "gzip" in asked[-1]:
                body = gzip.compress(body)
                self.send_response(200)
                self.send_header("Content-Encoding", "gzip")
            else:
                self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/api/v3/time"
        answers = {kind: client.fetch(url) for kind, client in clients({}).items()}
    finally:
        server.shutdown()
        server.server_close()
    assert len(asked) == 2 and all("gzip" in encodings for encodings in asked), asked  # both compressed
    assert answers == {"transport": {"serverTime": 1765000000000}, "requests": {"serverTime": 1765000000000}}
