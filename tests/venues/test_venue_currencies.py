"""The venue contract for withdrawal terms: every venue's fetch_currencies gives the same answer.

"paper" reads its WithdrawalNetwork rows; "ccxt" is real ccxt's binance class against the local
binance stub (capital/config/getall, with options.fetchCurrencies on, as binance's default is);
"hollaex" is ccxt's hollaex class against the HollaEx Kit stub (/constants), where a coin on one
chain (btc) lists no networks and minimums and withdrawal states are per coin: the adapter fills
those gaps (bots.venues.ccxt_venue.with_networks). All three withdraw BTC over BTC (fee 0.0002,
minimum 0.001) and USDT over TRC20 (fee 1, minimum 10).
"""

from __future__ import annotations

from decimal import Decimal

import ccxt
import pytest

from bots.simulation.stub_exchanges.binance import BinanceStub
from bots.simulation.stub_exchanges.hollaex import HollaExStub
from bots.venues.ccxt_venue import CcxtVenue

D = Decimal


def paper_venue():
    from bots.models import Account, Venue, WithdrawalNetwork
    from bots.venues.paper import PaperVenue

    venue = Venue.objects.create(name="paper-x", label="Paper X", kind=Venue.PAPER)
    WithdrawalNetwork.objects.create(
        venue=venue, asset="BTC", network="BTC", fee=D("0.0002"), minimum=D("0.001")
    )
    WithdrawalNetwork.objects.create(
        venue=venue, asset="USDT", network="TRC20", fee=D("1"), minimum=D("10")
    )
    return PaperVenue(Account.objects.create(venue=venue, name="bot", role=Account.MARKET_MAKING))


def ccxt_venue(stub, exchange_id: str, fetch_currencies: bool = True) -> CcxtVenue:
    options = {**stub.ccxt_config(), "enableRateLimit": False, "timeout": 2000}
    if exchange_id == "binance":
        options["options"] = {**options["options"], "fetchCurrencies": fetch_currencies}
    credentials = {"apiKey": stub.API_KEY, "secret": stub.SECRET}
    return CcxtVenue.from_settings(f"{exchange_id}-stub", exchange_id, options, credentials)


@pytest.fixture(params=[pytest.param("paper", marks=pytest.mark.django_db), "ccxt", "hollaex"])
def subject(request):
    """(venue, stub or None, a function closing the venue's BTC network on the exchange)."""
    if request.param == "paper":
        from bots.models import WithdrawalNetwork

        def close():
            WithdrawalNetwork.objects.filter(asset="BTC").update(enabled=False)

        yield paper_venue(), close
        return
    if request.param == "ccxt":
        with BinanceStub() as stub:
            yield ccxt_venue(stub, "binance"), lambda: stub.networks["BTC"]["BTC"].update(
                withdrawEnable=False
            )
        return
    with HollaExStub() as stub:
        yield ccxt_venue(stub, "hollaex"), lambda: stub.coin_terms["btc"].update(
            allow_withdrawal=False
        )


def network(venue, code: str, name: str) -> dict:
    return venue.fetch_currencies()[code]["networks"][name]


def test_each_network_has_its_fee_minimum_and_state_as_decimals(subject):
    venue, _ = subject

    btc, usdt = network(venue, "BTC", "BTC"), network(venue, "USDT", "TRC20")

    assert (btc["fee"], btc["limits"]["withdraw"]["min"], btc["withdraw"]) == (
        D("0.0002"), D("0.001"), True
    )
    assert (usdt["fee"], usdt["limits"]["withdraw"]["min"], usdt["withdraw"]) == (
        D("1"), D("10"), True
    )
    assert all(isinstance(v, Decimal) for v in (btc["fee"], usdt["limits"]["withdraw"]["min"]))


def test_a_network_closed_for_withdrawals_says_so(subject):
    venue, close = subject

    close()

    assert network(venue, "BTC", "BTC")["withdraw"] is False
    assert network(venue, "USDT", "TRC20")["withdraw"] is True


def test_currencies_are_read_from_the_exchange_each_time():
    with BinanceStub() as stub:
        venue = ccxt_venue(stub, "binance")
        assert network(venue, "BTC", "BTC")["fee"] == D("0.0002")

        stub.networks["BTC"]["BTC"]["withdrawFee"] = "0.0005"

        assert network(venue, "BTC", "BTC")["fee"] == D("0.0005")


def test_hollaex_lists_each_network_of_a_token_under_ccxt_names():
    with HollaExStub() as stub:
        usdt = ccxt_venue(stub, "hollaex").fetch_currencies()["USDT"]["networks"]

    assert {name: n["fee"] for name, n in usdt.items()} == {"TRC20": D("1"), "ERC20": D("5")}
    assert {n["limits"]["withdraw"]["min"] for n in usdt.values()} == {D("10")}


def test_binance_without_currencies_turned_on_says_what_is_missing():
    with BinanceStub() as stub:
        venue = ccxt_venue(stub, "binance", fetch_currencies=False)

        with pytest.raises(ccxt.NotSupported, match="options.fetchCurrencies"):
            venue.fetch_currencies()
