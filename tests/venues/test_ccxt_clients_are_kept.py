"""One ccxt client per venue account per process, kept across venue_for calls and threads, its
markets loaded once (and again after an hour), a new one when the account's keys change."""

from __future__ import annotations

import threading

import pytest

from bots.models import Account
from bots.simulation.stub_exchanges.binance import BinanceStub
from bots.venues import clients, venue_for
from tests.support.ccxt_accounts import requests_to, stub_account

pytestmark = pytest.mark.django_db
SYMBOL = "BTC/USDT"


@pytest.fixture
def stub():
    clients.forget_clients()
    with BinanceStub() as stub:
        yield stub
    clients.forget_clients()


def test_many_venue_for_calls_share_one_client_and_load_markets_once(stub):
    account = stub_account(stub)

    venues = [venue_for(Account.objects.get(pk=account.pk)) for _ in range(20)]
    for venue in venues:
        venue.market(SYMBOL)
        venue.amount_to_precision(SYMBOL, "0.001")
        venue.fetch_order_book(SYMBOL, limit=5)

    assert len({id(venue.client) for venue in venues}) == 1
    assert requests_to(stub, "GET", "/api/v3/exchangeInfo") == 1
    assert requests_to(stub, "GET", "/api/v3/depth") == 20


@pytest.mark.django_db(transaction=True)  # the threads' own connections see the rows
def test_threads_share_the_client_and_one_of_them_loads_the_markets(stub):
    account = stub_account(stub)
    account.venue  # noqa: B018 - loaded once here, as a worker's account would be
    seen, errors = [], []

    def work():
        try:
            venue = venue_for(account)
            venue.market(SYMBOL)
            venue.fetch_balance()
            seen.append(venue.client)
        except Exception as exc:  # reported below, with the thread's error
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(seen) == 8 and len({id(client) for client in seen}) == 1
    assert requests_to(stub, "GET", "/api/v3/exchangeInfo") == 1
    assert requests_to(stub, "GET", "/api/v3/account") == 8


def test_markets_are_loaded_again_once_they_are_an_hour_old(stub):
    venue = venue_for(stub_account(stub))
    venue.market(SYMBOL)
    venue.kept._loaded_at -= clients.MARKETS_SECONDS + 1

    venue.market(SYMBOL)
    venue.market(SYMBOL)

    assert requests_to(stub, "GET", "/api/v3/exchangeInfo") == 2


def test_new_keys_make_a_new_client_and_other_accounts_have_their_own(stub):
    account = stub_account(stub)
    first = venue_for(account).client
    other = venue_for(stub_account(stub)).client

    account.set_credentials(stub.API_KEY, "another-secret")
    account.save()
    renewed = venue_for(Account.objects.get(pk=account.pk)).client

    assert other is not first
    assert renewed is not first and renewed.secret == "another-secret"
    assert venue_for(Account.objects.get(pk=account.pk)).client is renewed


def test_signed_requests_carry_the_exchanges_time(stub):
    stub.clock_offset_ms = 30_000  # the exchange's clock half a minute ahead of this host's

    balance = venue_for(stub_account(stub)).fetch_balance()

    assert balance["free"]["BTC"] == 1
    assert requests_to(stub, "GET", "/api/v3/account") == 1  # not refused first
