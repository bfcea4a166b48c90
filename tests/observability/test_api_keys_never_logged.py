"""API keys never reach a log line, at any level: a ccxt venue with planted keys trades on the
local binance stub while every logger is at DEBUG, and no captured line holds a key."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from ballast.observability.json_logs import JsonFormatter
from bots.simulation.stub_exchanges.binance import BinanceStub
from bots.venues.ccxt_venue import CcxtVenue

PLANTED_KEY = "PLANTEDKEY-7f3a9c1e5b2d4f60a8e7"
PLANTED_SECRET = "PLANTEDSECRET-2b8d6e0f4a1c9e73"


@pytest.fixture
def planted_stub(monkeypatch):
    monkeypatch.setattr(BinanceStub, "API_KEY", PLANTED_KEY)
    monkeypatch.setattr(BinanceStub, "SECRET", PLANTED_SECRET)
    with BinanceStub(balances={"BTC": "1", "USDT": "10000"}) as stub:
        yield stub


def trade_a_while(stub: BinanceStub) -> None:
    config = {**stub.ccxt_config(), "enableRateLimit": False, "timeout": 5000}
    venue = CcxtVenue.from_settings(
        "binance-stub", "binance", config, {"apiKey": PLANTED_KEY, "secret": PLANTED_SECRET}
    )
    venue.load_markets()
    venue.fetch_balance()
    venue.fetch_order_book("BTC/USDT", limit=5)
    order = venue.create_order("BTC/USDT", "limit", "buy", Decimal("0.001"), Decimal("20000"))
    venue.fetch_open_orders("BTC/USDT")
    venue.cancel_order(order["id"], "BTC/USDT")
    venue.fetch_my_trades("BTC/USDT")


def every_line(records: list[logging.LogRecord]) -> list[str]:
    plain = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    return [f(record) for record in records for f in (plain.format, JsonFormatter().format)]


def test_no_log_line_holds_a_planted_key(planted_stub, caplog, capfd):
    caplog.set_level(logging.DEBUG)  # the root and every logger not pinned: everything
    trade_a_while(planted_stub)
    lines = every_line(caplog.records) + capfd.readouterr().err.splitlines()
    assert len(planted_stub.requests) > 5  # the venue did talk to the stub, keys and all
    leaks = [line for line in lines if PLANTED_KEY in line or PLANTED_SECRET in line]
    assert leaks == []


def test_without_the_pin_ccxt_would_log_the_key(planted_stub, caplog):
    # What the pin on the ccxt logger (settings.LOGGING) keeps out: its DEBUG request lines.
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="ccxt")
    trade_a_while(planted_stub)
    assert any(PLANTED_KEY in line for line in every_line(caplog.records))


def test_the_pin_holds_whatever_log_level_says():
    for name in ("ccxt", "ccxt.base.exchange", "urllib3", "aiohttp"):
        assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING, name
