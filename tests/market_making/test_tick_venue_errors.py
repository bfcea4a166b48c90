"""Every ccxt error class against every venue call a tick makes, with the behaviour expected.

A venue's read failing, a cancel failing, or the hedge venue failing: the market is degraded
with the error named, nothing on the venue changes, and the next tick recovers. A send that
may or may not have reached the venue stays "sending" until the venue is asked for it by its
client order id. A send refused for the order itself (InvalidOrder, InsufficientFunds) is
recorded as failed and the tick goes on; a refused key (AuthenticationError) degrades.
"""

from __future__ import annotations

from decimal import Decimal

import ccxt
import pytest

from bots.market_making import quoter
from bots.models import Market, Order
from bots.venues.paper import PaperVenue
from tests.support.quoting import (
    break_venue,
    market_row,
    now_ms,
    outside_mid,
    records,
    resting,
    set_outside_mid,
    tick,
)

pytestmark = pytest.mark.django_db

TRANSIENT = [
    ccxt.RequestTimeout, ccxt.NetworkError, ccxt.DDoSProtection, ccxt.RateLimitExceeded,
    ccxt.ExchangeNotAvailable,
]
ERRORS = [*TRANSIENT, ccxt.InvalidOrder, ccxt.InsufficientFunds, ccxt.AuthenticationError]
MM_CALLS = ["fetch_my_trades", "market", "fetch_open_orders", "fetch_order", "fetch_balance", "cancel_order"]
HEDGE_CALLS = ["fetch_order_book", "market", "fetch_balance"]


@pytest.fixture
def busy_market(running_market):
    """A market whose next tick makes every venue call: one of its bids was cancelled outside
    the bot (it asks the venue how that order ended, then sends a new one), and the outside
    price rose 20 bps (it cancels the asks now under the floor and sends new ones)."""
    quoter.forget_market_rules()  # so the tick asks the venues for their rules again
    bid = next(o for o in resting(running_market) if o["side"] == "buy")
    PaperVenue(running_market.mm_account).cancel_order(bid["id"], running_market.symbol)
    set_outside_mid(running_market, outside_mid(running_market) * (1 + Decimal("20") / 10000))
    return running_market


def ids(market) -> set[str]:
    return {o["id"] for o in resting(market)}


def assert_recovered(market, now=None):
    assert tick(market, now) == Market.RUNNING
    levels = market_row(market).quote_summary["levels"]
    assert len(resting(market)) == len(levels) == 10
    assert all(Decimal(lv["edge_bps"]) >= 2 for lv in levels)


def test_the_scenario_makes_every_call(busy_market, monkeypatch):
    mm = break_venue(monkeypatch, busy_market.mm_account, "nothing", ccxt.NetworkError)
    tick(busy_market)
    assert set(MM_CALLS) | {"create_order"} <= set(mm["calls"])
    monkeypatch.undo()
    quoter.forget_market_rules()

    hedge = break_venue(monkeypatch, busy_market.hedge_account, "nothing", ccxt.NetworkError)
    tick(busy_market)
    assert set(HEDGE_CALLS) <= set(hedge["calls"])


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: e.__name__)
@pytest.mark.parametrize("call", MM_CALLS)
def test_a_failing_own_venue_call_degrades_and_changes_nothing(busy_market, monkeypatch, call, error):
    before = ids(busy_market)
    budget = break_venue(monkeypatch, busy_market.mm_account, call, error)

    assert tick(busy_market) == Market.DEGRADED

    assert budget["left"] == 0
    assert market_row(busy_market).state_reason.startswith(f"{error.__name__}: ")
    assert ids(busy_market) == before
    assert records(busy_market, Order.SENDING) == 0
    assert_recovered(busy_market)


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: e.__name__)
@pytest.mark.parametrize("call", HEDGE_CALLS)
def test_a_failing_hedge_venue_call_degrades_and_leaves_the_quotes(busy_market, monkeypatch, call, error):
    before = ids(busy_market)
    budget = break_venue(monkeypatch, busy_market.hedge_account, call, error)

    assert tick(busy_market) == Market.DEGRADED

    assert budget["left"] == 0
    assert market_row(busy_market).state_reason.startswith(f"{error.__name__}: ")
    assert ids(busy_market) == before  # the reference is seconds old: nothing is cancelled yet
    assert_recovered(busy_market)


@pytest.mark.parametrize("error", TRANSIENT, ids=lambda e: e.__name__)
def test_a_send_that_may_have_reached_the_venue_stays_sending_until_asked(busy_market, monkeypatch, error):
    break_venue(monkeypatch, busy_market.mm_account, "create_order", error)

    assert tick(busy_market) == Market.DEGRADED

    [sending] = Order.objects.filter(state=Order.SENDING)  # the one in flight
    unsent = Order.objects.filter(state=Order.FAILED, error__startswith=f"not sent: {error.__name__}")
    assert unsent.count() == Order.objects.filter(pk__gt=sending.pk).count()
    assert market_row(busy_market).state_reason.startswith(f"{error.__name__}: ")
    monkeypatch.undo()
    assert_recovered(busy_market, now_ms() + 31_000)  # the venue is asked once it has settled
    sending.refresh_from_db()
    assert (sending.state, sending.error) == (Order.FAILED, "never reached the venue")


def test_a_refused_key_fails_the_order_and_degrades(busy_market, monkeypatch):
    break_venue(monkeypatch, busy_market.mm_account, "create_order", ccxt.AuthenticationError)

    assert tick(busy_market) == Market.DEGRADED

    failed = list(Order.objects.filter(state=Order.FAILED).order_by("pk"))
    assert failed[0].error.startswith("AuthenticationError: ")
    assert all(o.error.startswith("not sent: AuthenticationError: ") for o in failed[1:])
    assert records(busy_market, Order.SENDING) == 0
    assert_recovered(busy_market)


def test_an_invalid_order_is_recorded_and_the_other_levels_still_go_out(busy_market, monkeypatch):
    break_venue(monkeypatch, busy_market.mm_account, "create_order", ccxt.InvalidOrder)

    assert tick(busy_market) == Market.RUNNING

    [failed] = Order.objects.filter(state=Order.FAILED)
    assert failed.error.startswith("InvalidOrder: ")
    assert "refused: " in market_row(busy_market).state_reason
    assert len(resting(busy_market)) == 9
    assert_recovered(busy_market)


def test_insufficient_funds_stops_that_side_for_the_tick_only(busy_market, monkeypatch):
    break_venue(monkeypatch, busy_market.mm_account, "create_order", ccxt.InsufficientFunds)

    assert tick(busy_market) == Market.RUNNING

    failed = Order.objects.filter(state=Order.FAILED).order_by("pk").first()
    assert failed.error.startswith("InsufficientFunds: ")
    held = Order.objects.filter(state=Order.FAILED, error__startswith="not sent: that side was short")
    assert {o.side for o in held} <= {failed.side}
    reason = market_row(busy_market).state_reason
    assert reason.startswith(f"short of funds: {failed.side} ")
    on_side = [o for o in resting(busy_market) if o["side"] == failed.side]
    assert len(on_side) < 5  # the rest of that side waited for the next tick
    assert_recovered(busy_market)
