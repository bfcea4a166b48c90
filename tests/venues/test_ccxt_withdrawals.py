"""Withdrawals and deposit reading through the real ccxt library against the local binance stub:
the request binance gets, Decimals back, finding a withdrawal by its client id, errors by class."""

from __future__ import annotations

from decimal import Decimal as D

import ccxt
import pytest

from bots.simulation.stub_exchanges.binance import BinanceStub
from bots.venues.ccxt_venue import CcxtVenue
from bots.venues.errors import is_transient

ADDRESS = "bc1qballastdestinationaddress0000"


@pytest.fixture
def stub():
    with BinanceStub(balances={"BTC": "1", "USDT": "10000"}) as stub:
        yield stub


@pytest.fixture
def venue(stub):
    config = stub.ccxt_config()
    # binance's wallet endpoints live under sapi, on another host than the spot API.
    config["urls"]["api"]["sapi"] = stub.base_url + "/sapi/v1"
    options = {**config, "enableRateLimit": False, "timeout": 1000}
    # The key that may withdraw (the stub refuses a trade-only key's withdrawal).
    return CcxtVenue.from_settings(
        "binance-stub",
        "binance",
        options,
        {"apiKey": stub.WITHDRAW_API_KEY, "secret": stub.WITHDRAW_SECRET},
    )


def applied(stub) -> list[dict]:
    return [
        p
        for m, path, p in stub.requests
        if (m, path) == ("POST", "/sapi/v1/capital/withdraw/apply")
    ]


def test_a_withdrawal_reaches_binance_exactly_and_is_found_by_its_client_id(venue, stub):
    result = venue.withdraw(
        "BTC", D("0.12345678"), ADDRESS, params={"network": "BTC", "withdrawOrderId": "ballast-9"}
    )

    [sent] = applied(stub)
    assert (
        sent["coin"],
        sent["amount"],
        sent["address"],
        sent["network"],
        sent["withdrawOrderId"],
    ) == ("BTC", "0.12345678", ADDRESS, "BTC", "ballast-9")
    assert result["id"] == stub.withdrawals[0]["id"]
    assert venue.fetch_balance()["BTC"]["free"] == D("1") - D("0.12345678")
    [found] = venue.fetch_withdrawals("BTC", params={"withdrawOrderId": "ballast-9"})
    assert (found["id"], found["amount"], found["status"]) == (
        result["id"],
        D("0.12345678"),
        "pending",
    )
    assert found["fee"] == {"currency": "BTC", "cost": D("0.0002")}
    assert venue.fetch_withdrawals("BTC", params={"withdrawOrderId": "ballast-10"}) == []


def test_a_tag_is_sent_as_binance_address_tag(venue, stub):
    venue.withdraw("USDT", D("20"), ADDRESS, tag="12345", params={"network": "TRX"})

    assert applied(stub)[0]["addressTag"] == "12345"


def test_a_completed_withdrawal_shows_its_hash(venue, stub):
    venue.withdraw("BTC", D("0.1"), ADDRESS)
    stub.complete_withdrawal(txid="0xfeed")

    [found] = venue.fetch_withdrawals("BTC")
    assert (found["status"], found["txid"]) == ("ok", "0xfeed")


def test_deposits_are_read_in_decimals(venue, stub):
    stub.deposit("USDT", "4999.000001", "0xdeposit")

    [deposit] = venue.fetch_deposits("USDT")
    assert (deposit["type"], deposit["status"], deposit["txid"]) == ("deposit", "ok", "0xdeposit")
    assert deposit["amount"] == D("4999.000001") and isinstance(deposit["amount"], D)


@pytest.mark.parametrize(
    ("amount", "error", "message"),
    [
        # ccxt reads errors of binance's wallet (sapi) endpoints with its generic table, where
        # -4026 is BadRequest, not the spot table's InsufficientFunds: both are permanent.
        ("5", ccxt.BadRequest, "insufficient balance"),
        ("0.0005", ccxt.BadRequest, "minimum pick-up quantity"),
    ],
)
def test_a_refused_withdrawal_raises_the_ccxt_class_binance_maps_it_to(
    venue, stub, amount, error, message
):
    with pytest.raises(error, match=message) as raised:
        venue.withdraw("BTC", D(amount), ADDRESS)
    assert not is_transient(raised.value)
    assert stub.withdrawals == []


@pytest.mark.parametrize(
    ("status", "error"),
    [(503, ccxt.ExchangeNotAvailable), (429, ccxt.DDoSProtection), (418, ccxt.DDoSProtection)],
)
def test_a_withdrawal_the_venue_did_not_take_is_a_network_error(venue, stub, status, error):
    venue.load_markets()
    stub.fail_next(status)

    with pytest.raises(error):
        venue.withdraw("BTC", D("0.1"), ADDRESS)
    assert stub.withdrawals == []


def test_the_deposit_address_is_read_with_its_tag_on_the_network_asked(venue, stub):
    stub.deposit_addresses[("USDT", "TRX")] = ("TBallastMemoAddress000000000000000", "4711")

    found = venue.fetch_deposit_address("USDT", {"network": "TRC20"})

    assert (found["currency"], found["address"], found["tag"]) == (
        "USDT",
        "TBallastMemoAddress000000000000000",
        "4711",
    )
    [(_, _, sent)] = [r for r in stub.requests if r[1] == "/sapi/v1/capital/deposit/address"]
    assert (sent["coin"], sent["network"]) == ("USDT", "TRX")  # ccxt's id for TRC20 at binance


def test_a_network_without_an_address_is_refused(venue, stub):
    with pytest.raises(ccxt.ExchangeError, match="not open for deposit"):
        venue.fetch_deposit_address("USDT", {"network": "BTC"})
