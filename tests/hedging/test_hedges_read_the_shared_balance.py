"""A hedge reads its account's balance from the desk's shared record (bots/venues/stream_state.py)
while that is fresh, and by REST otherwise: against the binance stub through ccxt, real Redis.

The record here is written as the stream process writes it (the stream itself is in
tests/streams/test_balances_by_stream.py); what it says differs from the stub's own balance, so
each test can tell which one the hedge went by."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bots.hedging import hedger
from bots.models import Account, Hedge, HedgeOrder, Market, Venue
from bots.simulation.stub_exchanges.binance import BinanceStub
from bots.venues import stream_state as state
from bots.venues import venue_for
from tests.support.hedging_world import one_fill

pytestmark = pytest.mark.django_db
D = Decimal
ACCOUNT = ("GET", "/api/v3/account")


@pytest.fixture
def stub():
    with BinanceStub(balances={"BTC": "1", "USDT": "100000"}) as stub:
        for price in ("65010", "65020", "65030"):
            stub.seed_liquidity("sell", price, "0.5")
            stub.seed_liquidity("buy", str(130000 - int(price)), "0.5")
        yield stub


@pytest.fixture
def ccxt_market(hedging_market, stub):
    venue = Venue.objects.create(
        name="binance-stub", label="Binance (stub)", kind=Venue.CCXT, exchange_id="binance",
        options={**stub.ccxt_config(), "enableRateLimit": False, "timeout": 2000},
    )
    account = Account(venue=venue, name="Hedging bot", role=Account.HEDGING)
    account.set_credentials(stub.API_KEY, stub.SECRET)
    account.save()
    Market.objects.filter(pk=hedging_market.pk).update(hedge_account=account)
    return Market.objects.get(pk=hedging_market.pk)


def balance_reads(stub) -> int:
    return sum(1 for method, path, _ in list(stub.requests) if (method, path) == ACCOUNT)


def streamed(market, usdt: str, live: bool = True) -> None:
    """A balance as the stream process shares it: BTC 1, and `usdt`."""
    key = venue_for(market.hedge_account).balance_key
    state.save_balance(key, {"free": {"BTC": D("1"), "USDT": D(usdt)}, "used": {"BTC": D(0), "USDT": D(0)},
                             "total": {"BTC": D("1"), "USDT": D(usdt)}})
    if live:
        state.mark_balance_streamed(key)


def test_a_hedge_goes_by_the_streamed_balance_without_reading_it_by_rest(ccxt_market, stub):
    streamed(ccxt_market, "0")  # the stub has 100,000 USDT; the stream says none
    hedge = one_fill(ccxt_market, "buy", "0.02")  # the user buys: the hedge buys 0.02 BTC

    assert hedger.execute_hedge(hedge.pk).state == Hedge.WAITING

    hedge.refresh_from_db()
    assert hedge.wait_reason == Hedge.SHORT_OF_BALANCE and "USDT, has 0)" in hedge.error
    assert (balance_reads(stub), HedgeOrder.objects.count()) == (0, 0)


def test_a_hedge_with_a_fresh_streamed_balance_is_sent_without_a_rest_read(ccxt_market, stub):
    streamed(ccxt_market, "100000")
    hedge = one_fill(ccxt_market, "buy", "0.02")

    assert hedger.execute_hedge(hedge.pk).state == Hedge.FILLED
    assert balance_reads(stub) == 0


def stream_dropped(market, settings):
    settings.BALANCE_SHARE_SECONDS = 0  # and the record is older than a read by REST may serve
    streamed(market, "0", live=False)


def no_news_too_long(market, settings):
    settings.STREAM_BALANCE_STALE_SECONDS = 0  # the stream is live, but its record too old
    streamed(market, "0")


def read_before_an_order(market, settings):
    streamed(market, "0")
    # An order of the desk's on the account since: the record no longer says what is there.
    venue_for(market.hedge_account).create_order("BTC/USDT", "limit", "buy", D("0.001"), D("60000"))


@pytest.mark.parametrize("stale", [stream_dropped, no_news_too_long, read_before_an_order])
def test_a_stale_shared_balance_is_read_again_by_rest(ccxt_market, stub, settings, stale):
    stale(ccxt_market, settings)
    hedge = one_fill(ccxt_market, "buy", "0.02")
    reads = balance_reads(stub)

    assert hedger.execute_hedge(hedge.pk).state == Hedge.FILLED  # by the stub's 100,000 USDT

    assert balance_reads(stub) == reads + 1


def test_the_venue_refusing_what_a_streamed_balance_promised_fails_the_hedge(ccxt_market, stub):
    # The stream says 100,000 USDT; the stub has 100 (spent elsewhere, the news not yet in).
    streamed(ccxt_market, "100000")
    with stub.lock:
        stub.book.balances.withdraw("bot", "USDT", D("99900"))
    hedge = one_fill(ccxt_market, "buy", "0.02")

    assert hedger.execute_hedge(hedge.pk).state == Hedge.FAILED

    hedge.refresh_from_db()
    assert hedge.error.startswith("InsufficientFunds:")
    assert HedgeOrder.objects.get().state == HedgeOrder.REJECTED
    assert balance_reads(stub) == 0
