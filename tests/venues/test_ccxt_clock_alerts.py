"""A venue that refuses this host's request times (InvalidNonce) is measured again and retried
once; when that fails too, an alert names the venue and the offset, the error is not retried as
transient, and the alert resolves once requests succeed. A clock far off raises it too."""

from __future__ import annotations

import re

import ccxt
import pytest

from bots.models import Alert
from bots.simulation.stub_exchanges.binance import BinanceStub
from bots.venues import clients, venue_for
from bots.venues.errors import is_transient
from tests.support.ccxt_accounts import requests_to, stub_account

pytestmark = pytest.mark.django_db
REFUSED = '{"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}'


@pytest.fixture
def stub():
    clients.forget_clients()
    with BinanceStub() as stub:
        yield stub
    clients.forget_clients()


def clock_alerts() -> list[Alert]:
    return list(Alert.objects.filter(key="clock-binance-stub"))


def test_a_clock_that_jumped_is_measured_again_and_the_request_goes_through(stub):
    venue = venue_for(stub_account(stub))
    venue.load_markets()
    stub.clock_offset_ms = 20_000  # the host's clock stepped back 20 s after markets loaded

    balance = venue.fetch_balance()

    assert balance["free"]["BTC"] == 1
    assert requests_to(stub, "GET", "/api/v3/account") == 2
    assert requests_to(stub, "GET", "/api/v3/time") == 2  # as markets loaded, and once more
    assert clock_alerts() == []


def test_a_refusal_that_outlives_the_resync_raises_one_alert_and_no_retry_loop(stub):
    venue = venue_for(stub_account(stub))
    venue.load_markets()
    stub.fail_next(400, REFUSED, count=4, only="GET /api/v3/account")

    for _ in range(2):
        with pytest.raises(ccxt.InvalidNonce) as refused:
            venue.fetch_balance()

    assert not is_transient(refused.value)
    assert requests_to(stub, "GET", "/api/v3/account") == 4  # each call: once, and once resynced
    [alert] = clock_alerts()
    assert alert.state == Alert.OPEN and alert.kind == Alert.VENUE_ERROR
    assert "Binance (binance-stub) refuses this host's request times" in alert.message
    assert re.search(r"this host's clock: \d+ ms (ahead of|behind) the exchange's", alert.message)
    assert "NTP" in alert.message

    venue.fetch_balance()

    alert.refresh_from_db()
    assert alert.state == Alert.RESOLVED


def test_a_host_clock_far_off_the_exchanges_raises_the_alert_with_the_offset(stub):
    stub.clock_offset_ms = -5_000  # this host is five seconds ahead of the exchange

    venue = venue_for(stub_account(stub))
    venue.fetch_balance()  # corrected: signed requests carry the exchange's time

    [alert] = clock_alerts()
    assert alert.state == Alert.OPEN
    assert "Binance (binance-stub)" in alert.message and "ms ahead of" in alert.message
    offset = int(alert.message.split("clock is ")[1].split(" ms")[0])
    assert 4_900 <= offset <= 5_100
